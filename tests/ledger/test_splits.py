"""Block arithmetic: a partial move splits a block, units that come back merge, and the size of a
block never costs rows (a billion-tonne issuance is one row, moving half of it is one split)."""

from __future__ import annotations

from typing import Any

from carbonex.ledger import Ledger, Selection, Transfer
from tests.ledger.support import (
    accept,
    assert_conserved,
    blocks,
    issue,
    open_accounts,
    ranges,
    ranges_of,
    vintage,
)


def account_blocks(ledger: Ledger, account_id: str) -> list[dict[str, Any]]:
    return ledger.blocks(account_id, limit=1_000)


def test_a_partial_transfer_splits_one_block_into_two(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    [original] = account_blocks(ledger, "A")
    accept(ledger, Transfer("t-30", "A", "B", Selection("VCU", quantity=30)))
    assert ranges_of(ledger, "A") == [(31, 100)]
    assert ranges_of(ledger, "B") == [(1, 30)]
    assert len(blocks(ledger)) == 2
    # The piece that stayed keeps the original block id.
    assert [b["block_id"] for b in account_blocks(ledger, "A")] == [original["block_id"]]
    assert_conserved(ledger)


def test_a_middle_range_splits_one_block_into_three(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    accept(ledger, Transfer("t-mid", "A", "B", Selection("VCU", serial_ranges=ranges((40, 59)))))
    assert ranges_of(ledger, "A") == [(1, 39), (60, 100)]
    assert ranges_of(ledger, "B") == [(40, 59)]
    assert len(blocks(ledger)) == 3
    assert_conserved(ledger)


def test_units_that_come_back_merge_into_one_block_again(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    accept(ledger, Transfer("t-mid", "A", "B", Selection("VCU", serial_ranges=ranges((40, 59)))))
    accept(ledger, Transfer("back", "B", "A", Selection("VCU", quantity=20)))
    assert ranges_of(ledger, "A") == [(1, 100)]
    assert ranges_of(ledger, "B") == []
    assert len(blocks(ledger)) == 1
    assert ledger.verify().ok


def test_units_that_come_back_in_pieces_merge_piece_by_piece(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    accept(ledger, Transfer("out", "A", "B", Selection("VCU", serial_ranges=ranges((20, 79)))))
    accept(ledger, Transfer("back-1", "B", "A", Selection("VCU", serial_ranges=ranges((20, 29)))))
    assert ranges_of(ledger, "A") == [(1, 29), (80, 100)]
    accept(ledger, Transfer("back-2", "B", "A", Selection("VCU", serial_ranges=ranges((70, 79)))))
    assert ranges_of(ledger, "A") == [(1, 29), (70, 100)]
    accept(ledger, Transfer("back-3", "B", "A", Selection("VCU", quantity=40)))
    assert ranges_of(ledger, "A") == [(1, 100)]
    assert len(blocks(ledger)) == 1
    assert ledger.verify().ok


def test_neighbouring_blocks_of_different_issuances_never_merge(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 10, vintage(2020))
    issue(ledger, "A", 10, vintage(2020))  # same attributes, another issuance
    accept(ledger, Transfer("t", "A", "B", Selection("VCU", quantity=20)))
    assert ranges_of(ledger, "B") == [(1, 10), (11, 20)]


def test_moving_a_whole_block_rewrites_one_row(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    [before] = account_blocks(ledger, "A")
    accept(ledger, Transfer("t-all", "A", "B", Selection("VCU", quantity=100)))
    [after] = account_blocks(ledger, "B")
    assert after["block_id"] == before["block_id"]
    assert len(blocks(ledger)) == 1


def test_a_billion_tonne_issuance_is_one_block_and_moving_half_is_one_split(
    ledger: Ledger,
) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 10**9)
    assert len(account_blocks(ledger, "A")) == 1
    accept(ledger, Transfer("half", "A", "B", Selection("VCU", quantity=5 * 10**8)))
    [kept] = account_blocks(ledger, "A")
    [moved] = account_blocks(ledger, "B")
    assert (kept["quantity"], moved["quantity"]) == (5 * 10**8, 5 * 10**8)
    assert (moved["first_serial"], moved["last_serial"]) == (1, 5 * 10**8)
    assert len(blocks(ledger)) == 2
    assert ledger.summary()["totals"]["held"] == 10**9
    assert ledger.verify().ok


def test_a_quantity_near_the_limit_moves_as_block_arithmetic(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 10**15)
    accept(ledger, Transfer("most", "A", "B", Selection("VCU", quantity=10**15 - 1)))
    assert ranges_of(ledger, "A") == [(10**15, 10**15)]
    assert ranges_of(ledger, "B") == [(1, 10**15 - 1)]
    assert ledger.verify().ok
