"""Files a command writes whole: finished under a partial name, then given their own.

Pure: standard library only.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

LINK_UNSUPPORTED_ERRNOS = frozenset({errno.EPERM, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK})
"""What link() answers on file systems without hard links (FAT, some network and FUSE mounts)."""


def publish_new(partial: Path, final: Path) -> None:
    """Give the finished file `partial` the name `final`, never replacing a file of that name
    (FileExistsError, `partial` left for the caller to remove). A rename would replace a `final`
    made after the caller checked it was absent; a hard link refuses to. Where the file system
    has no hard links, the check and a rename are the best there is."""
    try:
        os.link(partial, final)
    except OSError as error:
        if error.errno not in LINK_UNSUPPORTED_ERRNOS:
            raise
        if final.exists():
            raise FileExistsError(errno.EEXIST, "file exists", str(final)) from error
        os.replace(partial, final)
    else:
        partial.unlink()
    directory = os.open(final.parent, os.O_RDONLY)
    try:
        os.fsync(directory)  # the new name survives a crash
    finally:
        os.close(directory)
