"""SQLite store: one file in WAL mode, the embedded default. One writer at a time
(BEGIN IMMEDIATE); readers never block it."""

from __future__ import annotations

import os
import re
import sqlite3
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from carbonex.files import publish_new
from carbonex.store.sql import READ_MODEL_TABLES, SqlStore

SIDE_FILE_SUFFIXES = ("-wal", "-shm", "-journal")
PRIMARY_CODE_MASK = 0xFF
"""An extended result code's low byte is its primary code (SQLITE_READONLY_DIRECTORY is one of
SQLITE_READONLY's)."""
"""Files SQLite keeps beside a database FILE, named FILE-wal, FILE-shm and FILE-journal: one left
by an earlier file of the same name is applied to a new one when it is opened."""
BUSY_TIMEOUT_MS = 30_000
CACHE_SIZE_KIB = 262_144
ONE_PASS_CACHE_SIZE_KIB = 8_192
"""Page cache of a connection that reads the journal once through: the default cache would fill
with pages read once (a quarter of a gigabyte of memory for a large journal)."""
PAGE_SIZE_BYTES = 8192
"""Applies when the file is created. A command's transaction writes its journal row and the head
(the read models follow in bulk), so most of what a commit writes is journal pages: 8 KiB pages
halve the commit's cost in group commits against 2 KiB (fewer WAL frames), for about a tenth
fewer single-command commits (docs/performance.md)."""
WAL_CHECKPOINT_BYTES = 40_960_000
"""The write-ahead log is copied back into the file (with an fsync) once it holds this much."""
WRITE_LOCK_POLL_S = 0.0001
READ_MODELS_SCHEMA = (
    "SELECT type, name, sql FROM main.sqlite_master WHERE sql IS NOT NULL AND tbl_name IN "
    f"({', '.join('?' * len(READ_MODEL_TABLES))})"
)
"""The statements that made the read models' tables and indexes (keys come with their table)."""
TABLE_STATEMENT = re.compile(r"^CREATE\s+TABLE\s+", re.IGNORECASE)
INDEX_STATEMENT = re.compile(r"^CREATE\s+(UNIQUE\s+)?INDEX\s+(\S+)\s+ON\s+", re.IGNORECASE)


def _copy_into(source: sqlite3.Connection, path: Path) -> None:
    copy = sqlite3.connect(path)
    try:
        source.backup(copy)
        copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        copy.execute("PRAGMA journal_mode = DELETE")  # one self-contained file
    finally:
        copy.close()
    with open(path, "rb") as written:
        os.fsync(written.fileno())


def is_busy(error: sqlite3.Error) -> bool:
    """Whether SQLite refused because another connection holds the database."""
    message = str(error)
    return "locked" in message or "busy" in message


def in_temporary_schema(statement: str) -> str:
    """A CREATE TABLE or CREATE INDEX statement as sqlite_master keeps it, made to create the
    same table or index in the connection's temporary schema."""
    temporary, made = TABLE_STATEMENT.subn("CREATE TEMP TABLE ", statement, count=1)
    if not made:
        temporary, made = INDEX_STATEMENT.subn(r"CREATE \1INDEX temp.\2 ON ", statement, count=1)
    if not made:
        raise ValueError(f"not a statement that creates a table or an index: {statement[:80]!r}")
    return temporary


class SqliteStore(SqlStore):
    placeholder = "?"

    def __init__(self, path: str, reading: bool = False) -> None:
        """`reading`: a reader's connection (verify, queries, a backup's source) leaves the file's
        page size and journal mode as they are. Switching to WAL writes the file: a backup (one
        self-contained file in rollback-journal mode) would change as it is verified, and a
        ledger in rollback-journal mode in a read-only place could not be read at all. The first
        writer switches it."""
        super().__init__()
        self.path = path
        self.url = f"sqlite:///{path}"
        self.connection = sqlite3.connect(
            path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
        )
        if not reading:
            self.connection.execute(f"PRAGMA page_size = {PAGE_SIZE_BYTES}")
            self.connection.execute("PRAGMA journal_mode = WAL")
            # NORMAL in WAL mode: a commit survives a process crash; only a power loss may undo
            # the last commits, never corrupt the file. A reader keeps the default (FULL), safe
            # in either mode for the rare write it makes (projecting read models that lag).
            self.connection.execute("PRAGMA synchronous = NORMAL")
        self.connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self._busy_timeout_ms = BUSY_TIMEOUT_MS
        """The busy handler's timeout as last set: `begin_write` turns it off, `begin_read` on."""
        self.connection.execute(f"PRAGMA cache_size = -{CACHE_SIZE_KIB}")
        # A group commit of 1,000 commands dirties hundreds of pages; the default threshold
        # (1,000 pages) would checkpoint, with an fsync, after every few commits. Files made with
        # another page size keep it: the threshold is in bytes.
        page_size = int(self.connection.execute("PRAGMA page_size").fetchone()[0])
        checkpoint_pages = WAL_CHECKPOINT_BYTES // page_size
        self.connection.execute(f"PRAGMA wal_autocheckpoint = {checkpoint_pages}")

    def read_once_through(self) -> None:
        self.connection.execute(f"PRAGMA cache_size = -{ONE_PASS_CACHE_SIZE_KIB}")

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.connection.execute(sql, params)

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self.connection.executemany(sql, rows)

    def begin_write(self, known_seq: int | None = None) -> None:
        """BEGIN IMMEDIATE, waiting for another process's write lock by polling every
        WRITE_LOCK_POLL_S. SQLite's own busy handler sleeps 1, 2, 5, 10... ms between tries,
        while another writer holds the lock for well under a millisecond: with several server
        workers on one file, most of a request's time went into those sleeps. The handler stays
        off until the next read transaction: switching it off and on around every write cost a
        single-command commit two statements (~5%)."""
        connection = self.connection
        self._set_busy_timeout(0)
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as error:
                if not is_busy(error) or time.monotonic() >= deadline:
                    raise
            time.sleep(WRITE_LOCK_POLL_S)

    def is_write_refused(self, error: BaseException) -> bool:
        return (
            isinstance(error, sqlite3.OperationalError)
            and getattr(error, "sqlite_errorcode", 0) & PRIMARY_CODE_MASK == sqlite3.SQLITE_READONLY
        )

    def begin_read(self) -> None:
        """BEGIN, with SQLite's busy handler on: a reader in WAL mode waits only in the rare
        moments another connection resets the write-ahead log or recovers it."""
        self._set_busy_timeout(BUSY_TIMEOUT_MS)
        self.connection.execute("BEGIN")

    def begin_read_with_private_read_models(self) -> None:
        """BEGIN, then a copy of each read model in the connection's temporary schema, made with
        its table's own statements (the projection's upserts need the keys, verify's walk in
        serial order the serial index; rows go in before the indexes are built, which is
        faster). Unqualified names find the temporary schema first, so a projection writes the
        copies and never the file (which a reader may not be allowed to write: a temporary
        schema needs no write access to it); the rollback drops them."""
        self.begin_read()
        connection = self.connection
        made = connection.execute(READ_MODELS_SCHEMA, READ_MODEL_TABLES).fetchall()
        tables = [(name, sql) for kind, name, sql in made if kind == "table"]
        if sorted(name for name, _ in tables) != sorted(READ_MODEL_TABLES):
            raise RuntimeError(f"the read models' tables are not all there: {tables}")
        for name, sql in tables:
            connection.execute(in_temporary_schema(sql))
            connection.execute(f"INSERT INTO temp.{name} SELECT * FROM main.{name}")
        for kind, _, sql in made:
            if kind == "index":
                connection.execute(in_temporary_schema(sql))

    def _set_busy_timeout(self, timeout_ms: int) -> None:
        if self._busy_timeout_ms != timeout_ms:
            self.connection.execute(f"PRAGMA busy_timeout = {int(timeout_ms)}")
            self._busy_timeout_ms = timeout_ms

    def commit(self) -> None:
        self.connection.execute("COMMIT")

    def rollback(self) -> None:
        if self.connection.in_transaction:
            self.connection.execute("ROLLBACK")

    def close(self) -> None:
        self.connection.close()

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        yield from self.connection.execute(self.sql(sql), params)

    def is_duplicate_command_error(self, error: BaseException) -> bool:
        return isinstance(error, sqlite3.IntegrityError) and "journal.command_id" in str(error)

    def backup(self, destination: str) -> None:
        """A consistent copy of the whole database at `destination`, which must not exist. One
        backup step copies every page inside one read transaction (writers carry on in WAL
        mode, and the copy never restarts); it is written to DESTINATION.partial, checkpointed,
        synced and linked to `destination` (`files.publish_new`: never over a file made
        meanwhile), so `destination` is either complete or absent. DESTINATION.partial
        is created exclusively (FileExistsError when there is one: another backup's, never
        removed or overwritten) and removed only when this backup made it."""
        partial = Path(destination + ".partial")
        with open(partial, "xb"):  # an empty file: SQLite makes a new database in it
            pass
        try:
            _copy_into(self.connection, partial)
        except BaseException:
            partial.unlink(missing_ok=True)  # `destination` stays absent: all or nothing
            raise
        try:
            publish_new(partial, Path(destination))  # a file made meanwhile is not replaced
        except BaseException:
            partial.unlink(missing_ok=True)
            raise

    def table_names(self) -> set[str]:
        rows = self.connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in rows}
