"""PostgreSQL store. Writers serialize on one transaction-scoped advisory lock: the journal's hash
chain needs one writer at a time anyway, and a single global lock order means no deadlocks and no
double spend, whatever units concurrent commands touch. Commits stay durable."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack, suppress
from typing import Any

import psycopg
from psycopg.sql import SQL, Identifier

from carbonex.ledger.journal import JournalRow
from carbonex.ledger.limits import CATCH_UP_ENTRIES_MAX
from carbonex.ledger.ports import PendingWrite
from carbonex.store.sql import (
    BLOCK_COLUMNS,
    HEAD_COLUMNS,
    HEAD_QUERY,
    JOURNAL_COLUMNS,
    READ_MODEL_TABLES,
    UPSERT_BLOCK,
    JournalRows,
    ProjectionRows,
    SqlStore,
    journal_row,
)

WRITER_LOCK_KEY = 0x43524258  # "CRBX": one key for the whole ledger
WRITER_LOCK_QUERY = f"SELECT pg_advisory_xact_lock({WRITER_LOCK_KEY})"
CATCH_UP_QUERY = f"SELECT {JOURNAL_COLUMNS} FROM journal WHERE seq > %s AND seq <= %s ORDER BY seq"
"""The entries other writers committed after the ones this process knows (at most
CATCH_UP_ENTRIES_MAX + 1), read under the lock. A range, not `seq > %s ... LIMIT n`: prepared, the
statement runs a generic plan, and for an open-ended `seq > $1` that plan is a scan of the whole
journal and a sort (measured: four clients fell from ~1,100 to ~300 commits/s as the journal
grew); the range keeps it on the primary key. Seqs have no gaps, so both read the same rows."""
STREAM_ROWS_PER_FETCH = 10_000
_UPSERT_BLOCK_SET = UPSERT_BLOCK[UPSERT_BLOCK.index(" ON CONFLICT") :]
_UPSERT_META_SET = " ON CONFLICT (name) DO UPDATE SET value = excluded.value"
JOURNAL_CORE = (
    f"INSERT INTO journal ({JOURNAL_COLUMNS}, {HEAD_COLUMNS}) SELECT * FROM "
    "unnest(%b::bigint[], %b::text[], %b::text[], %b::bytea[], %b::text[], %b::text[], "
    "%b::text[], %b::bigint[], %b::bigint[])"
)
"""A flush's journal rows (the last one the head) as one statement over column arrays sent in
binary (psycopg dumps binary arrays ~13x faster than text ones): one execution that the server
plans once, whatever the number of rows."""
PROJECTION_CORE = (
    "WITH deleted AS (DELETE FROM blocks WHERE block_id = ANY(%b::bigint[])), "
    f"upserted AS (INSERT INTO blocks ({BLOCK_COLUMNS}) SELECT * FROM unnest(%b::bigint[], "
    "%b::bigint[], %b::text[], %b::bigint[], %b::bigint[], %b::text[], %b::text[], %b::text[], "
    f"%b::text[]){_UPSERT_BLOCK_SET}), "
    "accounts_filed AS (INSERT INTO account_history (account_id, last_seq, seqs) "
    "SELECT * FROM unnest(%b::text[], %b::bigint[], %b::bytea[])), "
    "serials_filed AS (INSERT INTO serial_history (serial_space, level, bucket, last_seq, moves) "
    "SELECT * FROM unnest(%b::text[], %b::smallint[], %b::bigint[], %b::bigint[], %b::bytea[])) "
    f"INSERT INTO ledger_meta (name, value) VALUES ('projected_seq', %b){_UPSERT_META_SET}"
)
"""A projection's writes to the read models as one statement. The block ids deleted and
upserted are disjoint, so the statement never touches a row twice."""
ARRAY_ROWS_MIN = 8
"""From this many journal entries (or block rows) a write goes as one array statement; below, a
statement per table and row costs the server less (measured: ~550 against ~650 µs of server CPU
per single command)."""
BLOCK_WIDTH, JOURNAL_WIDTH = 9, 9
ACCOUNT_HISTORY_WIDTH, SERIAL_HISTORY_WIDTH = 3, 5
PRIVATE_COPY = "CREATE TEMPORARY TABLE {} (LIKE {} INCLUDING ALL) ON COMMIT DROP"
"""An empty copy of a table (columns, keys, indexes) that the transaction's end drops."""
TEMPORARY_SCHEMA_FIRST = (
    "SELECT set_config('search_path', 'pg_temp, ' || current_setting('search_path'), true)"
)
"""For the rest of the transaction, unqualified names find temporary tables first. They would
anyway, but a statement the server prepared before the copies were made keeps the table it found
then unless the search path changes (it is then parsed again): this does not rely on psycopg
forgetting its prepared statements at each ROLLBACK."""


def _columns(rows: Sequence[Sequence[Any]], width: int) -> list[list[Any]]:
    """Rows turned into `width` column lists (empty lists when there are no rows)."""
    if not rows:
        return [[] for _ in range(width)]
    return [list(column) for column in zip(*rows, strict=True)]


class PostgresStore(SqlStore):
    placeholder = "%s"

    def __init__(self, url: str) -> None:
        super().__init__()
        self.url = url
        self.connection = self._connect()
        self._pipeline_failed = False
        self._pipeline: ExitStack | None = None
        """Open from the writer lock to COMMIT: a flush goes out without waiting for its
        results, so the server applies it while this process decides the next commands."""
        self._stream_number = 0
        self._prefetched_head: tuple[Sequence[Any] | None] | None = None
        self._prefetched_rows: tuple[int, list[JournalRow]] | None = None

    def _connect(self) -> psycopg.Connection[Any]:
        return psycopg.connect(self.url, autocommit=True)

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self.connection.execute(sql, params)

    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        with self.connection.cursor() as cursor:
            cursor.executemany(sql, rows)

    def _write_journal(self, rows: JournalRows) -> None:
        if len(rows.journal) < ARRAY_ROWS_MIN:
            super()._write_journal(rows)
            return
        self.connection.execute(JOURNAL_CORE, _columns(rows.journal, JOURNAL_WIDTH))

    def _write_projection(self, rows: ProjectionRows) -> None:
        if len(rows.blocks) < ARRAY_ROWS_MIN:
            super()._write_projection(rows)
            return
        parameters: list[Any] = [[row[0] for row in rows.deleted]]
        parameters += _columns(rows.blocks, BLOCK_WIDTH)
        parameters += _columns(rows.account_history, ACCOUNT_HISTORY_WIDTH)
        parameters += _columns(rows.serial_history, SERIAL_HISTORY_WIDTH)
        parameters.append(rows.meta[0][1])
        self.connection.execute(PROJECTION_CORE, parameters)

    def begin_write(self, known_seq: int | None = None) -> None:
        """BEGIN, take the writer lock, read the head and the journal entries other writers
        added since `known_seq`, all in one round trip: the lock is held from here to COMMIT,
        so every round trip inside it caps the throughput of all writers together. The
        statements are prepared once per connection: planned at every transaction (as one
        multi-statement string), they cost the writer lock ~15% of its single-command rate."""
        connection = self.connection
        self._pipeline = ExitStack()
        pipeline = self._pipeline.enter_context(connection.pipeline())
        try:
            connection.execute("BEGIN")
            connection.execute(WRITER_LOCK_QUERY, prepare=True)
            head = connection.execute(HEAD_QUERY, prepare=True)
            caught_up = (
                None
                if known_seq is None
                else connection.execute(
                    CATCH_UP_QUERY, (known_seq, known_seq + CATCH_UP_ENTRIES_MAX + 1), prepare=True
                )
            )
            pipeline.sync()
            self._prefetched_head = (head.fetchone(),)
            if caught_up is not None and known_seq is not None:
                self._prefetched_rows = (known_seq, [journal_row(r) for r in caught_up])
        except BaseException:
            self._pipeline_failed = True
            raise

    def _leave_pipeline(self) -> None:
        """Send what is queued and wait for every result; a statement's error rises here."""
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            try:
                pipeline.close()
            except BaseException:
                self._pipeline_failed = True
                raise

    def journal_rows_after(self, seq: int, limit: int) -> list[JournalRow]:
        prefetched, self._prefetched_rows = self._prefetched_rows, None
        if prefetched is not None and prefetched[0] == seq and len(prefetched[1]) >= limit:
            return prefetched[1][:limit]
        return super().journal_rows_after(seq, limit)

    def write_and_commit(self, pending: PendingWrite | None) -> None:
        """The last flush and the COMMIT in the transaction's pipeline, then one sync: one
        round trip."""
        if self._pipeline is None:
            raise RuntimeError("write_and_commit outside a write transaction")
        try:
            if pending is not None:
                SqlStore.write(self, pending)
            self.connection.execute("COMMIT")
        except BaseException:
            self._pipeline_failed = True
            raise
        self._leave_pipeline()

    def head_row(self) -> Sequence[Any] | None:
        prefetched, self._prefetched_head = self._prefetched_head, None
        return prefetched[0] if prefetched is not None else super().head_row()

    def write(self, pending: PendingWrite) -> None:
        """All of a flush's statements in one pipeline: one round trip instead of one each.
        Inside a write transaction they join its pipeline, and nobody waits for them here."""
        if self._pipeline is not None:
            super().write(pending)
            return
        try:
            with self.connection.pipeline():
                super().write(pending)
        except BaseException:
            self._pipeline_failed = True
            raise

    def rollback_to_savepoint(self, name: str) -> None:
        """psycopg reads this command's "ROLLBACK" status as a reason to forget every statement
        it prepared, and queues a DEALLOCATE ALL that it sends after the next statement. In a
        pipeline it reads the status late, and an `executemany` (always prepared) sent before
        the DEALLOCATE had its new name removed on the server while the driver kept it:
        "prepared statement _pg3_N does not exist" at COMMIT. So the rollback's status is read
        at once (a nested pipeline block syncs when it ends) and the DEALLOCATE is sent with an
        unprepared statement, before anything is prepared again."""
        with self.connection.pipeline():
            self.connection.execute(f"ROLLBACK TO SAVEPOINT {name}", prepare=False)
        self.connection.execute("SELECT 1", prepare=False)

    def begin_read(self) -> None:
        self.connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")

    def begin_read_with_private_read_models(self) -> None:
        """A REPEATABLE READ transaction that makes an empty temporary copy of each read model,
        then turns READ ONLY (a transaction may turn read-only at any point, but can make no
        table once it is) and fills the copies: from there the server refuses every write but
        to temporary tables, so what a projection writes goes to the copies, never to the
        ledger. The transaction's end drops them."""
        connection = self.connection
        # READ WRITE until the copies are made: a role whose transactions are read-only by
        # default (default_transaction_read_only) may still make temporary tables this way.
        connection.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ WRITE")
        row = connection.execute("SELECT current_schema()").fetchone()
        if row is None or row[0] is None:
            raise RuntimeError("no schema to read the ledger in (search_path names none)")
        sources = [Identifier(row[0], table) for table in READ_MODEL_TABLES]
        for table, source in zip(READ_MODEL_TABLES, sources, strict=True):
            connection.execute(SQL(PRIVATE_COPY).format(Identifier(table), source))
        connection.execute("SET TRANSACTION READ ONLY")
        connection.execute(TEMPORARY_SCHEMA_FIRST)
        for table, source in zip(READ_MODEL_TABLES, sources, strict=True):
            copy = Identifier("pg_temp", table)
            connection.execute(SQL("INSERT INTO {} SELECT * FROM {}").format(copy, source))

    def commit(self) -> None:
        self.connection.execute("COMMIT")
        self._leave_pipeline()

    def rollback(self) -> None:
        self._prefetched_head = None
        self._prefetched_rows = None
        if self.connection.closed or self.connection.broken:
            # The server went away (restart, failover, an administrator's terminate): the next
            # transaction gets a new connection.
            with suppress(Exception):
                self._leave_pipeline()
            self._pipeline_failed = False
            self.connection.close()
            self.connection = self._connect()
            return
        try:
            self._leave_pipeline()
        except Exception:  # the error that made us roll back, or its echo: already handled
            self._pipeline_failed = True
        if self._pipeline_failed:
            # A statement the driver prepared inside a pipeline that then failed (a resubmitted
            # command id hitting the journal's unique index) may be gone on the server while the
            # driver still counts it as prepared; a new connection starts clean. Rare by design.
            self._pipeline_failed = False
            self.connection.close()
            self.connection = self._connect()
            return
        if self.connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            self.connection.execute("ROLLBACK")

    def close(self) -> None:
        self.connection.close()

    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]:
        """Rows through a server-side cursor, so a million-row scan never sits in memory."""
        self._stream_number += 1
        with self.connection.cursor(name=f"carbonex_stream_{self._stream_number}") as cursor:
            cursor.itersize = STREAM_ROWS_PER_FETCH
            cursor.execute(self.sql(sql), params)
            yield from cursor

    def is_write_refused(self, error: BaseException) -> bool:
        return isinstance(
            error, psycopg.errors.ReadOnlySqlTransaction | psycopg.errors.InsufficientPrivilege
        )

    def is_connection_lost(self, error: BaseException) -> bool:
        return isinstance(error, psycopg.OperationalError) and (
            self.connection.closed or bool(self.connection.broken)
        )

    def read_once_through(self) -> None:
        """Pages are cached by the server, not in this process: nothing to limit."""

    def is_duplicate_command_error(self, error: BaseException) -> bool:
        return (
            isinstance(error, psycopg.errors.UniqueViolation)
            and getattr(error.diag, "table_name", None) == "journal"
        )

    def table_names(self) -> set[str]:
        rows = self.connection.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
        return {row[0] for row in rows}
