"""The audit log is indexed by actor and action.

An idempotency key names one request, whichever route it went to. Naming a representative and
importing a file write no table of their own: their keys are kept in the audit rows they write,
so every write with a key looks for that user's rows of those actions. Without an index that was
a scan of the whole audit log (a row per write) per write, which is why only those two routes
looked; with it, the lookup reads the few rows of one user's representative namings and imports.

Revision ID: 0010
Revises: 0009
"""

from alembic import op

revision = "0010"
down_revision = "0009"


def upgrade() -> None:
    op.create_index("audit_log_by_actor", "audit_log", ["actor", "action", "audit_seq"])


def downgrade() -> None:
    op.drop_index("audit_log_by_actor", table_name="audit_log")
