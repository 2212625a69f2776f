"""`Ledger.transact`: services' own writes commit with the units, nested calls join the open
transaction, and a nested refusal rolls everything back."""

from __future__ import annotations

import pytest

from carbonex.ledger import Ledger, OpenAccount, Transaction


def accounts(ledger: Ledger) -> list[str]:
    return [row["account_id"] for row in ledger.accounts()]


def open_account(account_id: str, keep: bool = True):  # type: ignore[no-untyped-def]
    def work(tx: Transaction) -> tuple[bool, bool]:
        outcome = tx.submit(OpenAccount(f"open-{account_id}", account_id, "company_holding", "X"))
        return outcome.accepted, keep and outcome.accepted

    return work


def test_work_that_keeps_commits_and_work_that_does_not_leaves_nothing(ledger: Ledger) -> None:
    assert ledger.transact(open_account("A")) is True
    assert ledger.transact(open_account("B", keep=False)) is True
    assert accounts(ledger) == ["A"]


def test_a_nested_transact_joins_the_open_transaction(ledger: Ledger) -> None:
    def outer(tx: Transaction) -> tuple[list[str], bool]:
        ledger.transact(open_account("INNER"))
        tx.submit(OpenAccount("open-outer", "OUTER", "company_holding", "X"))
        return ledger.read(
            lambda store: [r[0] for r in store.query("SELECT account_id FROM accounts ORDER BY 1")]
        ), True

    assert ledger.transact(outer) == ["INNER", "OUTER"]
    assert accounts(ledger) == ["INNER", "OUTER"]


def test_a_nested_refusal_rolls_the_whole_transaction_back(ledger: Ledger) -> None:
    def outer(tx: Transaction) -> tuple[None, bool]:
        tx.submit(OpenAccount("open-outer", "OUTER", "company_holding", "X"))
        ledger.transact(open_account("INNER", keep=False))
        return None, True

    ledger.transact(outer)
    assert accounts(ledger) == []


def test_submitting_outside_the_transaction_from_inside_it_is_a_bug(ledger: Ledger) -> None:
    def outer(tx: Transaction) -> tuple[None, bool]:
        ledger.submit(OpenAccount("open-x", "X", "company_holding", "X"))
        return None, True

    with pytest.raises(RuntimeError):
        ledger.transact(outer)
    assert accounts(ledger) == []
