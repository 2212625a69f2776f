"""Two `Ledger` instances on one database: each catches up with what the other committed, by
replaying the journal when a little behind and by reloading when far behind."""

from __future__ import annotations

import pytest

from carbonex.ledger import Code, Ledger, PlaceHold, Selection, Transfer
from carbonex.ledger import state as ledger_state
from tests.conftest import FixedClock
from tests.ledger.support import (
    accept,
    assert_conserved,
    codes_of,
    held,
    issue,
    open_accounts,
    ranges_of,
)


def test_a_ledger_sees_what_another_ledger_moved_since_it_last_looked(
    database_url: str, clock: FixedClock
) -> None:
    with (
        Ledger.open(database_url, clock=clock) as first,
        Ledger.open(database_url, clock=clock) as second,
    ):
        open_accounts(first, "A", "B", "C")
        issue(first, "A", 100)
        accept(first, Transfer("warm-cache", "A", "B", Selection("VCU", quantity=10)))
        accept(second, Transfer("second-moves", "A", "C", Selection("VCU", quantity=85)))
        # The first ledger's cache still remembers A with 90 units: it must catch up.
        refused = first.submit(Transfer("first-moves", "A", "B", Selection("VCU", quantity=10)))
        assert codes_of(refused) == [Code.E_UNITS_NOT_HELD]
        accept(first, Transfer("first-moves-5", "A", "B", Selection("VCU", quantity=5)))
        assert ranges_of(first, "A") == []
        assert ranges_of(first, "B") == [(1, 10), (96, 100)]
        assert ranges_of(first, "C") == [(11, 95)]
        accept(second, Transfer("second-sees-it", "B", "C", Selection("VCU", quantity=15)))
        assert held(second, "C") == 100
        assert_conserved(first)
        assert first.verify().ok


def test_a_ledger_far_behind_another_reloads_its_state(
    database_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ledger_state, "CATCH_UP_ENTRIES_MAX", 2)
    with (
        Ledger.open(database_url, clock=clock) as first,
        Ledger.open(database_url, clock=clock) as second,
    ):
        open_accounts(first, "A", "B")
        issue(first, "A", 100)
        accept(first, PlaceHold("h", "A", Selection("VCU", quantity=10), "order"))
        for n in range(5):
            accept(second, Transfer(f"second-{n}", "A", "B", Selection("VCU", quantity=10)))
        refused = first.submit(Transfer("too-many", "A", "B", Selection("VCU", quantity=41)))
        assert codes_of(refused) == [Code.E_UNITS_ON_HOLD]
        accept(first, Transfer("the-rest", "A", "B", Selection("VCU", quantity=40)))
        assert held(second, "A") == 10
        assert held(second, "B") == 90
        assert first.verify().ok
