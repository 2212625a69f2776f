"""Issuance deductions: share of proceeds and OMGE round down, the buffer rounds up, and the parts
always add up to the verified quantity."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonex.catalog.standards import default_project_catalog
from carbonex.projects.deductions import (
    DeductionError,
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


def test_an_odd_quantity_rounds_the_deductions_down() -> None:
    # 999,999 x 0.05 = 49,999.95 -> 49,999; 999,999 x 0.02 = 19,999.98 -> 19,999;
    # proponent 999,999 - 49,999 - 19,999 = 930,001.
    split = split_issuance(999_999, A64)
    assert (split.share_of_proceeds_t, split.omge_cancelled_t, split.to_proponent_t) == (
        49_999,
        19_999,
        930_001,
    )


def test_small_issuances_take_nothing_they_cannot_take_whole() -> None:
    # 19 x 0.05 = 0.95 -> 0; 49 x 0.02 = 0.98 -> 0.
    assert split_issuance(19, A64).share_of_proceeds_t == 0
    assert split_issuance(49, A64).omge_cancelled_t == 0
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
    # floor(q x 5%) and floor(q x 2%) computed in integers, independently of the float world.
    assert split.share_of_proceeds_t == quantity_t * 5 // 100
    assert split.omge_cancelled_t == quantity_t * 2 // 100
    assert split.buffer_t == apply_rate(quantity_t, buffer_share, "up")
    assert split.buffer_t - 1 < quantity_t * buffer_share <= split.buffer_t
