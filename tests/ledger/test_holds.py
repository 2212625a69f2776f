"""Holds: reserve active units, then release them (they merge back) or consume them (transfer,
retire, cancel, surrender) in one step."""

from __future__ import annotations

import pytest

from carbonex.ledger import (
    ConsumeHold,
    Ledger,
    PlaceHold,
    ReleaseHold,
    Selection,
    Transfer,
)
from tests.ledger.support import (
    EUA,
    accept,
    assert_conserved,
    blocks,
    held,
    issue,
    open_accounts,
    ranges,
    ranges_of,
    table_rows,
)


def hold_row(ledger: Ledger, hold_id: str) -> tuple[object, ...]:
    [row] = [row for row in table_rows(ledger, "holds") if row[0] == hold_id]
    return row


def with_hold(ledger: Ledger, quantity: int = 30) -> None:
    """A holds VCU 1-100; hold "order-1" reserves its lowest `quantity` serials."""
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    accept(
        ledger,
        PlaceHold(
            "hold-cmd", "A", Selection("VCU", quantity=quantity), "exchange", hold_id="order-1"
        ),
    )


def test_placing_a_hold_reserves_units_without_moving_them(ledger: Ledger) -> None:
    with_hold(ledger)
    assert held(ledger, "A") == 100
    assert held(ledger, "A", on_hold=True) == 30
    assert hold_row(ledger, "order-1") == ("order-1", "A", 30, "pending", "exchange")
    held_blocks = [b for b in blocks(ledger) if b["hold_id"] == "order-1"]
    assert [(b["first_serial"], b["last_serial"]) for b in held_blocks] == [(1, 30)]
    assert ledger.summary()["totals"]["on_hold"] == 30
    assert ledger.verify().ok


def test_a_hold_on_explicit_ranges_reserves_exactly_those_serials(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    selection = Selection("VCU", serial_ranges=ranges((41, 50)))
    accept(ledger, PlaceHold("hold-41-50", "A", selection, "settlement"))
    held_blocks = [b for b in blocks(ledger) if b["hold_id"] == "hold-41-50"]
    assert [(b["first_serial"], b["last_serial"]) for b in held_blocks] == [(41, 50)]
    assert hold_row(ledger, "hold-41-50")[2] == 10


def test_releasing_a_hold_frees_the_units_and_merges_the_blocks_back(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    selection = Selection("VCU", serial_ranges=ranges((41, 50)))
    accept(ledger, PlaceHold("hold-mid", "A", selection, "settlement"))
    assert len(blocks(ledger)) == 3
    accept(ledger, ReleaseHold("release", "hold-mid"))
    assert ranges_of(ledger, "A") == [(1, 100)]
    assert len(blocks(ledger)) == 1
    assert held(ledger, "A", on_hold=True) == 0
    assert hold_row(ledger, "hold-mid")[3] == "released"
    accept(ledger, Transfer("t-all", "A", "B", Selection("VCU", quantity=100)))
    assert ledger.verify().ok


def test_consuming_a_hold_as_a_transfer_moves_exactly_the_held_units(ledger: Ledger) -> None:
    with_hold(ledger)
    accept(ledger, ConsumeHold("deliver", "order-1", "transfer", "B"))
    assert ranges_of(ledger, "B") == [(1, 30)]
    assert ranges_of(ledger, "A") == [(31, 100)]
    assert held(ledger, "B", on_hold=True) == 0
    assert hold_row(ledger, "order-1")[3] == "consumed"
    assert ledger.verify().ok


@pytest.mark.parametrize(
    ("action", "details", "state"),
    [
        ("retire", {"beneficiary": "City of Oslo", "purpose": "2025 footprint"}, "retired"),
        ("cancel", {"reason": "voluntary cancellation"}, "cancelled"),
    ],
)
def test_consuming_a_hold_in_place_puts_the_units_in_their_final_state(
    ledger: Ledger, action: str, details: dict[str, str], state: str
) -> None:
    with_hold(ledger)
    accept(ledger, ConsumeHold("finish", "order-1", action, details=details))
    assert ranges_of(ledger, "A", state) == [(1, 30)]
    assert held(ledger, "A") == 70
    assert hold_row(ledger, "order-1")[3] == "consumed"
    [line] = [line for line in ledger.statement("A") if line["command_id"] == "finish"]
    assert details.items() <= line["details"].items()
    assert ledger.verify().ok


def test_consuming_a_hold_as_a_retirement_into_a_retirement_account(ledger: Ledger) -> None:
    with_hold(ledger)
    open_accounts(ledger, "R", kind="retirement")
    details = {"beneficiary": "Beneficiary", "purpose": "claim"}
    accept(ledger, ConsumeHold("finish", "order-1", "retire", "R", details))
    assert ranges_of(ledger, "R", "retired") == [(1, 30)]
    assert ledger.verify().ok


def test_consuming_a_hold_as_a_surrender(ledger: Ledger) -> None:
    open_accounts(ledger, "O", kind="operator_holding")
    issue(ledger, "O", 50, EUA)
    accept(ledger, PlaceHold("hold-eua", "O", Selection("EUA", quantity=20), "compliance"))
    accept(
        ledger,
        ConsumeHold("surrender", "hold-eua", "surrender", details={"compliance_period": "2025"}),
    )
    assert ranges_of(ledger, "O", "surrendered", "EU/EUA") == [(1, 20)]
    assert ranges_of(ledger, "O", "active", "EU/EUA") == [(21, 50)]
    assert ledger.summary()["totals"]["surrendered"] == 20
    assert ledger.verify().ok


def test_a_hold_made_of_several_blocks_moves_whole(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 10)
    issue(ledger, "A", 10)
    issue(ledger, "A", 10)
    accept(ledger, PlaceHold("h", "A", Selection("VCU", quantity=25), "order"))
    assert hold_row(ledger, "h")[2] == 25
    accept(ledger, ConsumeHold("deliver", "h", "transfer", "B"))
    assert ranges_of(ledger, "B") == [(1, 10), (11, 20), (21, 25)]
    assert_conserved(ledger)
    assert ledger.verify().ok


def test_two_holds_side_by_side_release_independently(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    accept(ledger, PlaceHold("h1", "A", Selection("VCU", quantity=10), "one"))
    accept(ledger, PlaceHold("h2", "A", Selection("VCU", quantity=10), "two"))
    accept(ledger, ReleaseHold("r1", "h1"))
    assert ranges_of(ledger, "A") == [(1, 10), (11, 20), (21, 100)]
    assert held(ledger, "A", on_hold=True) == 10
    accept(ledger, ReleaseHold("r2", "h2"))
    assert ranges_of(ledger, "A") == [(1, 100)]
    assert ledger.verify().ok
