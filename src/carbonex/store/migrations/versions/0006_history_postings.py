"""History as posting lists instead of movement rows; read models projected behind the journal.

The `movements` table (one row and three secondary indexes per range moved) gives way to two
posting tables (`carbonex.ledger.history`): `account_history` lists, per account, the journal
entries that moved its units; `serial_history` lists, per serial bucket, the (entry, first, last)
of each move filed there. Statements and provenance read the moves themselves from the journal.
`ledger_meta.projected_seq` says up to which entry the blocks and these postings are projected.

Existing movements are filed as one posting per account and per bucket.

Revision ID: 0006
Revises: 0005
"""

from collections import defaultdict

import sqlalchemy as sa
from alembic import op

from carbonex.ledger.history import pack_moves, pack_seqs, serial_key
from carbonex.ledger.journal import decode_payload

revision = "0006"
down_revision = "0005"

BACKFILL_ROWS_PER_INSERT = 10_000
MOVEMENT_COLUMNS = (
    "seq",
    "position",
    "action",
    "serial_space",
    "first_serial",
    "last_serial",
    "from_account",
    "to_account",
)


def _create_tables() -> None:
    op.create_table(
        "account_history",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("last_seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("seqs", sa.LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "serial_history",
        sa.Column("serial_space", sa.String(64), primary_key=True),
        sa.Column("level", sa.SmallInteger, primary_key=True, autoincrement=False),
        sa.Column("bucket", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("last_seq", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("moves", sa.LargeBinary, nullable=False),
        sqlite_with_rowid=False,
    )


def _insert(table: str, columns: tuple[str, ...], rows: list[tuple[object, ...]]) -> None:
    statement = sa.text(
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"VALUES ({', '.join(':' + column for column in columns)})"
    )
    bind = op.get_bind()
    for start in range(0, len(rows), BACKFILL_ROWS_PER_INSERT):
        chunk = rows[start : start + BACKFILL_ROWS_PER_INSERT]
        bind.execute(statement, [dict(zip(columns, row, strict=True)) for row in chunk])


def _backfill() -> None:
    accounts: dict[str, list[int]] = defaultdict(list)
    serials: dict[tuple[str, int, int], list[int]] = defaultdict(list)
    moves = op.get_bind().execute(
        sa.text(
            "SELECT seq, serial_space, first_serial, last_serial, from_account, to_account "
            "FROM movements ORDER BY seq, position"
        )
    )
    for seq, space, first, last, from_account, to_account in moves:
        for account_id in (from_account, to_account):
            seqs = accounts[account_id] if account_id is not None else None
            if seqs is not None and (not seqs or seqs[-1] != seq):
                seqs.append(seq)
        serials[serial_key(space, first, last)] += (seq, first, last)
    _insert(
        "account_history",
        ("account_id", "last_seq", "seqs"),
        [(a, seqs[-1], pack_seqs(seqs)) for a, seqs in sorted(accounts.items())],
    )
    _insert(
        "serial_history",
        ("serial_space", "level", "bucket", "last_seq", "moves"),
        [(*key, flat[-3], pack_moves(flat)) for key, flat in sorted(serials.items())],
    )


def upgrade() -> None:
    _create_tables()
    _backfill()
    op.drop_table("movements")
    op.get_bind().execute(
        sa.text(
            "INSERT INTO ledger_meta (name, value) SELECT 'projected_seq', value "
            "FROM ledger_meta WHERE name = 'head_seq'"
        )
    )


def downgrade() -> None:
    """Rebuild the movement rows from the journal's "move" effects."""
    op.create_table(
        "movements",
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("serial_space", sa.String(64), nullable=False),
        sa.Column("first_serial", sa.BigInteger, nullable=False),
        sa.Column("last_serial", sa.BigInteger, nullable=False),
        sa.Column("from_account", sa.String(64), nullable=True),
        sa.Column("to_account", sa.String(64), nullable=True),
    )
    rows = []
    for seq, payload in op.get_bind().execute(sa.text("SELECT seq, payload FROM journal")):
        moves = [e for e in decode_payload(bytes(payload))["effects"] if e[0] == "move"]
        rows += [(seq, position, *move[1:]) for position, move in enumerate(moves, 1)]
    _insert("movements", MOVEMENT_COLUMNS, rows)
    op.create_index("movements_by_from", "movements", ["from_account", "seq"])
    op.create_index("movements_by_to", "movements", ["to_account", "seq"])
    op.create_index("movements_by_serial", "movements", ["serial_space", "last_serial"])
    op.drop_table("serial_history")
    op.drop_table("account_history")
    op.get_bind().execute(sa.text("DELETE FROM ledger_meta WHERE name = 'projected_seq'"))
