"""The relational store shared by SQLite and PostgreSQL: plain SQL through the DB-API.

Hot paths use the driver directly (SQLAlchemy's per-statement overhead would cost more than the
ledger's own work); SQLAlchemy and Alembic own the schema and its migrations. Statements are
written with `?` placeholders and translated for drivers that use `%s`.
Nothing here knows a business rule: it reads rows, writes rows and keeps transactions.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

import orjson

from carbonex.ledger.history import HistoryPostings
from carbonex.ledger.journal import GENESIS_HASH, JournalRow, decode_payload
from carbonex.ledger.limits import CATALOGS_MAX, PROJECTION_CHUNK_ENTRIES
from carbonex.ledger.model import Account, Block, Hold, UnitAttributes
from carbonex.ledger.ports import COUNTER_MISSING, Head, IdEnds, PendingWrite, Projection

BLOCK_COLUMNS = (
    "block_id, issuance_id, serial_space, first_serial, last_serial, account_id, "
    "state, attributes_id, hold_id"
)
JOURNAL_COLUMNS = "seq, command_id, command_kind, payload, previous_hash, entry_hash, recorded_at"
FINAL_STATES_SQL = "('retired', 'cancelled', 'surrendered', 'expired', 'converted')"

UPSERT_BLOCK = (
    f"INSERT INTO blocks ({BLOCK_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
    "ON CONFLICT (block_id) DO UPDATE SET issuance_id = excluded.issuance_id, "
    "serial_space = excluded.serial_space, first_serial = excluded.first_serial, "
    "last_serial = excluded.last_serial, account_id = excluded.account_id, "
    "state = excluded.state, attributes_id = excluded.attributes_id, hold_id = excluded.hold_id"
)
UPSERT_ACCOUNT = (
    "INSERT INTO accounts (account_id, registry, kind, holder, status) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (account_id) DO UPDATE SET registry = excluded.registry, kind = excluded.kind, "
    "holder = excluded.holder, status = excluded.status"
)
UPSERT_HOLD = (
    "INSERT INTO holds (hold_id, account_id, quantity, status, purpose) VALUES (?, ?, ?, ?, ?) "
    "ON CONFLICT (hold_id) DO UPDATE SET account_id = excluded.account_id, "
    "quantity = excluded.quantity, status = excluded.status, purpose = excluded.purpose"
)
ATTRIBUTES_COLUMNS = (
    "attributes_id, unit_type, standard, project_id, vintage_start, vintage_end, host_country, "
    "methodology, category, labels, authorization_ref, valid_until, record"
)
INSERT_ATTRIBUTES = (
    f"INSERT INTO unit_attributes ({ATTRIBUTES_COLUMNS}) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (attributes_id) DO NOTHING"
)
INSERT_CATALOG = (
    "INSERT INTO catalogs (digest, record, first_seq) VALUES (?, ?, ?) "
    "ON CONFLICT (digest) DO NOTHING"
)
INSERT_ISSUANCE = (
    "INSERT INTO issuances (issuance_id, serial_space, first_serial, last_serial, attributes_id, "
    "account_id, seq, lineage) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
DELETE_BLOCK = "DELETE FROM blocks WHERE block_id = ?"
HEAD_COLUMNS = "next_block_id, next_issuance_id"
"""The id counters as they stand after a journal row: set on the last row of each flush (NULL on
the rows before it), so the journal's last entry is the head (migration 0008)."""
INSERT_JOURNAL = (
    f"INSERT INTO journal ({JOURNAL_COLUMNS}, {HEAD_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
INSERT_ACCOUNT_HISTORY = "INSERT INTO account_history (account_id, last_seq, seqs) VALUES (?, ?, ?)"
INSERT_SERIAL_HISTORY = (
    "INSERT INTO serial_history (serial_space, level, bucket, last_seq, moves) "
    "VALUES (?, ?, ?, ?, ?)"
)
PROJECTED_QUERY = "SELECT value FROM ledger_meta WHERE name = 'projected_seq'"
HEAD_QUERY = (
    f"SELECT seq, {HEAD_COLUMNS}, ({PROJECTED_QUERY}) FROM journal ORDER BY seq DESC LIMIT 1"
)
"""The head (the journal's last entry and the id counters it carries) and how far the read
models go: one row, none before the first entry."""
ID_ENDS_QUERY = (
    "SELECT (SELECT COALESCE(MAX(block_id), 0) FROM blocks), "
    "(SELECT COALESCE(MAX(issuance_id), 0) FROM issuances)"
)
"""The highest ids the tables hold, to check the head's counters against when a cache is
loaded: seeks at the ends of primary keys."""
UPSERT_META = (
    "INSERT INTO ledger_meta (name, value) VALUES (?, ?) "
    "ON CONFLICT (name) DO UPDATE SET value = excluded.value"
)


def attributes_row(attributes_id: str, record: dict[str, Any]) -> tuple[Any, ...]:
    return (
        attributes_id,
        record["unit_type"],
        record["standard"],
        record["project_id"],
        record["vintage_start"],
        record["vintage_end"],
        record["host_country"],
        record["methodology"],
        record["category"],
        "|".join(record["labels"]),
        record["authorization"],
        record["valid_until"],
        orjson.dumps(record, option=orjson.OPT_SORT_KEYS),
    )


PROJECTED_TAGS = frozenset({"block", "unblock", "move"})
"""Effects the read models take, in bulk; the others are written with their command."""
READ_MODEL_TABLES = ("blocks", "account_history", "serial_history", "ledger_meta")
"""The tables a projection writes: the read models, and how far they go (`projected_seq`)."""


class JournalRows:
    """What a flush writes with the commands: journal rows (the last carrying the id counters:
    the head), and the rarely written tables (accounts, holds, issuances, attributes; last write
    of a row wins)."""

    def __init__(self, pending: PendingWrite) -> None:
        self.accounts: dict[str, tuple[Any, ...]] = {}
        self.holds: dict[str, tuple[Any, ...]] = {}
        self.attributes: list[tuple[Any, ...]] = []
        self.issuances: list[tuple[Any, ...]] = []
        self.journal: list[tuple[Any, ...]] = []
        for entry in pending.entries:
            # The journal's columns, in order (a plain tuple: sqlite3 binds those fastest).
            self.journal.append((*entry.row, None, None))
            self._add_effects(entry.row.seq, entry.effects)
        if self.journal:
            self.journal[-1] = (
                *self.journal[-1][:-2],
                pending.next_block_id,
                pending.next_issuance_id,
            )

    def _add_effects(self, seq: int, effects: Sequence[Sequence[Any]]) -> None:
        for effect in effects:
            tag = effect[0]
            if tag in PROJECTED_TAGS:
                continue
            if tag == "account":
                self.accounts[effect[1]] = tuple(effect[1:])
            elif tag == "hold":
                self.holds[effect[1]] = tuple(effect[1:])
            elif tag == "issuance":
                self.issuances.append((*effect[1:7], seq, effect[7]))
            elif tag == "attributes":
                self.attributes.append(attributes_row(effect[1], effect[2]))


class ProjectionRows:
    """What a projection writes to the read models: each block changed, as its last version
    (or deleted), the history postings, and how far the read models now go."""

    def __init__(self, projection: Projection) -> None:
        blocks: dict[int, tuple[Any, ...] | None] = {}
        history = HistoryPostings()
        for seq, effects in projection.entries:
            moves = []
            for effect in effects:
                tag = effect[0]
                if tag == "block":
                    blocks[effect[1]] = effect[1:]
                elif tag == "move":
                    moves.append(effect)
                elif tag == "unblock":
                    blocks[effect[1]] = None
            if moves:
                history.add_moves(seq, moves)
        self.blocks = [row for row in blocks.values() if row is not None]
        # A block made and merged away again since the last projection was never stored.
        first_new = projection.first_new_block_id
        self.deleted = [
            (block_id,)
            for block_id, row in blocks.items()
            if row is None and (first_new is None or block_id < first_new)
        ]
        self.account_history = history.account_rows()
        self.serial_history = history.serial_rows()
        self.meta = [("projected_seq", projection.through_seq)]


class SqlStore(ABC):
    """Base for the SQLite and PostgreSQL stores; subclasses own connections and locking."""

    placeholder = "?"
    url: str

    def __init__(self) -> None:
        self._sql_cache: dict[str, str] = {}

    # -- driver plumbing (subclasses) -----------------------------------------------------------

    @abstractmethod
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any: ...

    @abstractmethod
    def _executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    @abstractmethod
    def begin_write(self, known_seq: int | None = None) -> None:
        """Start the write transaction; `known_seq` is the journal position the caller's cache
        has seen, so a store may fetch what came after it in the same round trip."""

    def write_and_commit(self, pending: PendingWrite | None) -> None:
        if pending is not None:
            self.write(pending)
        self.commit()

    @abstractmethod
    def begin_read(self) -> None: ...

    @abstractmethod
    def begin_read_with_private_read_models(self) -> None:
        """Start a read transaction in which the READ_MODEL_TABLES are private copies of
        themselves, which a projection (`project_journal`) may bring up to the journal without
        writing the database: for an audit of a database that must stay as it is, which its
        reader may not be allowed to write. The copies end with the transaction (`rollback`)."""

    @abstractmethod
    def commit(self) -> None: ...

    @abstractmethod
    def rollback(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def stream(self, sql: str, params: Sequence[Any] = ()) -> Iterator[tuple[Any, ...]]: ...

    @abstractmethod
    def table_names(self) -> set[str]: ...

    @abstractmethod
    def is_duplicate_command_error(self, error: BaseException) -> bool: ...

    @abstractmethod
    def read_once_through(self) -> None:
        """This connection will read what it reads once, in one pass (verify's replay): a
        database that caches pages in the process keeps only a few."""

    @abstractmethod
    def is_write_refused(self, error: BaseException) -> bool:
        """`error` says this connection may not write the database (a file its user may only
        read, a transaction or role that is read-only), not that something went wrong."""

    def is_connection_lost(self, error: BaseException) -> bool:
        """`error` came from a connection to a database server that is gone (ask before
        `rollback`, which connects again). An embedded database has no connection to lose."""
        return False

    def sql(self, statement: str) -> str:
        translated = self._sql_cache.get(statement)
        if translated is None:
            translated = statement.replace("?", self.placeholder)
            self._sql_cache[statement] = translated
        return translated

    def query(self, statement: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self._execute(self.sql(statement), params).fetchall())

    def query_one(self, statement: str, params: Sequence[Any] = ()) -> tuple[Any, ...] | None:
        row = self._execute(self.sql(statement), params).fetchone()
        return tuple(row) if row is not None else None

    def execute(self, statement: str, params: Sequence[Any] = ()) -> None:
        """One write statement with `?` placeholders, inside the caller's transaction."""
        self._execute(self.sql(statement), params)

    def rollback_to_savepoint(self, name: str) -> None:
        """Undo what the transaction did since `SAVEPOINT name` (which stays set)."""
        self.execute(f"ROLLBACK TO SAVEPOINT {name}")

    def execute_many(self, statement: str, rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            self._executemany(self.sql(statement), rows)

    # -- StateLoader ----------------------------------------------------------------------------

    def head_row(self) -> Sequence[Any] | None:
        return self.query_one(HEAD_QUERY)

    def load_head(self) -> Head:
        row = self.head_row()
        if row is None:
            projected = self.query_one(PROJECTED_QUERY)
            return Head(seq=0, next_block_id=1, next_issuance_id=1, projected_seq=_int(projected))
        return Head(
            seq=row[0],
            next_block_id=COUNTER_MISSING if row[1] is None else row[1],
            next_issuance_id=COUNTER_MISSING if row[2] is None else row[2],
            projected_seq=0 if row[3] is None else row[3],
        )

    def load_id_ends(self) -> IdEnds:
        row = self.query_one(ID_ENDS_QUERY)
        return IdEnds(0, 0) if row is None else IdEnds(int(row[0]), int(row[1]))

    def load_entry_hash(self, seq: int) -> str:
        row = self.query_one("SELECT entry_hash FROM journal WHERE seq = ?", (seq,))
        return str(row[0]) if row else GENESIS_HASH

    def load_account(self, account_id: str) -> Account | None:
        row = self.query_one(
            "SELECT account_id, registry, kind, holder, status FROM accounts WHERE account_id = ?",
            (account_id,),
        )
        return Account(*row) if row else None

    def load_active_blocks(self, account_id: str) -> list[Block]:
        return [
            Block(*row)
            for row in self.query(
                f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE account_id = ? AND state = 'active'",
                (account_id,),
            )
        ]

    def load_blocks_overlapping(self, space: str, first: int, last: int, limit: int) -> list[Block]:
        """Blocks of a serial space never overlap: the one starting at or below `first`, plus
        those starting inside the range; the first `limit` of them in serial order."""
        below = self.query(
            f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE serial_space = ? AND "
            "first_serial <= ? ORDER BY first_serial DESC LIMIT 1",
            (space, first),
        )
        inside = self.query(
            f"SELECT {BLOCK_COLUMNS} FROM blocks WHERE serial_space = ? AND "
            "first_serial > ? AND first_serial <= ? ORDER BY first_serial LIMIT ?",
            (space, first, last, limit),
        )
        blocks = [Block(*row) for row in below if row[4] >= first]
        return (blocks + [Block(*row) for row in inside])[:limit]

    def load_attributes(self, attributes_id: str) -> UnitAttributes | None:
        row = self.query_one(
            "SELECT record FROM unit_attributes WHERE attributes_id = ?", (attributes_id,)
        )
        return UnitAttributes.from_record(orjson.loads(bytes(row[0]))) if row else None

    def load_hold(self, hold_id: str) -> Hold | None:
        row = self.query_one(
            "SELECT hold_id, account_id, quantity, status, purpose FROM holds WHERE hold_id = ?",
            (hold_id,),
        )
        return Hold(*row) if row else None

    def find_overlapping_issuance(self, space: str, first: int, last: int) -> int | None:
        row = self.query_one(
            "SELECT issuance_id, last_serial FROM issuances WHERE serial_space = ? AND "
            "first_serial <= ? ORDER BY first_serial DESC LIMIT 1",
            (space, last),
        )
        return row[0] if row and row[1] >= first else None

    def max_issued_serial(self, space: str) -> int:
        row = self.query_one(
            "SELECT MAX(last_serial) FROM issuances WHERE serial_space = ?", (space,)
        )
        return int(row[0]) if row and row[0] is not None else 0

    def find_journal_row(self, command_id: str) -> JournalRow | None:
        row = self.query_one(
            f"SELECT {JOURNAL_COLUMNS} FROM journal WHERE command_id = ?", (command_id,)
        )
        return journal_row(row) if row else None

    def keep_catalog(self, digest: str, record: bytes, first_seq: int) -> None:
        """Keep a catalog that entries from `first_seq` on name (in the caller's write
        transaction; a catalog kept already keeps its first entry)."""
        self.execute(INSERT_CATALOG, (digest, record, first_seq))

    def load_catalog_records(
        self, first_seq_after: int = 0, limit: int = CATALOGS_MAX
    ) -> list[KeptCatalog]:
        """The catalogs kept whose first entry comes after `first_seq_after`, in the order the
        journal first names them, `limit` at most."""
        rows = self.query(
            "SELECT digest, record, first_seq FROM catalogs WHERE first_seq > ? "
            "ORDER BY first_seq, digest LIMIT ?",
            (first_seq_after, limit),
        )
        return [KeptCatalog(row[0], bytes(row[1]), row[2]) for row in rows]

    def journal_rows_after(self, seq: int, limit: int) -> list[JournalRow]:
        return [
            journal_row(row)
            for row in self.query(
                f"SELECT {JOURNAL_COLUMNS} FROM journal WHERE seq > ? ORDER BY seq LIMIT ?",
                (seq, limit),
            )
        ]

    def write(self, pending: PendingWrite) -> None:
        rows = JournalRows(pending)
        for statement, batch in (
            (INSERT_ATTRIBUTES, rows.attributes),
            (UPSERT_ACCOUNT, list(rows.accounts.values())),
            (INSERT_ISSUANCE, rows.issuances),
            (UPSERT_HOLD, list(rows.holds.values())),
        ):
            if batch:
                self._executemany(self.sql(statement), batch)
        if rows.journal:
            self._write_journal(rows)
        if pending.projection is not None:
            self._write_projection(ProjectionRows(pending.projection))

    def _write_journal(self, rows: JournalRows) -> None:
        """The table every command writes (its last row is the head)."""
        self._executemany(self.sql(INSERT_JOURNAL), rows.journal)

    def _write_projection(self, rows: ProjectionRows) -> None:
        for statement, batch in (
            (DELETE_BLOCK, rows.deleted),
            (UPSERT_BLOCK, rows.blocks),
            (INSERT_ACCOUNT_HISTORY, rows.account_history),
            (INSERT_SERIAL_HISTORY, rows.serial_history),
            (UPSERT_META, rows.meta),
        ):
            if batch:
                self._executemany(self.sql(statement), batch)

    def project_journal(self, after_seq: int, through_seq: int) -> None:
        """Bring the read models from entry `after_seq` up to `through_seq`, reading the entries'
        effects from the journal (in the caller's write transaction)."""
        seq = after_seq
        while seq < through_seq:
            rows = self.query(
                "SELECT seq, payload FROM journal WHERE seq > ? AND seq <= ? ORDER BY seq LIMIT ?",
                (seq, through_seq, PROJECTION_CHUNK_ENTRIES),
            )
            if not rows or rows[0][0] != seq + 1:
                raise LookupError(f"the journal has no entry {seq + 1} to project")
            entries = [(row[0], decode_payload(bytes(row[1]))["effects"]) for row in rows]
            seq = entries[-1][0]
            # Which blocks are stored is not known here: every block merged away is deleted.
            self._write_projection(ProjectionRows(Projection(entries, seq, None)))


class KeptCatalog(NamedTuple):
    digest: str
    record: bytes
    """The catalog's canonical record, which `digest` names."""
    first_seq: int
    """The first journal entry naming it."""


def _int(row: Sequence[Any] | None) -> int:
    return 0 if row is None or row[0] is None else int(row[0])


def journal_row(row: Sequence[Any]) -> JournalRow:
    return JournalRow(row[0], row[1], row[2], bytes(row[3]), row[4], row[5], row[6])
