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
    sync_directory(final.parent)


def sync_directory(directory: Path) -> None:
    """The directory's entries reach the disk: a name just given survives a crash."""
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
