"""MRV calculators against worked examples computed by hand, and their properties."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonex.catalog.standards import default_project_catalog
from carbonex.projects.deductions import buffer_rate
from carbonex.projects.methodologies import (
    AfforestationInputs,
    MethaneInputs,
    afforestation,
    grid_electricity,
    methane_destruction,
)

CATALOG = default_project_catalog()
D = Decimal
ACM0001 = CATALOG.methodologies["ACM0001"]
AR_ACM0003 = CATALOG.methodologies["AR-ACM0003"]
GWP_CH4_AR5 = CATALOG.gwp.gwp("CH4")  # 28
VCS = CATALOG.standards["VCS"]

tonnes = st.decimals(min_value=0, max_value=10**7, places=3)
factors = st.decimals(min_value=0, max_value=2, places=4)


def test_grid_electricity_worked_example() -> None:
    """ACM0002: EG_PJ,y = 100,000 MWh, EF_grid,CM,y = 0.8765 tCO2/MWh.
    BE_y = 100,000 x 0.8765 = 87,650 t; PE_y = 120.5 t, LE_y = 0;
    ER_y = 87,650 - 120.5 - 0 = 87,529.5 t -> 87,529 credited (rounded down)."""
    result = grid_electricity(D(100_000), D("0.8765"), D("120.5"))
    assert result.baseline_emissions_t == D("87650")
    assert result.emission_reductions_t == D("87529.5")
    assert result.credited_t == 87_529


def test_grid_electricity_net_emissions_credit_nothing() -> None:
    result = grid_electricity(D(10), D("0.5"), D(100))
    assert result.emission_reductions_t == D(-95)
    assert result.credited_t == 0
    with pytest.raises(ValueError, match="net_electricity_mwh"):
        grid_electricity(D(-1), D("0.5"))


def test_methane_destruction_worked_example() -> None:
    """ACM0001 with an enclosed flare (default efficiency 0.90), GWP_CH4 = 28 (AR5).
    F_CH4,flared = 1,000 t x 0.90 = 900 t; F_CH4,PJ = 900 + 500 (power) = 1,400 t;
    BE_CH4 = ((1 - 0.1) x 1,400 - 100) x 28 = (1,260 - 100) x 28 = 32,480 t;
    PE_EC = 1,000 MWh x 0.7123 = 712.3 t; ER = 32,480 - 712.3 = 31,767.7 -> 31,767."""
    inputs = MethaneInputs(
        methane_to_flare_t=D(1_000),
        flare_type="enclosed",
        methane_to_electricity_t=D(500),
        methane_baseline_destroyed_t=D(100),
        electricity_consumed_mwh=D(1_000),
        grid_emission_factor_t_per_mwh=D("0.7123"),
    )
    result = methane_destruction(inputs, ACM0001, GWP_CH4_AR5)
    assert result.flare_efficiency == D("0.90")
    assert result.methane_destroyed_t == D(1_400)
    assert result.baseline_emissions_t == D(32_480)
    assert result.project_emissions_t == D("712.3")
    assert result.credited_t == 31_767


def test_an_open_flare_uses_the_lower_default_and_a_measurement_replaces_it() -> None:
    # 1,000 t x 0.50 = 500 t; (0.9 x 500) x 28 = 12,600 t.
    open_flare = MethaneInputs(methane_to_flare_t=D(1_000), flare_type="open")
    assert methane_destruction(open_flare, ACM0001, GWP_CH4_AR5).credited_t == 12_600
    # 1,000 t x 0.98 = 980 t; (0.9 x 980) x 28 = 24,696 t.
    measured = MethaneInputs(D(1_000), "open", measured_flare_efficiency=D("0.98"))
    assert methane_destruction(measured, ACM0001, GWP_CH4_AR5).credited_t == 24_696
    with pytest.raises(ValueError, match="flare_type"):
        methane_destruction(MethaneInputs(D(1), "candle"), ACM0001, GWP_CH4_AR5)


def test_afforestation_worked_example() -> None:
    """AR-ACM0003 under VCS, risk rating 12.3%.
    Delta C_ACTUAL = 50,000.9 - 1,250 = 48,750.9; Delta C_AR = 48,750.9 - 2,000 - 750 = 46,000.9;
    uncertainty 15% exceeds the allowed 10% by 5%: deduction 46,000.9 x 0.05 = 2,300.045;
    46,000.9 - 2,300.045 = 43,700.855 -> 43,700 verified;
    buffer 43,700 x 0.123 = 5,375.1 -> 5,376 (rounded up); credited 43,700 - 5,376 = 38,324."""
    inputs = AfforestationInputs(
        project_carbon_stock_change_t=D("50000.9"),
        project_emissions_t=D(1_250),
        baseline_carbon_stock_change_t=D(2_000),
        leakage_t=D(750),
        uncertainty=D("0.15"),
    )
    share = buffer_rate(VCS.buffer, D("0.123"))
    result = afforestation(inputs, AR_ACM0003, share, VCS.buffer.rounding)
    assert result.net_anthropogenic_removals_t == D("46000.9")
    assert result.uncertainty_deduction_t == D("2300.045")
    assert (result.verified_t, result.buffer_t, result.credited_t) == (43_700, 5_376, 38_324)


def test_afforestation_within_the_allowed_uncertainty_deducts_nothing() -> None:
    inputs = AfforestationInputs(D(1_000), uncertainty=D("0.10"))
    result = afforestation(inputs, AR_ACM0003, D(0))
    assert (result.uncertainty_deduction_t, result.credited_t) == (D(0), 1_000)


@given(tonnes, tonnes, factors, tonnes, tonnes)
def test_grid_properties(energy_mwh: D, more_mwh: D, factor: D, project_t: D, leakage_t: D) -> None:
    low = grid_electricity(energy_mwh, factor, project_t, leakage_t).credited_t
    high = grid_electricity(energy_mwh + more_mwh, factor, project_t, leakage_t).credited_t
    assert isinstance(low, int) and 0 <= low <= high


@given(tonnes, tonnes, tonnes, st.sampled_from(["open", "enclosed"]), tonnes, factors)
def test_methane_properties(
    flared_t: D, more_t: D, power_t: D, flare: str, consumed_mwh: D, factor: D
) -> None:
    def credited(to_flare_t: D) -> int:
        inputs = MethaneInputs(to_flare_t, flare, power_t, D(0), consumed_mwh, factor)
        return methane_destruction(inputs, ACM0001, GWP_CH4_AR5).credited_t

    low, high = credited(flared_t), credited(flared_t + more_t)
    assert isinstance(low, int) and 0 <= low <= high


@given(
    tonnes,
    tonnes,
    tonnes,
    st.decimals(min_value=0, max_value=1, places=3),
    st.decimals(min_value=0, max_value=D("0.61"), places=3),
)
def test_afforestation_properties(
    stock_t: D, more_t: D, baseline_t: D, uncertainty: D, rating: D
) -> None:
    share = buffer_rate(VCS.buffer, min(rating, D("0.60")))

    def result(stock: D) -> tuple[int, int, int]:
        inputs = AfforestationInputs(stock, D(0), baseline_t, D(0), uncertainty)
        r = afforestation(inputs, AR_ACM0003, share, "up")
        return r.verified_t, r.buffer_t, r.credited_t

    verified, buffer, credited = result(stock_t)
    assert all(isinstance(x, int) and x >= 0 for x in (verified, buffer, credited))
    assert verified == buffer + credited
    assert credited <= result(stock_t + more_t)[2]
