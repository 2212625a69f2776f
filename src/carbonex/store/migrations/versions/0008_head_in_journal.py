"""The head rides on the journal: its last entry carries the id counters.

`ledger_meta` held the head (head_seq, next_block_id, next_issuance_id) and every commit upserted
it: one more statement and one more page written to the write-ahead log per commit (on SQLite
with 8 KiB pages, a single command's commit fell from ~76 to ~50 µs without it, measured on the
bare statements). Now each flush's last journal row carries the counters as they stand after it
(the rows before it leave them NULL), the head is the journal's last entry, and `ledger_meta` keeps
`projected_seq` alone. A head that names an entry the journal does not hold can no longer exist.

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"

COUNTERS = ("next_block_id", "next_issuance_id")
LAST_ENTRY = "seq = (SELECT MAX(seq) FROM journal)"


def upgrade() -> None:
    for name in COUNTERS:
        op.add_column("journal", sa.Column(name, sa.BigInteger, nullable=True))
        op.execute(
            f"UPDATE journal SET {name} = (SELECT value FROM ledger_meta WHERE name = '{name}') "
            f"WHERE {LAST_ENTRY}"
        )
    op.execute(
        "DELETE FROM ledger_meta WHERE name IN ('head_seq', 'next_block_id', 'next_issuance_id')"
    )


def downgrade() -> None:
    op.execute(
        "INSERT INTO ledger_meta (name, value) SELECT 'head_seq', seq FROM journal "
        f"WHERE {LAST_ENTRY}"
    )
    for name in COUNTERS:
        op.execute(
            f"INSERT INTO ledger_meta (name, value) SELECT '{name}', {name} FROM journal "
            f"WHERE {LAST_ENTRY} AND {name} IS NOT NULL"
        )
        op.drop_column("journal", name)
