"""A finished file takes its name without ever replacing one made meanwhile."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from carbonex.files import publish_new


def finished(tmp_path: Path) -> Path:
    partial = tmp_path / "export.jsonl.partial"
    partial.write_bytes(b"every entry\n")
    return partial


def test_a_finished_file_takes_its_name_and_the_partial_name_goes(tmp_path: Path) -> None:
    final = tmp_path / "export.jsonl"
    publish_new(finished(tmp_path), final)
    assert final.read_bytes() == b"every entry\n"
    assert not (tmp_path / "export.jsonl.partial").exists()


def test_a_file_made_meanwhile_under_the_name_is_never_replaced(tmp_path: Path) -> None:
    final = tmp_path / "export.jsonl"
    final.write_bytes(b"someone else's")
    with pytest.raises(FileExistsError):
        publish_new(finished(tmp_path), final)
    assert final.read_bytes() == b"someone else's"


def test_without_hard_links_a_rename_still_refuses_an_existing_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_links(source: Path, target: Path) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    final = tmp_path / "export.jsonl"
    publish_new(finished(tmp_path), final)
    assert final.read_bytes() == b"every entry\n"
    taken = tmp_path / "other.jsonl"
    taken.write_bytes(b"kept")
    with pytest.raises(FileExistsError):
        publish_new(finished(tmp_path), taken)
    assert taken.read_bytes() == b"kept"
