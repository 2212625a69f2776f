"""Savepoints inside a write transaction: what a rolled-back savepoint undid stays undone, and
statements run after it, prepared or not, still run (PostgreSQL's driver forgets its prepared
statements at a rollback, inside a pipeline only when the results come back)."""

from __future__ import annotations

from carbonex.ledger import Ledger

HOLDER = "savepoint test"
INSERT_ACCOUNT = (
    "INSERT INTO accounts (account_id, registry, kind, holder, status) VALUES (?, ?, ?, ?, ?)"
)


def account_rows(*names: str) -> list[tuple[str, str, str, str, str]]:
    return [(name, "CARBONEX", "company_holding", HOLDER, "open") for name in names]


def test_statements_prepared_after_a_savepoint_is_rolled_back_still_run(ledger: Ledger) -> None:
    store = ledger.store
    store.begin_write(None)
    try:
        store.execute_many(INSERT_ACCOUNT, account_rows("S-1", "S-2"))
        store.execute("SAVEPOINT carbonex_test")
        store.execute_many(INSERT_ACCOUNT, account_rows("UNDONE"))
        store.rollback_to_savepoint("carbonex_test")
        store.execute_many(INSERT_ACCOUNT, account_rows("S-3", "S-4"))
        store.execute_many(INSERT_ACCOUNT, account_rows("S-5", "S-6"))
        rows = store.query("SELECT account_id FROM accounts WHERE holder = ?", (HOLDER,))
    finally:
        store.rollback()
    assert sorted(row[0] for row in rows) == [f"S-{n}" for n in range(1, 7)]  # not UNDONE
