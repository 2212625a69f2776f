"""The catalogs journal entries name: one row per catalog a writer decided commands under.

Every journal entry names the digest of the catalog it was decided under; the catalog itself (its
canonical record, whose SHA-256 the digest is) is kept here, written in the same transaction as
the first entries naming it (`first_seq`: the first of them), so that the rules of every part of
the history stay with the history and deciding an entry again needs no copy of an earlier
catalog. An export writes each catalog just before the first entry naming it.

A downgrade leaves the table and its rows in place: the entries still name those catalogs, and
dropping the records would lose the rules they were decided under for good (an older schema
ignores the table). Upgrading again finds them there.

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
TABLE = "catalogs"


def upgrade() -> None:
    if TABLE in sa.inspect(op.get_bind()).get_table_names():
        return  # kept through a downgrade
    op.create_table(
        TABLE,
        sa.Column("digest", sa.String(64), primary_key=True),
        sa.Column("record", sa.LargeBinary, nullable=False),
        sa.Column("first_seq", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    """Nothing: the kept catalogs stay (see above)."""
