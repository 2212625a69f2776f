"""Resubmitting an accepted command id returns the first result and applies nothing again."""

from __future__ import annotations

import pytest

from carbonex.ledger import (
    Accepted,
    Command,
    ConsumeHold,
    Convert,
    Issue,
    Ledger,
    OpenAccount,
    PlaceHold,
    ReleaseHold,
    Retire,
    Selection,
    Transfer,
)
from tests.conftest import FixedClock
from tests.ledger.support import (
    CER_2014,
    VCU,
    accept,
    accept_all,
    assert_snapshots_equal,
    held,
    issue,
    open_accounts,
    snapshot,
)


def assert_same_result(first: Accepted, again: object) -> None:
    assert isinstance(again, Accepted), f"resubmission was not accepted: {again}"
    assert again.duplicate is True
    assert first.duplicate is False
    assert (again.command_id, again.seq, again.entry_hash) == (
        first.command_id,
        first.seq,
        first.entry_hash,
    )
    assert [list(effect) for effect in again.effects] == [list(e) for e in first.effects]


def resubmit_changes_nothing(ledger: Ledger, command: Command) -> None:
    first = accept(ledger, command)
    before = snapshot(ledger)
    assert_same_result(first, ledger.submit(command))
    assert_snapshots_equal(before, snapshot(ledger))


def test_resubmitting_an_issue_returns_the_first_entry_and_issues_nothing(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    resubmit_changes_nothing(ledger, Issue("issue-1", "A", 100, VCU))
    assert held(ledger, "A") == 100


def test_resubmitting_a_partial_transfer_moves_nothing_more(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    resubmit_changes_nothing(ledger, Transfer("move-1", "A", "B", Selection("VCU", quantity=30)))
    assert (held(ledger, "A"), held(ledger, "B")) == (70, 30)


def test_resubmitting_a_transfer_of_every_unit_returns_the_first_result(ledger: Ledger) -> None:
    """The units are gone after the first run, so deciding the command again would refuse it:
    the journal's answer must come before any check on the current state."""
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    resubmit_changes_nothing(ledger, Transfer("move-all", "A", "B", Selection("VCU", quantity=100)))


def test_resubmitting_an_open_account_returns_the_first_result(ledger: Ledger) -> None:
    resubmit_changes_nothing(ledger, OpenAccount("open-a", "A", "company_holding", "Acme"))


@pytest.mark.parametrize(
    "command",
    [
        Retire("retire-10", "A", Selection("VCU", quantity=10), "Beneficiary", "claim"),
        PlaceHold("hold-10", "A", Selection("VCU", quantity=10), "escrow"),
    ],
    ids=["retire", "hold"],
)
def test_resubmitting_a_retirement_or_hold_returns_the_first_result(
    ledger: Ledger, command: Command
) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    resubmit_changes_nothing(ledger, command)


def test_resubmitting_a_release_or_consumption_returns_the_first_result(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    accept(ledger, PlaceHold("hold-1", "A", Selection("VCU", quantity=10), "escrow"))
    accept(ledger, PlaceHold("hold-2", "A", Selection("VCU", quantity=10), "escrow"))
    resubmit_changes_nothing(ledger, ReleaseHold("release-1", "hold-1"))
    resubmit_changes_nothing(ledger, ConsumeHold("consume-2", "hold-2", "transfer", "B"))


def test_resubmitting_a_conversion_creates_no_second_issuance(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 50, CER_2014)
    resubmit_changes_nothing(
        ledger, Convert("convert-1", "A", Selection("CER", quantity=20), "CDM-TO-A6.4")
    )


def test_a_new_ledger_on_the_same_database_remembers_accepted_command_ids(
    database_url: str, clock: FixedClock
) -> None:
    transfer = Transfer("move-1", "A", "B", Selection("VCU", quantity=40))
    with Ledger.open(database_url, clock=clock) as first_ledger:
        open_accounts(first_ledger, "A", "B")
        issue(first_ledger, "A", 100)
        first = accept(first_ledger, transfer)
    with Ledger.open(database_url, clock=clock) as second_ledger:
        before = snapshot(second_ledger)
        assert_same_result(first, second_ledger.submit(transfer))
        assert_same_result(first, second_ledger.submit_many([transfer])[0])
        batch = second_ledger.submit_batch([transfer])
        assert isinstance(batch, list)
        assert_same_result(first, batch[0])
        assert_snapshots_equal(before, snapshot(second_ledger))
        assert (held(second_ledger, "A"), held(second_ledger, "B")) == (60, 40)


def test_a_command_repeated_inside_one_submit_many_applies_once(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    transfer = Transfer("move-1", "A", "B", Selection("VCU", quantity=10))
    outcomes = ledger.submit_many([transfer, transfer, transfer])
    first = outcomes[0]
    assert isinstance(first, Accepted)
    for again in outcomes[1:]:
        assert_same_result(first, again)
    assert held(ledger, "B") == 10
    assert len(ledger.journal(limit=100)) == 4


def test_submit_many_answers_an_earlier_accepted_id_with_its_first_result(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    transfer = Transfer("move-1", "A", "B", Selection("VCU", quantity=100))
    first = accept(ledger, transfer)
    outcomes = ledger.submit_many(
        [transfer, Transfer("move-2", "B", "A", Selection("VCU", quantity=1))]
    )
    assert_same_result(first, outcomes[0])
    assert outcomes[1].accepted
    assert (held(ledger, "A"), held(ledger, "B")) == (1, 99)


def test_submit_many_answers_an_earlier_open_account_with_its_first_result(
    ledger: Ledger,
) -> None:
    opening = OpenAccount("open-a", "A", "company_holding", "Acme")
    first = accept(ledger, opening)
    outcomes = ledger.submit_many([opening, OpenAccount("open-b", "B", "trading", "Beta")])
    assert_same_result(first, outcomes[0])
    assert outcomes[1].accepted


def test_a_resubmitted_batch_returns_every_first_result(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    batch: list[Command] = [
        Issue("issue-1", "A", 100, VCU),
        Transfer("move-1", "A", "B", Selection("VCU", quantity=100)),
    ]
    first = accept_all(ledger, batch)
    before = snapshot(ledger)
    again = ledger.submit_batch(batch)
    assert isinstance(again, list)
    for original, repeated in zip(first, again, strict=True):
        assert_same_result(original, repeated)
    assert_snapshots_equal(before, snapshot(ledger))


def test_the_journal_holds_each_command_id_once(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    transfer = Transfer("move-1", "A", "B", Selection("VCU", quantity=10))
    for _ in range(3):
        ledger.submit(transfer)
    ledger.submit_many([transfer, transfer])
    command_ids = [row["command_id"] for row in ledger.journal(limit=100)]
    assert len(command_ids) == len(set(command_ids)) == 4
    assert ledger.verify().ok


@pytest.mark.parametrize("accepted_before", range(8))
def test_a_resubmission_rejected_by_the_journal_leaves_the_connection_usable(
    ledger: Ledger, accepted_before: int
) -> None:
    """A resubmitted id fails the journal's unique index inside the write (optimistic
    idempotency); the unit of work is redone, and later commands still run on the connection.
    PostgreSQL once lost statements the driver prepared inside the failed pipeline: each count
    of earlier commands puts that failure at a different use of the statements."""
    ledger.submit_many(
        [
            OpenAccount("open-a", "A", "company_holding", "A"),
            OpenAccount("open-b", "B", "company_holding", "B"),
            Issue("issue", "A", 1_000, VCU),
        ]
    )
    transfers = [Transfer(f"t{n}", "A", "B", Selection("VCU", quantity=1)) for n in range(20)]
    for transfer in transfers[: accepted_before + 1]:
        assert ledger.submit(transfer).accepted
    for _ in range(3):
        again = ledger.submit(transfers[0])
        assert isinstance(again, Accepted) and again.duplicate
    for transfer in transfers[accepted_before + 1 :]:
        assert ledger.submit(transfer).accepted
    assert ledger.verify().ok
