"""The explorer's retirement pages read a partial index of the journal's retirements, so a page
costs a page of rows however many transfers lie between retirements."""

from __future__ import annotations

from carbonex.bench.workload import (
    TransferSpec,
    account_id,
    setup_commands,
    submit_all_accepted,
    transfer_commands,
)
from carbonex.ledger import Ledger, Retire, Selection
from carbonex.service import explorer
from carbonex.store.sqlite import SqliteStore

TRANSFERS_BETWEEN = 40


def _retire(number: int) -> Retire:
    return Retire(
        f"retire-{number}",
        account_id(number % 2),
        Selection("VCU", quantity=number + 1),
        f"Beneficiary {number}",
        "explorer test",
    )


def _ledger_with_sparse_retirements(ledger: Ledger, retirements: int) -> None:
    submit_all_accepted(ledger, setup_commands(2, quantity_t=10_000))
    for number in range(retirements):
        specs = [TransferSpec(0, 1, 1), TransferSpec(1, 0, 1)] * (TRANSFERS_BETWEEN // 2)
        submit_all_accepted(ledger, transfer_commands(specs, f"between-{number}"))
        submit_all_accepted(ledger, [_retire(number)])


def test_retirements_page_in_journal_order_past_the_transfers_between(ledger: Ledger) -> None:
    _ledger_with_sparse_retirements(ledger, 5)
    first = explorer.retirements(ledger.store, 2, 0)
    assert [r["beneficiary"] for r in first] == ["Beneficiary 0", "Beneficiary 1"]
    rest = explorer.retirements(ledger.store, 10, first[-1]["seq"])
    assert [r["quantity"] for r in rest] == [3, 4, 5]
    assert explorer.retirements(ledger.store, 10, rest[-1]["seq"]) == []


def test_retirement_pages_read_the_partial_index(ledger: Ledger) -> None:
    store = ledger.store
    if isinstance(store, SqliteStore):
        plan = " ".join(
            str(row[-1])
            for row in store.query(f"EXPLAIN QUERY PLAN {explorer.RETIREMENTS_PAGE}", (0, 10))
        )
        assert "journal_retirements" in plan
    else:  # PostgreSQL plans by statistics; the index and its predicate are what we can check
        (definition,) = store.query_one(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'journal_retirements' "
            "AND schemaname = current_schema()"
        ) or ("",)
        assert "WHERE" in definition and "'retire'" in definition
