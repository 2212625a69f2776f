"""Private read models: inside one read transaction, copies of the read models that a projection
brings up to the journal without writing the database, and that end with the transaction."""

from __future__ import annotations

from carbonex.store import open_store
from tests.ledger.test_verify_writes_nothing import as_committed, assert_lagging, lagging_ledger

STATEMENT_RUNS_TO_PREPARE = 10
"""More runs of one statement than psycopg makes before preparing it on the server (5)."""


def test_what_is_projected_into_private_read_models_is_read_there_and_nowhere_else(
    database_url: str,
) -> None:
    """Every statement reads the copies, one the connection prepared before they were made
    included (on PostgreSQL such a statement keeps the table it found when prepared unless the
    search path changes)."""
    lagging_ledger(database_url)
    before = as_committed(database_url)
    assert_lagging(before[1])
    store = open_store(database_url, migrate=False, must_exist=True)
    try:
        store.execute("CREATE TEMPORARY TABLE earlier (x INTEGER)")  # the session has temp tables
        for _ in range(STATEMENT_RUNS_TO_PREPARE):
            store.load_head()
        store.begin_read_with_private_read_models()
        head = store.load_head()
        store.project_journal(head.projected_seq, head.seq)
        assert store.load_head().projected_seq == head.seq
        assert store.query("SELECT COUNT(*) FROM blocks WHERE account_id = 'C'") == [(1,)]
        store.rollback()
        assert store.query("SELECT COUNT(*) FROM blocks WHERE account_id = 'C'") == [(0,)]
    finally:
        store.close()
    assert as_committed(database_url) == before
