"""Account life: open, freeze (every movement stops), unfreeze (they resume), close when empty."""

from __future__ import annotations

import datetime as dt
from functools import partial

from carbonex.ledger import (
    CloseAccount,
    Code,
    Command,
    ConsumeHold,
    Expire,
    FreezeAccount,
    Issue,
    Ledger,
    PlaceHold,
    ReleaseHold,
    Retire,
    Selection,
    Transfer,
    UnfreezeAccount,
)
from tests.conftest import FixedClock
from tests.ledger.support import (
    VCU,
    accept,
    assert_unchanged,
    held,
    issue,
    open_accounts,
    vcu,
)


def status_of(ledger: Ledger, account_id: str) -> str:
    account = ledger.account(account_id)
    assert account is not None
    return str(account["status"])


def movements_of(account: str, suffix: str) -> list[Command]:
    """One of each movement touching `account` (which holds VCU and a pending hold "h")."""
    one = Selection("VCU", quantity=1)
    return [
        Transfer(f"out-{suffix}", account, "B", one),
        Transfer(f"in-{suffix}", "B", account, one),
        Retire(f"retire-{suffix}", account, one, "Beneficiary", "claim"),
        PlaceHold(f"hold-{suffix}", account, one, "escrow"),
        Issue(f"issue-{suffix}", account, 5, VCU),
        ConsumeHold(f"consume-{suffix}", "h", "transfer", "B"),
    ]


def test_freezing_stops_every_movement_and_unfreezing_restores_them(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    issue(ledger, "B", 100)
    accept(ledger, PlaceHold("h", "A", Selection("VCU", quantity=10), "escrow"))
    accept(ledger, FreezeAccount("freeze", "A", "court order"))
    assert ledger.account("A") == {
        "account_id": "A",
        "registry": "CARBONEX",
        "kind": "company_holding",
        "holder": "Holder of A",
        "status": "frozen",
    }
    for command in movements_of("A", "frozen"):
        assert_unchanged(ledger, partial(ledger.submit, command), Code.E_ACCOUNT_FROZEN)
    accept(ledger, UnfreezeAccount("unfreeze", "A", "order lifted"))
    assert status_of(ledger, "A") == "open"
    for command in movements_of("A", "open"):
        accept(ledger, command)
    assert ledger.verify().ok


def test_a_frozen_account_still_expires_units_past_their_validity(
    ledger: Ledger, clock: FixedClock
) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 10, vcu(valid_until=dt.date(2026, 3, 2)))
    accept(ledger, FreezeAccount("freeze", "A", "audit"))
    clock.advance(days=2)
    accept(ledger, Expire("expire", "A", Selection("VCU", quantity=10)))
    assert held(ledger, "A", "expired") == 10


def test_a_pending_hold_on_a_frozen_account_can_still_be_released(ledger: Ledger) -> None:
    """Releasing moves nothing between accounts, so a freeze does not stop it."""
    open_accounts(ledger, "A")
    issue(ledger, "A", 10)
    accept(ledger, PlaceHold("h", "A", Selection("VCU", quantity=10), "escrow"))
    accept(ledger, FreezeAccount("freeze", "A", "audit"))
    accept(ledger, ReleaseHold("release", "h"))
    assert held(ledger, "A", on_hold=True) == 0


def test_an_account_whose_units_are_all_gone_can_close(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    accept(ledger, Retire("r", "A", Selection("VCU", quantity=40), "Beneficiary", "claim"))
    accept(ledger, Transfer("t", "A", "B", Selection("VCU", quantity=60)))
    accept(ledger, CloseAccount("close", "A"))
    assert status_of(ledger, "A") == "closed"
    assert held(ledger, "A", "retired") == 40  # the record of what it retired stays
    assert ledger.verify().ok


def test_a_frozen_empty_account_can_close(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    accept(ledger, FreezeAccount("freeze", "A", "dormant"))
    accept(ledger, CloseAccount("close", "A"))
    assert status_of(ledger, "A") == "closed"


def test_an_opened_account_reads_back_as_opened(ledger: Ledger) -> None:
    open_accounts(ledger, "P", kind="party_holding")
    assert ledger.account("P") == {
        "account_id": "P",
        "registry": "CARBONEX",
        "kind": "party_holding",
        "holder": "Holder of P",
        "status": "open",
    }
    assert ledger.account("nobody") is None
