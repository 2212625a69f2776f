"""Registry kernel: accounts, unit attributes, issuances, blocks, holds, journal, movements.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

# SQLite makes a column an alias of the rowid (no separate index) only when it is declared exactly
# INTEGER PRIMARY KEY; BIGINT would cost a second B-tree on every insert.
ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "accounts",
        sa.Column("account_id", sa.String(64), primary_key=True),
        sa.Column("registry", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("holder", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_table(
        "unit_attributes",
        sa.Column("attributes_id", sa.String(32), primary_key=True),
        sa.Column("unit_type", sa.String(32), nullable=False),
        sa.Column("standard", sa.Text, nullable=False),
        sa.Column("project_id", sa.Text, nullable=False),
        sa.Column("vintage_start", sa.String(10), nullable=False),
        sa.Column("vintage_end", sa.String(10), nullable=False),
        sa.Column("host_country", sa.String(2), nullable=False),
        sa.Column("methodology", sa.Text, nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("authorization_ref", sa.Text, nullable=False),
        sa.Column("valid_until", sa.String(10), nullable=True),
        sa.Column("record", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "issuances",
        sa.Column("issuance_id", ID, primary_key=True, autoincrement=False),
        sa.Column("serial_space", sa.String(64), nullable=False),
        sa.Column("first_serial", sa.BigInteger, nullable=False),
        sa.Column("last_serial", sa.BigInteger, nullable=False),
        sa.Column("attributes_id", sa.String(32), nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("lineage", sa.Text, nullable=True),
    )
    op.create_index(
        "issuances_by_serial", "issuances", ["serial_space", "first_serial"], unique=True
    )
    op.create_table(
        "blocks",
        sa.Column("block_id", ID, primary_key=True, autoincrement=False),
        sa.Column("issuance_id", sa.BigInteger, nullable=False),
        sa.Column("serial_space", sa.String(64), nullable=False),
        sa.Column("first_serial", sa.BigInteger, nullable=False),
        sa.Column("last_serial", sa.BigInteger, nullable=False),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attributes_id", sa.String(32), nullable=False),
        sa.Column("hold_id", sa.String(128), nullable=True),
    )
    op.create_index("blocks_by_account", "blocks", ["account_id", "state"])
    op.create_index("blocks_by_serial", "blocks", ["serial_space", "first_serial"])
    op.create_table(
        "holds",
        sa.Column("hold_id", sa.String(128), primary_key=True),
        sa.Column("account_id", sa.String(64), nullable=False),
        sa.Column("quantity", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("purpose", sa.Text, nullable=False),
    )
    op.create_table(
        "journal",
        sa.Column("seq", ID, primary_key=True, autoincrement=False),
        sa.Column("command_id", sa.String(128), nullable=False, unique=True),
        sa.Column("command_kind", sa.String(32), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("recorded_at", sa.String(40), nullable=False),
    )
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
    op.create_index("movements_by_from", "movements", ["from_account", "seq"])
    op.create_index("movements_by_to", "movements", ["to_account", "seq"])
    op.create_index("movements_by_serial", "movements", ["serial_space", "last_serial"])
    op.create_table(
        "ledger_meta",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("value", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "ledger_meta",
        "movements",
        "journal",
        "holds",
        "blocks",
        "issuances",
        "unit_attributes",
        "accounts",
    ):
        op.drop_table(table)
