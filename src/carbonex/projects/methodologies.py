"""MRV calculators: emission reductions and removals from monitored data, per methodology.

Every quantity in tCO2e is a `Decimal`; only the last step turns it into whole credited tonnes,
rounded down (never credit a fraction of a tonne that was not proven) and never below zero (a
period with net emissions credits nothing; the raw negative figure stays in the result so a
service can carry it forward where the methodology requires). Conservative defaults come from
`methodologies.toml`, never from literals here. Each result keeps the intermediate terms, named
after the methodology's symbols, so a verifier can retrace the arithmetic.

A default of 0 for a monitored term below is the calculator's, shared by every methodology that
uses it; whether a report may leave the term out is the methodology's rule (`required_inputs` in
`methodologies.toml`, enforced by `projects.calculation`): ACM0002 counts no project emissions
for most plants, while AM0029's are the plant's own fuel combustion and must be given.

The arithmetic is exact: the calculators only add, subtract and multiply, and run in a context
of CALCULATION_DIGITS_MAX significant digits that refuses any result it would have to round
(`decimal.Inexact`). Python's default context keeps 28 digits and rounds half-even, so a
29-digit input such as 0.99999999999999999999999999999 MWh became 1 and credited a whole
tonne no data supported.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from decimal import (
    ROUND_FLOOR,
    Clamped,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
    localcontext,
)
from typing import ParamSpec, TypeVar

from carbonex.catalog.standards import Methodology
from carbonex.projects.deductions import apply_rate

ZERO = Decimal(0)
ONE = Decimal(1)
FLARE_TYPES = frozenset({"open", "enclosed"})
CALCULATION_DIGITS_MAX = 1_000
"""Significant digits of every intermediate term: a product of four inputs of 64 characters
each (the longest a report may give) has at most ~256, so exact results of real data fit with
room; anything longer is refused as inexact, never rounded."""
EXACT = Context(
    prec=CALCULATION_DIGITS_MAX,
    traps=[Clamped, DivisionByZero, Inexact, InvalidOperation, Overflow],
)

Parameters = ParamSpec("Parameters")
Returned = TypeVar("Returned")


def exactly(calculator: Callable[Parameters, Returned]) -> Callable[Parameters, Returned]:
    """Run `calculator` in the EXACT context: a term that would be rounded raises
    decimal.Inexact (an ArithmeticError) instead of silently changing the credited tonnes."""

    @functools.wraps(calculator)
    def in_exact_context(*args: Parameters.args, **kwargs: Parameters.kwargs) -> Returned:
        with localcontext(EXACT):
            return calculator(*args, **kwargs)

    return in_exact_context


def credited_tonnes(quantity_t: Decimal) -> int:
    """Whole tonnes that may be credited: rounded down, and zero for a net-negative period."""
    if quantity_t <= ZERO:
        return 0
    return int(quantity_t.to_integral_value(rounding=ROUND_FLOOR))


def _non_negative(**values: Decimal) -> None:
    for name, value in values.items():
        if not value.is_finite() or value < ZERO:
            raise ValueError(f"{name} must be a non-negative finite Decimal, got {value}")


def _fraction(name: str, value: Decimal) -> None:
    if not value.is_finite() or not ZERO <= value <= ONE:
        raise ValueError(f"{name} must lie between 0 and 1, got {value}")


# --- (a) Grid-connected electricity: ACM0002, AMS-I.D, AM0029 --------------------------------


@dataclass(frozen=True, slots=True)
class GridElectricityResult:
    baseline_emissions_t: Decimal  # BE_y
    project_emissions_t: Decimal  # PE_y
    leakage_emissions_t: Decimal  # LE_y
    emission_reductions_t: Decimal  # ER_y, before rounding (may be negative)
    credited_t: int


@exactly
def grid_electricity(
    net_electricity_mwh: Decimal,
    grid_emission_factor_t_per_mwh: Decimal,
    project_emissions_t: Decimal = ZERO,
    leakage_emissions_t: Decimal = ZERO,
) -> GridElectricityResult:
    """Emission reductions of electricity supplied to a grid (ACM0002; AMS-I.D; AM0029).

    Baseline emissions: BE_y = EG_PJ,y x EF_grid,CM,y, where EG_PJ,y is the net electricity the
    project supplies to the grid in year y (MWh) and EF_grid,CM,y the combined margin emission
    factor of the grid (tCO2/MWh, from the "Tool to calculate the emission factor for an
    electricity system"; AM0029 prescribes its own conservative baseline factor).
    Emission reductions: ER_y = BE_y - PE_y - LE_y. ACM0002 and AMS-I.D count no leakage for
    most plants (LE_y = 0); PE_y covers e.g. geothermal non-condensable gases, reservoir
    emissions of hydro plants or, for AM0029, the plant's own fuel combustion.
    """
    _non_negative(
        net_electricity_mwh=net_electricity_mwh,
        grid_emission_factor_t_per_mwh=grid_emission_factor_t_per_mwh,
        project_emissions_t=project_emissions_t,
        leakage_emissions_t=leakage_emissions_t,
    )
    baseline_t = net_electricity_mwh * grid_emission_factor_t_per_mwh
    reductions_t = baseline_t - project_emissions_t - leakage_emissions_t
    return GridElectricityResult(
        baseline_emissions_t=baseline_t,
        project_emissions_t=project_emissions_t,
        leakage_emissions_t=leakage_emissions_t,
        emission_reductions_t=reductions_t,
        credited_t=credited_tonnes(reductions_t),
    )


# --- (b) Methane capture and destruction: ACM0001 ---------------------------------------------


@dataclass(frozen=True, slots=True)
class MethaneDestructionResult:
    flare_efficiency: Decimal  # eta_flare (measured, or the tool's default for the flare type)
    methane_flared_t: Decimal  # F_CH4,flared,y
    methane_destroyed_t: Decimal  # F_CH4,PJ,y = flared + used for electricity
    baseline_emissions_t: Decimal  # BE_CH4,y
    project_emissions_t: Decimal  # PE_EC,y
    emission_reductions_t: Decimal  # ER_y, before rounding
    credited_t: int


@dataclass(frozen=True, slots=True)
class MethaneInputs:
    """Monitored data of one period (ACM0001 parameter names in comments)."""

    methane_to_flare_t: Decimal  # F_CH4,sent_flare,y: CH4 mass sent to the flare
    flare_type: str  # "open" | "enclosed": selects the flaring tool's default efficiency
    methane_to_electricity_t: Decimal = ZERO  # F_CH4,EL,y: CH4 destroyed generating electricity
    methane_baseline_destroyed_t: Decimal = ZERO  # F_CH4,BL,y: destroyed anyway (regulation)
    electricity_consumed_mwh: Decimal = ZERO  # EC_PJ,y: electricity the project consumes
    grid_emission_factor_t_per_mwh: Decimal = ZERO  # EF_EC,y
    measured_flare_efficiency: Decimal | None = None  # from monitoring, replaces the default


@exactly
def methane_destruction(
    inputs: MethaneInputs, methodology: Methodology, gwp_ch4: Decimal
) -> MethaneDestructionResult:
    """Emission reductions from landfill gas flared or used (ACM0001).

    F_CH4,flared,y = F_CH4,sent_flare,y x eta_flare (the "Project emissions from flaring" tool
    counts the unburnt share as project emissions; crediting only the destroyed share is the
    same thing). F_CH4,PJ,y = F_CH4,flared,y + F_CH4,EL,y.
    BE_CH4,y = ((1 - OX_top_layer) x F_CH4,PJ,y - F_CH4,BL,y) x GWP_CH4: the baseline would
    have released the methane except what the top layer oxidizes and what would have been
    destroyed anyway. PE_EC,y = EC_PJ,y x EF_EC,y. ER_y = BE_CH4,y - PE_EC,y (ACM0001 counts no
    leakage). Baseline electricity or heat displaced (BE_EC,y, BE_HG,y) is not credited here:
    leaving it out can only under-credit.
    """
    efficiency = _flare_efficiency(inputs, methodology)
    oxidation = methodology.defaults["oxidation_top_layer"]
    _non_negative(
        methane_to_flare_t=inputs.methane_to_flare_t,
        methane_to_electricity_t=inputs.methane_to_electricity_t,
        methane_baseline_destroyed_t=inputs.methane_baseline_destroyed_t,
        electricity_consumed_mwh=inputs.electricity_consumed_mwh,
        grid_emission_factor_t_per_mwh=inputs.grid_emission_factor_t_per_mwh,
        gwp_ch4=gwp_ch4,
    )
    flared_t = inputs.methane_to_flare_t * efficiency
    destroyed_t = flared_t + inputs.methane_to_electricity_t
    baseline_t = ((ONE - oxidation) * destroyed_t - inputs.methane_baseline_destroyed_t) * gwp_ch4
    project_t = inputs.electricity_consumed_mwh * inputs.grid_emission_factor_t_per_mwh
    reductions_t = baseline_t - project_t
    return MethaneDestructionResult(
        flare_efficiency=efficiency,
        methane_flared_t=flared_t,
        methane_destroyed_t=destroyed_t,
        baseline_emissions_t=baseline_t,
        project_emissions_t=project_t,
        emission_reductions_t=reductions_t,
        credited_t=credited_tonnes(reductions_t),
    )


def _flare_efficiency(inputs: MethaneInputs, methodology: Methodology) -> Decimal:
    if inputs.flare_type not in FLARE_TYPES:
        raise ValueError(f"flare_type must be one of {sorted(FLARE_TYPES)}")
    if inputs.measured_flare_efficiency is not None:
        _fraction("measured_flare_efficiency", inputs.measured_flare_efficiency)
        return inputs.measured_flare_efficiency
    return methodology.defaults[f"flare_efficiency_{inputs.flare_type}"]


# --- (c) Afforestation and reforestation: AR-ACM0003 ------------------------------------------


@dataclass(frozen=True, slots=True)
class AfforestationResult:
    actual_net_removals_t: Decimal  # Delta C_ACTUAL,y = Delta C_P,y - GHG_E,y
    net_anthropogenic_removals_t: Decimal  # Delta C_AR,y = ACTUAL - Delta C_BSL,y - LK_y
    uncertainty_deduction_t: Decimal
    verified_t: int  # whole tonnes after the uncertainty deduction, rounded down
    buffer_t: int  # withheld into the standard's buffer pool
    credited_t: int  # verified_t - buffer_t


@dataclass(frozen=True, slots=True)
class AfforestationInputs:
    project_carbon_stock_change_t: Decimal  # Delta C_P,y (tCO2e)
    project_emissions_t: Decimal = ZERO  # GHG_E,y: e.g. biomass burning in site preparation
    baseline_carbon_stock_change_t: Decimal = ZERO  # Delta C_BSL,y
    leakage_t: Decimal = ZERO  # LK_y
    uncertainty: Decimal = ZERO  # half-width of the 90% CI of Delta C_P, as a share of it
    # AR-ACM0003 requires every term but Delta C_P to be given too (methodologies.toml): the
    # defaults serve direct calls, never a monitoring report.


@exactly
def afforestation(
    inputs: AfforestationInputs,
    methodology: Methodology,
    buffer_share: Decimal,
    buffer_rounding: str = "up",
) -> AfforestationResult:
    """Net anthropogenic GHG removals by sinks (AR-ACM0003) and what may be credited.

    Delta C_AR,y = Delta C_ACTUAL,y - Delta C_BSL,y - LK_y, with
    Delta C_ACTUAL,y = Delta C_P,y - GHG_E,y. Uncertainty (AR-TOOL14): the part of the
    uncertainty above the allowed level (methodologies.toml) is deducted from the removals.
    The result is rounded down to whole tonnes; then the buffer share (from the standard's
    buffer rule and the project's risk rating, see `deductions.buffer_rate`) is withheld.
    """
    _non_negative(
        project_carbon_stock_change_t=inputs.project_carbon_stock_change_t,
        project_emissions_t=inputs.project_emissions_t,
        # A baseline losing carbon would inflate the removals: the conservative reading is zero.
        baseline_carbon_stock_change_t=inputs.baseline_carbon_stock_change_t,
        leakage_t=inputs.leakage_t,
    )
    _fraction("uncertainty", inputs.uncertainty)
    _fraction("buffer_share", buffer_share)
    actual_t = inputs.project_carbon_stock_change_t - inputs.project_emissions_t
    net_t = actual_t - inputs.baseline_carbon_stock_change_t - inputs.leakage_t
    excess = max(ZERO, inputs.uncertainty - methodology.defaults["uncertainty_allowed"])
    deduction_t = max(net_t, ZERO) * excess
    verified_t = credited_tonnes(net_t - deduction_t)
    buffer_t = apply_rate(verified_t, buffer_share, buffer_rounding)
    return AfforestationResult(
        actual_net_removals_t=actual_t,
        net_anthropogenic_removals_t=net_t,
        uncertainty_deduction_t=deduction_t,
        verified_t=verified_t,
        buffer_t=buffer_t,
        credited_t=verified_t - buffer_t,
    )
