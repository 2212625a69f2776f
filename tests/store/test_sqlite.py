"""The SQLite store's settings: the page size of new files and the one-pass page cache."""

from __future__ import annotations

from pathlib import Path

from carbonex.store import open_store
from carbonex.store.sqlite import (
    CACHE_SIZE_KIB,
    ONE_PASS_CACHE_SIZE_KIB,
    PAGE_SIZE_BYTES,
    SqliteStore,
)


def _sqlite_store(path: Path) -> SqliteStore:
    store = open_store(str(path))
    if not isinstance(store, SqliteStore):
        raise TypeError(f"expected a SQLite store, got {type(store).__name__}")
    return store


def test_new_files_are_made_with_large_pages(tmp_path: Path) -> None:
    store = _sqlite_store(tmp_path / "new.db")
    try:
        assert store.query("PRAGMA page_size") == [(PAGE_SIZE_BYTES,)]
    finally:
        store.close()


def test_a_connection_reading_once_through_keeps_a_small_page_cache(tmp_path: Path) -> None:
    store = _sqlite_store(tmp_path / "scan.db")
    try:
        assert store.query("PRAGMA cache_size") == [(-CACHE_SIZE_KIB,)]
        store.read_once_through()
        assert store.query("PRAGMA cache_size") == [(-ONE_PASS_CACHE_SIZE_KIB,)]
        assert ONE_PASS_CACHE_SIZE_KIB < CACHE_SIZE_KIB
    finally:
        store.close()
