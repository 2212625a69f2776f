"""Copies of the shipped catalog data for a test to break, and the loaders that read them."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from carbonex.catalog import CatalogError, load_catalog
from carbonex.catalog.inclusion import load_inclusion_catalog
from carbonex.catalog.loader import DATA_DIR
from carbonex.catalog.standards import load_project_catalog
from carbonex.service.policy import load_policy

LOADERS: dict[str, Callable[[Path], Any]] = {
    "base": load_catalog,
    "project": load_project_catalog,
    "inclusion": load_inclusion_catalog,
    "policy": load_policy,
}
"""Each loader by the name a test gives it."""


def shipped_copy(tmp_path: Path) -> Path:
    """A copy of the shipped data directory."""
    directory = tmp_path / "data"
    shutil.copytree(DATA_DIR, directory)
    return directory


def edited(tmp_path: Path, name: str, old: str | None, new: str) -> Path:
    """A copy of the shipped data with `old` replaced by `new` in file `name` (appended when
    `old` is None)."""
    directory = shipped_copy(tmp_path)
    path = directory / name
    text = path.read_text(encoding="utf-8")
    if old is None:
        text += new
    else:
        assert old in text, f"{old!r} not in {name}"
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return directory


def refusal(loader: str, directory: Path) -> str:
    """The message of the CatalogError the loader raises on `directory`."""
    with pytest.raises(CatalogError) as raised:
        LOADERS[loader](directory)
    return str(raised.value)


def assert_refused(loader: str, directory: Path, *words: str) -> None:
    message = refusal(loader, directory)
    for word in words:
        assert word in message, message
