"""An index on the journal's retirements, for the public explorer's retirement pages.

The explorer lists retirements in journal order; without this index each page walked the journal
from its cursor until it had found a page of `retire` entries, which on a transfer-heavy ledger
meant reading most of the journal. Partial, so only `retire` entries pay for it.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"

RETIREMENTS = sa.text("command_kind = 'retire'")


def upgrade() -> None:
    op.create_index(
        "journal_retirements",
        "journal",
        ["seq"],
        sqlite_where=RETIREMENTS,
        postgresql_where=RETIREMENTS,
    )


def downgrade() -> None:
    op.drop_index("journal_retirements", table_name="journal")
