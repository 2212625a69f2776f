"""The SQLite store's settings: the page size of new files, the busy handler of reads and
writes, and the one-pass page cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonex.ledger.live_checks import BLOCKS_IN_SERIAL_ORDER
from carbonex.ledger.verify import ReplayWorker
from carbonex.store import StoreError, open_store
from carbonex.store.sqlite import (
    BUSY_TIMEOUT_MS,
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


def test_writes_poll_for_the_lock_and_reads_wait_in_sqlites_busy_handler(tmp_path: Path) -> None:
    """A write turns the busy handler off (it polls for the write lock itself) and leaves it off
    for the writes after it; the next read transaction turns it on again."""
    store = _sqlite_store(tmp_path / "busy.db")
    try:
        assert store.query("PRAGMA busy_timeout") == [(BUSY_TIMEOUT_MS,)]
        for _ in range(2):
            store.begin_write()
            assert store.query("PRAGMA busy_timeout") == [(0,)]
            store.rollback()
        store.begin_read()
        assert store.query("PRAGMA busy_timeout") == [(BUSY_TIMEOUT_MS,)]
        store.rollback()
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


def test_a_reader_refuses_a_missing_file_and_creates_none(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    with pytest.raises(StoreError, match="does not exist"):
        open_store(str(path), must_exist=True)
    with pytest.raises(StoreError, match="does not exist"):
        open_store(f"sqlite:///{path}", migrate=False, must_exist=True)
    assert not path.exists()
    path.touch()
    with pytest.raises(StoreError, match="holds no Carbonex ledger"):
        open_store(str(path), must_exist=True)
    assert path.stat().st_size == 0  # not even a header written


def test_the_verify_worker_reads_a_url_given_with_a_trailing_newline(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    open_store(str(path)).close()
    worker = ReplayWorker(f"sqlite:///{path}\n")
    try:
        summary = worker.result()
    finally:
        worker.stop()
    assert summary.head_seq == 0 and summary.problems == []
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["ledger.db"]


def test_the_no_overlap_walk_reads_the_serial_index_alone(tmp_path: Path) -> None:
    """Verify walks every block in serial order: one table lookup per block was most of it."""
    store = open_store(str(tmp_path / "ledger.db"))
    try:
        plan = store.query(f"EXPLAIN QUERY PLAN {BLOCKS_IN_SERIAL_ORDER}")
    finally:
        store.close()
    assert any("COVERING INDEX blocks_by_serial" in str(row[-1]) for row in plan), plan
