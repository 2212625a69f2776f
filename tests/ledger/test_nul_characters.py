"""Text with a NUL character is refused with a code, never handed to the database (PostgreSQL
cannot store it), and changes nothing. A NUL is a control character: in a command's text it is
refused as any other (E_TEXT_CHARACTER_NOT_ALLOWED, tests/ledger/test_text_characters.py), in a
command id as an id no command may have (E_INVALID_COMMAND)."""

from __future__ import annotations

import dataclasses
from functools import partial

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
    assert_unchanged(ledger, lambda: ledger.submit(retire), Code.E_TEXT_CHARACTER_NOT_ALLOWED)
    bad_id = Retire(f"r{NUL}2", "A", TEN, "Beneficiary", "offsetting")
    assert_unchanged(ledger, lambda: ledger.submit(bad_id), Code.E_INVALID_COMMAND)


def test_a_nul_in_an_account_or_hold_id_is_refused_before_any_lookup(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 100)
    transfer = Transfer("t-1", "A", f"B{NUL}", TEN)
    opened = OpenAccount("o-1", f"C{NUL}", "company_holding", "C")
    release = ReleaseHold("rel-1", f"h{NUL}")
    hold = PlaceHold("h-1", "A", TEN, "escrow", f"h{NUL}")
    for command in (transfer, opened, release, hold):
        submit = partial(ledger.submit, command)
        assert_unchanged(ledger, submit, Code.E_TEXT_CHARACTER_NOT_ALLOWED)


def test_a_nul_in_a_label_or_project_is_refused(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    labelled = dataclasses.replace(VCU, labels=(f"CO{NUL}RSIA",))
    project = dataclasses.replace(VCU, project_id=f"VCS{NUL}1")
    for attributes in (labelled, project):
        submit = partial(ledger.submit, issue_command(attributes))
        assert_unchanged(ledger, submit, Code.E_TEXT_CHARACTER_NOT_ALLOWED)
