"""The SQLite store's settings: the page size of new files, the busy handler of reads and
writes, and the one-pass page cache. A reader leaves the file's journal mode as it is."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import traceback
from collections.abc import Callable
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


def _rollback_journal_ledger(path: Path) -> bytes:
    """A ledger in rollback-journal mode, as a backup is made; its bytes."""
    open_store(str(path)).close()
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode = DELETE")
    connection.close()
    return path.read_bytes()


def test_a_reader_leaves_the_journal_mode_and_every_byte_of_the_file_as_they_were(
    tmp_path: Path,
) -> None:
    path = tmp_path / "backup.db"
    before = _rollback_journal_ledger(path)
    for any_revision in (False, True):
        store = open_store(str(path), migrate=False, must_exist=True, any_revision=any_revision)
        try:
            assert store.query("PRAGMA journal_mode") == [("delete",)]
            assert store.query("SELECT COUNT(*) FROM journal") == [(0,)]
        finally:
            store.close()
    assert path.read_bytes() == before
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["backup.db"]
    _sqlite_store(path).close()  # the first writer switches it to WAL
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


UNPRIVILEGED_ID = 65534
"""nobody: root is not stopped by a read-only directory, so as root the check runs as nobody."""


def run_unprivileged(check: Callable[[], None]) -> None:
    """Run `check` here, or as root in a forked child that drops to nobody first."""
    if os.geteuid() != 0:
        check()
        return
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.setgid(UNPRIVILEGED_ID)
            os.setuid(UNPRIVILEGED_ID)
            check()
        except BaseException:
            traceback.print_exc()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, "the check failed as nobody (see stderr)"


def test_a_ledger_in_a_read_only_directory_is_read_if_in_rollback_journal_mode() -> None:
    """A WAL file needs its -shm file beside it: the reader says so instead of SQLite's
    "attempt to write a readonly database"."""
    directory = Path(tempfile.mkdtemp(prefix="carbonex-read-only-"))  # nobody may enter /tmp's
    backup, live = directory / "backup.db", directory / "live.db"
    _rollback_journal_ledger(backup)
    open_store(str(live)).close()
    for path in directory.iterdir():
        path.chmod(0o644)
    directory.chmod(0o555)

    def check() -> None:
        store = open_store(str(backup), migrate=False, must_exist=True)
        try:
            if store.query("SELECT COUNT(*) FROM journal") != [(0,)]:
                raise AssertionError("the backup's journal was not read")
        finally:
            store.close()
        with pytest.raises(StoreError, match=r"it is in WAL mode, .* live\.db-shm"):
            open_store(str(live), migrate=False, must_exist=True)

    try:
        run_unprivileged(check)
    finally:
        directory.chmod(0o755)
        shutil.rmtree(directory)
