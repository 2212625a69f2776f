"""Choosing units: lowest serials first (with filters), or exactly the named serial ranges."""

from __future__ import annotations

import datetime as dt
from functools import partial

from carbonex.ledger import Code, Ledger, PlaceHold, Retire, Selection, Transfer
from tests.ledger.support import (
    accept,
    assert_conserved,
    assert_unchanged,
    held,
    issue,
    open_accounts,
    ranges,
    ranges_of,
    vcu,
    vintage,
)


def three_issuances(ledger: Ledger) -> None:
    """A holds 1-10 (vintage 2019, project P-1), 11-20 (2020, P-2, labelled CCP) and
    21-30 (2021, P-1)."""
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 10, vintage(2019, project_id="P-1"))
    issue(ledger, "A", 10, vintage(2020, project_id="P-2", labels=("CCP", "CORSIA")))
    issue(ledger, "A", 10, vintage(2021, project_id="P-1"))


def move(ledger: Ledger, command_id: str, selection: Selection, source: str = "A") -> None:
    target = "B" if source == "A" else "A"
    accept(ledger, Transfer(command_id, source, target, selection))


def test_a_quantity_takes_the_lowest_serials_first_across_blocks(ledger: Ledger) -> None:
    three_issuances(ledger)
    move(ledger, "t-15", Selection("VCU", quantity=15))
    assert ranges_of(ledger, "B") == [(1, 10), (11, 15)]
    assert ranges_of(ledger, "A") == [(16, 20), (21, 30)]


def test_the_lowest_serials_first_skip_the_serials_the_account_no_longer_holds(
    ledger: Ledger,
) -> None:
    three_issuances(ledger)
    move(ledger, "t-range", Selection("VCU", serial_ranges=ranges((3, 12))))
    assert ranges_of(ledger, "A") == [(1, 2), (13, 20), (21, 30)]
    move(ledger, "t-5", Selection("VCU", quantity=5))
    # 1-2 and 13-15 arrive next to serials of their issuances and merge with them.
    assert ranges_of(ledger, "B") == [(1, 10), (11, 15)]
    move(ledger, "back-4", Selection("VCU", quantity=4), source="B")
    assert ranges_of(ledger, "A") == [(1, 4), (16, 20), (21, 30)]


def test_a_quantity_skips_units_on_hold(ledger: Ledger) -> None:
    three_issuances(ledger)
    accept(ledger, PlaceHold("hold-1-5", "A", Selection("VCU", quantity=5), "escrow"))
    move(ledger, "t-5", Selection("VCU", quantity=5))
    assert ranges_of(ledger, "B") == [(6, 10)]


def test_a_vintage_filter_takes_the_lowest_serials_of_that_vintage(ledger: Ledger) -> None:
    three_issuances(ledger)
    move(ledger, "t-2020", Selection("VCU", quantity=5, vintage_year=2020))
    assert ranges_of(ledger, "B") == [(11, 15)]


def test_a_vintage_filter_matches_any_year_a_vintage_spans(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    spanning = vcu(vintage_start=dt.date(2018, 7, 1), vintage_end=dt.date(2020, 6, 30))
    issue(ledger, "A", 10, vintage(2017))
    issue(ledger, "A", 10, spanning)
    move(ledger, "t-2019", Selection("VCU", quantity=3, vintage_year=2019))
    assert ranges_of(ledger, "B") == [(11, 13)]


def test_a_project_filter_takes_the_lowest_serials_of_that_project(ledger: Ledger) -> None:
    three_issuances(ledger)
    move(ledger, "t-p1", Selection("VCU", quantity=15, project_id="P-1"))
    assert ranges_of(ledger, "B") == [(1, 10), (21, 25)]
    assert ranges_of(ledger, "A") == [(11, 20), (26, 30)]


def test_a_label_filter_takes_only_labelled_units(ledger: Ledger) -> None:
    three_issuances(ledger)
    move(ledger, "t-ccp", Selection("VCU", quantity=4, label="CCP"))
    assert ranges_of(ledger, "B") == [(11, 14)]


def test_filters_combine(ledger: Ledger) -> None:
    three_issuances(ledger)
    move(ledger, "t", Selection("VCU", quantity=2, project_id="P-1", vintage_year=2021))
    assert ranges_of(ledger, "B") == [(21, 22)]


def test_a_filter_that_leaves_too_few_units_is_refused_even_if_others_would_do(
    ledger: Ledger,
) -> None:
    three_issuances(ledger)
    for selection in (
        Selection("VCU", quantity=11, label="CCP"),
        Selection("VCU", quantity=1, project_id="P-9"),
        Selection("VCU", quantity=1, vintage_year=2022),
    ):
        assert_unchanged(
            ledger,
            partial(ledger.submit, Transfer("t", "A", "B", selection)),
            Code.E_UNITS_NOT_HELD,
        )


def test_an_explicit_range_can_span_several_blocks(ledger: Ledger) -> None:
    three_issuances(ledger)
    move(ledger, "t-5-25", Selection("VCU", serial_ranges=ranges((5, 25))))
    assert ranges_of(ledger, "B") == [(5, 10), (11, 20), (21, 25)]
    assert ranges_of(ledger, "A") == [(1, 4), (26, 30)]
    assert_conserved(ledger)


def test_several_explicit_ranges_over_several_blocks_move_exactly_those_serials(
    ledger: Ledger,
) -> None:
    three_issuances(ledger)
    move(ledger, "t", Selection("VCU", serial_ranges=ranges((25, 30), (9, 12))))
    assert ranges_of(ledger, "B") == [(9, 10), (11, 12), (25, 30)]
    assert ranges_of(ledger, "A") == [(1, 8), (13, 20), (21, 24)]
    assert_conserved(ledger)
    assert ledger.verify().ok


def test_two_explicit_ranges_inside_one_block_move_exactly_those_serials(ledger: Ledger) -> None:
    """Both ranges come from the same block: each must split what is left of it, never the
    block as it was before the first range moved."""
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 10)
    move(ledger, "t", Selection("VCU", serial_ranges=ranges((1, 3), (7, 9))))
    assert ranges_of(ledger, "B") == [(1, 3), (7, 9)]
    assert ranges_of(ledger, "A") == [(4, 6), (10, 10)]
    assert (held(ledger, "A"), held(ledger, "B")) == (4, 6)
    assert_conserved(ledger)
    assert ledger.verify().ok


def test_three_ranges_inside_one_block_retire_exactly_those_serials(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 100)
    selection = Selection("VCU", serial_ranges=ranges((10, 19), (40, 49), (90, 100)))
    accept(ledger, Retire("retire-3", "A", selection, "Beneficiary", "claim"))
    assert ranges_of(ledger, "A", "retired") == [(10, 19), (40, 49), (90, 100)]
    assert ranges_of(ledger, "A") == [(1, 9), (20, 39), (50, 89)]
    assert_conserved(ledger)
    assert ledger.verify().ok


def test_a_selection_of_another_registry_draws_on_that_serial_space_only(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 10)
    issue(ledger, "A", 10, registry="GS")
    move(ledger, "t-gs", Selection("VCU", quantity=10, registry="GS"))
    assert ranges_of(ledger, "B", space="GS/VCU") == [(1, 10)]
    assert ranges_of(ledger, "A") == [(1, 10)]
