"""Issuance deductions: share of proceeds rounds down and OMGE up, both on the project's running
total, a changed rate applies to later tonnes only, the buffer rounds up per issuance, and the
parts always add up to the verified quantity."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonex.catalog.standards import Deduction, default_project_catalog
from carbonex.projects.deductions import (
    DeductionError,
    IssuanceSplit,
    IssuedBefore,
    apply_rate,
    buffer_rate,
    split_issuance,
)

CATALOG = default_project_catalog()
A64 = CATALOG.deductions["A6.4M"]
VCS_BUFFER = CATALOG.standards["VCS"].buffer


def test_a64_issuance_of_a_million() -> None:
    # 1,000,000 x 0.05 = 50,000 to the Adaptation Fund; 1,000,000 x 0.02 = 20,000 cancelled;
    # 1,000,000 - 50,000 - 20,000 = 930,000 to the proponent.
    split = split_issuance(1_000_000, A64)
    assert (split.share_of_proceeds_t, split.omge_cancelled_t, split.buffer_t) == (
        50_000,
        20_000,
        0,
    )
    assert split.to_proponent_t == 930_000


def test_an_odd_quantity_rounds_proceeds_down_and_omge_up() -> None:
    # 999,999 x 0.05 = 49,999.95 -> 49,999; 999,999 x 0.02 = 19,999.98 -> 20,000 (at least 2%);
    # proponent 999,999 - 49,999 - 20,000 = 930,000.
    split = split_issuance(999_999, A64)
    assert (split.share_of_proceeds_t, split.omge_cancelled_t, split.to_proponent_t) == (
        49_999,
        20_000,
        930_000,
    )


def issue_in_turn(
    quantities_t: list[int], rules: list[tuple[Deduction, ...]] | None = None
) -> list[IssuanceSplit]:
    """Split each issuance after the ones before it, as the project registry does, under
    `rules[i]` for the i-th issuance (else A6.4's)."""
    splits: list[IssuanceSplit] = []
    total_t, deducted_t = 0, {"share_of_proceeds": 0, "omge": 0}
    owed_t: dict[str, int] | None = None
    for position, quantity_t in enumerate(quantities_t):
        before = IssuedBefore(total_t, dict(deducted_t), owed_t)
        split = split_issuance(quantity_t, rules[position] if rules else A64, before=before)
        splits.append(split)
        total_t += quantity_t
        deducted_t["share_of_proceeds"] += split.share_of_proceeds_t
        deducted_t["omge"] += split.omge_cancelled_t
        owed_t = dict(split.owed_t)
    return splits


def with_rates(share_of_proceeds: str | None, omge: str | None) -> tuple[Deduction, ...]:
    rates = {"share_of_proceeds": share_of_proceeds, "omge": omge}
    return tuple(replace(d, rate=Decimal(rates[d.code])) for d in A64 if rates[d.code] is not None)


def test_a_raised_rate_applies_to_the_tonnes_issued_after_it_only() -> None:
    # 1,000 t at 5% owed 50; raised to 10%, the next 100 t owe 10 (not 110 - 50 = 60).
    before, after = with_rates("0.05", None), with_rates("0.10", None)
    splits = issue_in_turn([1_000, 100, 100], [before, after, after])
    assert [s.share_of_proceeds_t for s in splits] == [50, 10, 10]
    assert splits[-1].owed_t == {"share_of_proceeds": 70}


def test_a_deduction_introduced_later_owes_nothing_on_earlier_tonnes() -> None:
    splits = issue_in_turn([1_000, 100], [with_rates("0.05", None), A64])
    assert (splits[1].share_of_proceeds_t, splits[1].omge_cancelled_t) == (5, 2)


def test_issuances_recorded_without_owed_totals_owe_what_the_rates_in_force_do() -> None:
    # Histories from before the owed totals were recorded: D = round(P x rate).
    before = IssuedBefore(1_000, {"share_of_proceeds": 40, "omge": 20})
    split = split_issuance(100, A64, before=before)
    assert (split.share_of_proceeds_t, split.omge_cancelled_t) == (15, 2)  # 55 - 40, 22 - 20


def test_splitting_an_issuance_into_small_ones_avoids_no_deduction() -> None:
    # Alone, 19 t owes floor(0.95) = 0 to the Adaptation Fund; twenty of them owe what 380 t do.
    small = issue_in_turn([19] * 20)
    whole = split_issuance(380, A64)
    assert sum(s.share_of_proceeds_t for s in small) == whole.share_of_proceeds_t == 19
    assert sum(s.omge_cancelled_t for s in small) == whole.omge_cancelled_t == 8
    assert sum(s.to_proponent_t for s in small) == whole.to_proponent_t


def test_an_issuance_too_small_for_what_falls_due_passes_the_rest_to_the_next() -> None:
    # At 99 t so far, one more tonne makes both 5 t of proceeds and 2 t of OMGE due at once.
    first = issue_in_turn([99, 1, 10])
    assert first[1].to_proponent_t == 0 and first[1].share_of_proceeds_t == 1
    assert first[1].omge_cancelled_t == 0  # nothing left: owed by the next issuance
    assert first[2].omge_cancelled_t == 1
    assert sum(s.omge_cancelled_t for s in first) == 3  # ceil(110 x 2%)


def test_an_empty_issuance_takes_nothing() -> None:
    assert split_issuance(0, A64).to_proponent_t == 0


def test_verra_buffer_by_risk_rating() -> None:
    # A rating under the 10% floor contributes 10%; 35% contributes 35%; above 60% fails.
    assert buffer_rate(VCS_BUFFER, Decimal("0.04")) == Decimal("0.10")
    assert buffer_rate(VCS_BUFFER, Decimal("0.35")) == Decimal("0.35")
    assert buffer_rate(VCS_BUFFER, Decimal("0.60")) == Decimal("0.60")
    with pytest.raises(DeductionError) as refused:
        buffer_rate(VCS_BUFFER, Decimal("0.61"))
    assert refused.value.code == "E_RISK_RATING_ABOVE_MAXIMUM"
    with pytest.raises(DeductionError, match="E_RISK_RATING_INVALID"):
        buffer_rate(VCS_BUFFER, None)
    # 1,001 x 0.35 = 350.35 -> 351 to the buffer (rounded up), 650 to the proponent.
    split = split_issuance(1_001, (), Decimal("0.35"), VCS_BUFFER.rounding)
    assert (split.buffer_t, split.to_proponent_t) == (351, 650)


def test_other_buffer_rules() -> None:
    assert buffer_rate(CATALOG.standards["GS"].buffer) == Decimal("0.20")
    assert buffer_rate(CATALOG.standards["CDM"].buffer) == 0
    with pytest.raises(DeductionError, match="E_BUFFER_RULE_NOT_ENCODED"):
        buffer_rate(CATALOG.standards["A6.4M"].buffer)


def test_invalid_inputs_are_refused() -> None:
    with pytest.raises(DeductionError, match="E_QUANTITY_INVALID"):
        split_issuance(-1, A64)
    with pytest.raises(DeductionError, match="E_DEDUCTIONS_EXCEED_QUANTITY"):
        split_issuance(100, A64, Decimal("0.95"))


@given(
    quantity_t=st.integers(min_value=0, max_value=10**15),
    buffer_share=st.decimals(min_value=0, max_value=Decimal("0.60"), places=4),
)
def test_every_split_conserves_and_rounds_as_documented(
    quantity_t: int, buffer_share: Decimal
) -> None:
    split = split_issuance(quantity_t, A64, buffer_share, "up")
    parts = (
        split.to_proponent_t,
        split.share_of_proceeds_t,
        split.omge_cancelled_t,
        split.buffer_t,
    )
    assert sum(parts) == quantity_t
    assert all(isinstance(part, int) and part >= 0 for part in parts)
    assert split.buffer_t == apply_rate(quantity_t, buffer_share, "up")
    assert split.buffer_t - 1 < quantity_t * buffer_share <= split.buffer_t
    if quantity_t >= 100:  # room for every rounding at once: nothing is deferred
        # floor(q x 5%) and ceil(q x 2%) computed in integers, independently of the float world.
        assert split.share_of_proceeds_t == quantity_t * 5 // 100
        assert split.omge_cancelled_t == -(-quantity_t * 2 // 100)


@given(quantities_t=st.lists(st.integers(min_value=2, max_value=10**9), max_size=30))
def test_however_a_total_is_issued_the_deductions_are_those_of_the_total(
    quantities_t: list[int],
) -> None:
    splits = issue_in_turn(quantities_t)
    total_t = sum(quantities_t)
    assert sum(s.share_of_proceeds_t for s in splits) == total_t * 5 // 100
    assert sum(s.omge_cancelled_t for s in splits) == -(-total_t * 2 // 100)
    for quantity_t, split in zip(quantities_t, splits, strict=True):
        parts = (split.to_proponent_t, split.share_of_proceeds_t, split.omge_cancelled_t)
        assert sum(parts) == quantity_t and min(parts) >= 0
