"""Projects and MRV: registered projects, their hash-chained event history, monitoring reports.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("project_id", sa.String(64), primary_key=True),
        sa.Column("standard", sa.String(32), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("host_country", sa.String(2), nullable=False),
        sa.Column("methodology", sa.Text, nullable=False),
        sa.Column("location", sa.Text, nullable=False),
        sa.Column("proponent_account_id", sa.String(64), nullable=False),
        sa.Column("other_registrations", sa.Text, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("last_event_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "project_events",
        sa.Column("event_seq", ID, primary_key=True, autoincrement=False),
        sa.Column("request_id", sa.String(128), nullable=False, unique=True),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("payload", sa.LargeBinary, nullable=False),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("event_hash", sa.String(64), nullable=False),
    )
    op.create_index("project_events_by_project", "project_events", ["project_id", "event_seq"])
    op.create_table(
        "monitoring_reports",
        sa.Column("event_seq", ID, primary_key=True, autoincrement=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("period_start", sa.String(10), nullable=False),
        sa.Column("period_end", sa.String(10), nullable=False),
        sa.Column("claimed_t", sa.BigInteger, nullable=False),
        sa.Column("verified_t", sa.BigInteger, nullable=True),
        sa.Column("issued_t", sa.BigInteger, nullable=True),
        sa.Column("issuance_journal_seq", sa.BigInteger, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
    )
    op.create_index(
        "monitoring_reports_by_project", "monitoring_reports", ["project_id", "period_start"]
    )


def downgrade() -> None:
    for table in ("monitoring_reports", "project_events", "projects"):
        op.drop_table(table)
