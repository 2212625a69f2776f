"""Carbon inclusion: recorded low-carbon actions, aggregations into issued units, each person's
contribution to an aggregation, and the points people carry over to the next one.

Quantities are integers: activity in millionths of its unit, points in milli-points.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    op.create_table(
        "inclusion_actions",
        sa.Column("action_id", sa.String(100), primary_key=True),
        sa.Column("person_id", sa.String(100), nullable=False),
        sa.Column("action_type", sa.String(64), nullable=False),
        sa.Column("quantity_micro", sa.BigInteger, nullable=False),
        sa.Column("day", sa.String(10), nullable=False),
        sa.Column("points_milli", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("recorded_at", sa.String(40), nullable=False),
        sa.Column("reviewed_by", sa.Text, nullable=True),
        sa.Column("reviewed_at", sa.String(40), nullable=True),
        sa.Column("aggregation_id", sa.String(100), nullable=True),
    )
    op.create_index(
        "inclusion_actions_by_person", "inclusion_actions", ["person_id", "day", "action_type"]
    )
    op.create_index("inclusion_actions_by_status", "inclusion_actions", ["status", "day"])
    op.create_index("inclusion_actions_by_aggregation", "inclusion_actions", ["aggregation_id"])
    op.create_table(
        "inclusion_aggregations",
        sa.Column("aggregation_id", sa.String(100), primary_key=True),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("aggregator_account_id", sa.String(64), nullable=False),
        sa.Column("period_start", sa.String(10), nullable=False),
        sa.Column("period_end", sa.String(10), nullable=False),
        sa.Column("unit_type", sa.String(32), nullable=False),
        sa.Column("project_id", sa.Text, nullable=False),
        sa.Column("host_country", sa.String(2), nullable=False),
        sa.Column("units", sa.BigInteger, nullable=False),
        sa.Column("points_per_unit", sa.BigInteger, nullable=False),
        sa.Column("points_used_milli", sa.BigInteger, nullable=False),
        sa.Column("people", sa.BigInteger, nullable=False),
        sa.Column("actions", sa.BigInteger, nullable=False),
        sa.Column("command_id", sa.String(128), nullable=False),
        sa.Column("journal_seq", sa.BigInteger, nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("serial_space", sa.String(64), nullable=False),
        sa.Column("first_serial", sa.BigInteger, nullable=False),
        sa.Column("last_serial", sa.BigInteger, nullable=False),
        sa.Column("aggregated_at", sa.String(40), nullable=False),
    )
    op.create_table(
        "inclusion_contributions",
        sa.Column("aggregation_id", sa.String(100), primary_key=True),
        sa.Column("person_id", sa.String(100), primary_key=True),
        sa.Column("available_milli", sa.BigInteger, nullable=False),
        sa.Column("used_milli", sa.BigInteger, nullable=False),
        sa.Column("carried_milli", sa.BigInteger, nullable=False),
        sa.Column("actions", sa.BigInteger, nullable=False),
    )
    op.create_index("inclusion_contributions_by_person", "inclusion_contributions", ["person_id"])
    op.create_table(
        "inclusion_balances",
        sa.Column("person_id", sa.String(100), primary_key=True),
        sa.Column("carried_milli", sa.BigInteger, nullable=False),
    )


def downgrade() -> None:
    for table in (
        "inclusion_balances",
        "inclusion_contributions",
        "inclusion_aggregations",
        "inclusion_actions",
    ):
        op.drop_table(table)
