"""Text with a NUL character is refused with a code, never handed to the database (PostgreSQL
cannot store it), and changes nothing."""

from __future__ import annotations

import dataclasses

from carbonex.ledger import (
    Code,
    Issue,
    Ledger,
    OpenAccount,
    PlaceHold,
    ReleaseHold,
    Retire,
    Selection,
    Transfer,
    UnitAttributes,
)
from tests.ledger.support import VCU, assert_unchanged, issue, open_accounts

NUL = "\x00"
TEN = Selection("VCU", quantity=10)


def issue_command(attributes: UnitAttributes) -> Issue:
    return Issue("i-nul", "A", 10, attributes)


def test_a_nul_in_a_beneficiary_or_a_command_id_is_refused(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 100)
    retire = Retire("r-1", "A", TEN, f"Bene{NUL}ficiary", "offsetting")
    assert_unchanged(ledger, lambda: ledger.submit(retire), Code.E_INVALID_COMMAND)
    bad_id = Retire(f"r{NUL}2", "A", TEN, "Beneficiary", "offsetting")
    assert_unchanged(ledger, lambda: ledger.submit(bad_id), Code.E_INVALID_COMMAND)


def test_a_nul_in_an_account_or_hold_id_finds_nothing(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 100)
    transfer = Transfer("t-1", "A", f"B{NUL}", TEN)
    assert_unchanged(ledger, lambda: ledger.submit(transfer), Code.E_UNKNOWN_ACCOUNT, exact=False)
    opened = OpenAccount("o-1", f"C{NUL}", "company_holding", "C")
    assert_unchanged(ledger, lambda: ledger.submit(opened), Code.E_INVALID_ACCOUNT_ID)
    release = ReleaseHold("rel-1", f"h{NUL}")
    assert_unchanged(ledger, lambda: ledger.submit(release), Code.E_UNKNOWN_HOLD)
    hold = PlaceHold("h-1", "A", TEN, "escrow", f"h{NUL}")
    assert_unchanged(ledger, lambda: ledger.submit(hold), Code.E_INVALID_COMMAND)


def test_a_nul_in_a_label_or_project_is_refused(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    labelled = dataclasses.replace(VCU, labels=(f"CO{NUL}RSIA",))
    assert_unchanged(
        ledger, lambda: ledger.submit(issue_command(labelled)), Code.E_INVALID_ATTRIBUTES
    )
    project = dataclasses.replace(VCU, project_id=f"VCS{NUL}1")
    assert_unchanged(ledger, lambda: ledger.submit(issue_command(project)), Code.E_INVALID_COMMAND)
