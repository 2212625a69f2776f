"""The pages' own reads, on both stores: an account's latest movements."""

from __future__ import annotations

from carbonex.ledger import Ledger, Selection, Transfer
from carbonex.service.pages import reads
from tests.ledger.support import accept, issue, open_accounts, ranges

MOVEMENTS_SHOWN = 12


def test_the_latest_movements_begin_with_the_newest_after_an_entry_of_a_thousand_ranges(
    ledger: Ledger,
) -> None:
    open_accounts(ledger, "A", "B", "C")
    issue(ledger, "A", 2_000)  # serials 1 to 2,000 of a new ledger
    every_other = ranges(*((serial, serial) for serial in range(1, 2_001, 2)))
    many = accept(ledger, Transfer("many", "A", "B", Selection("VCU", serial_ranges=every_other)))
    last = accept(ledger, Transfer("last", "A", "C", Selection("VCU", quantity=5)))
    latest = reads.recent_movements(ledger, "A", MOVEMENTS_SHOWN)
    assert [line["seq"] for line in latest] == [last.seq] * 5 + [many.seq] * 7
