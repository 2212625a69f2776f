"""What each account kind may take: a final account receives units in its own final state only,
a cancellation account for OMGE is never issued into, and units past their validity can be
expired wherever they wait (escrow and share-of-proceeds accounts included)."""

from __future__ import annotations

import datetime as dt

import pytest

from carbonex.catalog import AccountKind, default_catalog
from carbonex.ledger import (
    Cancel,
    Command,
    ConsumeHold,
    Expire,
    Issue,
    Ledger,
    PlaceHold,
    Retire,
    Selection,
    Surrender,
    Transfer,
)
from carbonex.ledger.failures import Code
from tests.conftest import FixedClock
from tests.ledger.support import (
    CER_2014,
    EUA,
    accept,
    assert_unchanged,
    held,
    issue,
    open_accounts,
    vcu,
)

FINAL_ACCOUNTS = {
    "RET": "retirement",
    "CAN": "cancellation",
    "SUR": "surrender",
    "OMGE": "omge_cancellation",
}


def open_final_accounts(ledger: Ledger) -> None:
    for account_id, kind in FINAL_ACCOUNTS.items():
        open_accounts(ledger, account_id, kind=kind)


def retire_into(account_id: str) -> Command:
    return Retire("r", "A", Selection("CER", quantity=1), "b", "p", into_account_id=account_id)


def cancel_into(account_id: str) -> Command:
    return Cancel("c", "A", Selection("CER", quantity=1), "r", into_account_id=account_id)


def surrender_into(account_id: str) -> Command:
    return Surrender("s", "OP", Selection("EUA", quantity=1), "2025", into_account_id=account_id)


@pytest.mark.parametrize(
    "command",
    [
        retire_into("CAN"),
        retire_into("OMGE"),
        retire_into("SUR"),
        cancel_into("RET"),
        surrender_into("RET"),
        surrender_into("CAN"),
    ],
    ids=[
        "retired into cancellation",
        "retired into OMGE",
        "retired into surrender",
        "cancelled into retirement",
        "surrendered into retirement",
        "surrendered into cancellation",
    ],
)
def test_a_final_account_receives_its_own_final_state_only(
    ledger: Ledger, command: Command
) -> None:
    open_final_accounts(ledger)
    open_accounts(ledger, "A")
    open_accounts(ledger, "OP", kind="operator_holding")
    issue(ledger, "A", 10, CER_2014)
    issue(ledger, "OP", 10, EUA)
    assert_unchanged(ledger, lambda: ledger.submit(command), Code.E_ACCOUNT_KIND_NOT_PERMITTED)


def test_each_final_account_receives_what_it_is_for(ledger: Ledger) -> None:
    open_final_accounts(ledger)
    open_accounts(ledger, "A")
    open_accounts(ledger, "OP", kind="operator_holding")
    issue(ledger, "A", 10, CER_2014)
    issue(ledger, "OP", 10, EUA)
    accept(ledger, retire_into("RET"))
    accept(ledger, cancel_into("CAN"))
    accept(ledger, surrender_into("SUR"))
    accept(ledger, Cancel("omge", "A", Selection("CER", quantity=1), "OMGE", "OMGE"))
    assert held(ledger, "RET", "retired") == held(ledger, "CAN", "cancelled") == 1
    assert held(ledger, "SUR", "surrendered") == held(ledger, "OMGE", "cancelled") == 1


def test_a_consumed_hold_lands_in_its_own_final_state_only(ledger: Ledger) -> None:
    open_final_accounts(ledger)
    open_accounts(ledger, "A")
    issue(ledger, "A", 10, CER_2014)
    accept(ledger, PlaceHold("h", "A", Selection("CER", quantity=5), "pending retirement"))
    details = {"beneficiary": "b", "purpose": "p"}
    assert_unchanged(
        ledger,
        lambda: ledger.submit(ConsumeHold("to-sur", "h", "retire", "SUR", details)),
        Code.E_ACCOUNT_KIND_NOT_PERMITTED,
    )
    accept(ledger, ConsumeHold("to-ret", "h", "retire", "RET", details))
    assert held(ledger, "RET", "retired") == 5


def test_an_omge_account_is_never_issued_into(ledger: Ledger) -> None:
    open_final_accounts(ledger)
    assert_unchanged(
        ledger,
        lambda: ledger.submit(Issue("issue-into-omge", "OMGE", 50, CER_2014)),
        Code.E_ACCOUNT_KIND_NOT_PERMITTED,
    )


@pytest.mark.parametrize("kind", ["exchange_escrow", "share_of_proceeds"])
def test_units_past_their_validity_are_expired_wherever_they_wait(
    ledger: Ledger, clock: FixedClock, kind: str
) -> None:
    open_accounts(ledger, "A")
    open_accounts(ledger, "WAITING", kind=kind)
    issue(ledger, "A", 10, vcu(valid_until=dt.date(2026, 3, 5)))
    accept(ledger, Transfer("in", "A", "WAITING", Selection("VCU", quantity=10)))
    clock.advance(days=10)
    accept(ledger, Expire("expire", "WAITING", Selection("VCU", quantity=10)))
    assert held(ledger, "WAITING", "expired") == 10


def test_a_catalog_of_an_earlier_version_lets_receive_final_take_any_final_state() -> None:
    legacy = AccountKind("retirement", "old", frozenset({"credit"}), frozenset({"receive_final"}))
    assert all(legacy.may(f"receive_{state}") for state in ("retired", "cancelled", "surrendered"))
    assert not legacy.may("receive")
    retirement = default_catalog().account_kinds["retirement"]
    assert retirement.may("receive_retired") and not retirement.may("receive_cancelled")
