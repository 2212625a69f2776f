"""`Ledger.transact`: services' own writes commit with the units, nested calls join the open
transaction, and a nested refusal rolls everything back; work inside a savepoint that does not
keep is undone alone."""

from __future__ import annotations

import pytest

from carbonex.ledger import Command, Ledger, OpenAccount, Selection, Transaction, Transfer
from carbonex.ledger.limits import PENDING_ENTRIES_FLUSH
from carbonex.ledger.service import SAVEPOINT_DEPTH_MAX
from carbonex.ledger.state import LedgerState
from tests.ledger.support import (
    accept,
    assert_snapshots_equal,
    held,
    issue,
    open_accounts,
    snapshot,
)


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


def vcus(quantity_t: int) -> Selection:
    return Selection("VCU", quantity=quantity_t)


def transfers(count: int, quantity_t: int, prefix: str) -> list[Command]:
    return [Transfer(f"{prefix}-{n}", "A", "B", vcus(quantity_t)) for n in range(count)]


def in_savepoint(tx: Transaction, commands: list[Command]) -> bool:
    def batch() -> tuple[bool, bool]:
        outcome = tx.submit_batch(commands)
        return isinstance(outcome, list), isinstance(outcome, list)

    return tx.savepoint(batch)


def test_a_refused_batch_in_a_savepoint_undoes_itself_and_the_transaction_goes_on(
    ledger: Ledger,
) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 1_000)
    # More commands than are queued before a flush, so part of the refused batch was written.
    refused_batch = [*transfers(PENDING_ENTRIES_FLUSH + 50, 1, "lost"), *transfers(1, 10**6, "x")]

    def work(tx: Transaction) -> tuple[list[bool], bool]:
        kept = [in_savepoint(tx, transfers(3, 2, "before"))]
        kept.append(in_savepoint(tx, refused_batch))
        kept.append(in_savepoint(tx, transfers(2, 5, "after")))
        return kept, True

    assert ledger.transact(work) == [True, False, True]
    assert (held(ledger, "A"), held(ledger, "B")) == (984, 16)
    assert ledger.head()["seq"] == 3 + 3 + 2  # opens and issue, then the kept transfers
    assert not any(entry["command_id"].startswith("lost") for entry in ledger.journal())
    report = ledger.verify()
    assert report.ok, report.problems
    accept(ledger, Transfer("later", "A", "B", vcus(4)))  # the cache is as the store is
    assert held(ledger, "B") == 20


def test_a_savepoint_refused_at_its_first_command_keeps_the_cache_and_one_that_applied_reloads(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    reloads: list[LedgerState] = []
    reload = LedgerState.reload

    def counted(state: LedgerState) -> None:
        reloads.append(state)
        reload(state)

    monkeypatch.setattr(LedgerState, "reload", counted)

    def work(tx: Transaction) -> tuple[list[bool], bool]:
        kept = [in_savepoint(tx, transfers(2, 1, "first"))]
        kept.append(in_savepoint(tx, transfers(1, 10**6, "refused-at-once")))
        after_first_refusal = len(reloads)
        kept.append(in_savepoint(tx, [*transfers(1, 3, "applied"), *transfers(1, 10**6, "no")]))
        kept.append(len(reloads) == after_first_refusal + 1)
        kept.append(in_savepoint(tx, transfers(1, 4, "last")))
        return [*kept, after_first_refusal == 0], True

    assert ledger.transact(work) == [True, False, False, True, True, True]
    assert (held(ledger, "A"), held(ledger, "B")) == (94, 6)
    report = ledger.verify()
    assert report.ok, report.problems


def test_a_transaction_that_does_not_keep_after_a_savepoint_rolled_back_leaves_nothing(
    ledger: Ledger,
) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    before = snapshot(ledger, ["A", "B"])

    def work(tx: Transaction) -> tuple[None, bool]:
        in_savepoint(tx, transfers(2, 1, "kept"))
        in_savepoint(tx, transfers(1, 10**6, "refused"))
        in_savepoint(tx, transfers(2, 1, "also-kept"))
        return None, False

    ledger.transact(work)
    assert_snapshots_equal(before, snapshot(ledger, ["A", "B"]))
    accept(ledger, Transfer("later", "A", "B", vcus(4)))
    assert held(ledger, "B") == 4


def test_savepoints_nest_only_so_deep(ledger: Ledger) -> None:
    def nested(tx: Transaction, depth: int) -> tuple[int, bool]:
        return tx.savepoint(lambda: nested(tx, depth + 1)), True

    with pytest.raises(RuntimeError, match=f"at most {SAVEPOINT_DEPTH_MAX} deep"):
        ledger.transact(lambda tx: nested(tx, 0))
    accept(ledger, OpenAccount("after", "A", "company_holding", "X"))
