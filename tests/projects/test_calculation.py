"""Monitoring reports that carry their data: the methodology's calculator bounds the claim."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonex.catalog.standards import default_project_catalog
from carbonex.ledger import Ledger
from carbonex.projects.calculation import INPUT_MAGNITUDE_MAX, CalculationError, calculate
from carbonex.projects.events import ProjectRequest
from carbonex.projects.registry import ProjectRegistry
from tests.cli.helpers import EXIT_USAGE, invoke
from tests.databases import ledger_rows
from tests.projects.test_registry import (
    DOC,
    PROPONENT,
    ok,
    registered,
    solar,
)

CATALOG = default_project_catalog()
GRID = {"net_electricity_mwh": "12000", "grid_emission_factor_t_per_mwh": "0.8"}
NO_GRID_POWER = {
    "methane_baseline_destroyed_t": "0",
    "electricity_consumed_mwh": "0",
    "grid_emission_factor_t_per_mwh": "0",
}
"""ACM0001's required terms, stated as zero: none destroyed anyway, no grid power consumed."""
FOREST_TERMS = {
    "project_emissions_t": "0",
    "baseline_carbon_stock_change_t": "0",
    "uncertainty": "0.05",
}
"""AR-ACM0003's required terms besides the stock change and leakage."""


def test_grid_electricity_data_support_their_whole_tonnes() -> None:
    claimable_t, record = calculate(CATALOG, "ACM0002", GRID)
    assert claimable_t == 9_600
    assert record["calculator"] == "grid_electricity"
    assert Decimal(record["terms"]["baseline_emissions_t"]) == Decimal("9600.0")


def test_landfill_gas_uses_the_catalogs_gwp_and_flare_default() -> None:
    claimable_t, record = calculate(
        CATALOG, "ACM0001", {"methane_to_flare_t": "100", "flare_type": "enclosed", **NO_GRID_POWER}
    )
    gwp = CATALOG.gwp.gwp("CH4")
    expected = (Decimal("0.9") * Decimal(100) * Decimal("0.9") * gwp).to_integral_value(
        rounding="ROUND_FLOOR"
    )
    assert claimable_t == int(expected)
    assert record["terms"]["flare_efficiency"] == "0.90"


def test_afforestation_claims_before_the_buffer() -> None:
    claimable_t, _record = calculate(
        CATALOG,
        "AR-ACM0003",
        {"project_carbon_stock_change_t": "1000.9", "leakage_t": "100", **FOREST_TERMS},
    )
    assert claimable_t == 900


@pytest.mark.parametrize(
    ("methodology", "inputs", "code"),
    [
        ("NOPE", GRID, "E_METHODOLOGY_NOT_ENCODED"),
        ("ACM0002", {}, "E_MONITORING_DATA_INVALID"),
        ("ACM0002", {"net_electricity_mwh": "lots"}, "E_MONITORING_DATA_INVALID"),
        ("ACM0002", {**GRID, "sunshine_hours": "5"}, "E_MONITORING_DATA_INVALID"),
        ("ACM0002", {**GRID, "net_electricity_mwh": "-1"}, "E_MONITORING_DATA_INVALID"),
        ("ACM0002", {**GRID, "net_electricity_mwh": 12000}, "E_MONITORING_DATA_INVALID"),
        (
            "ACM0001",
            {"methane_to_flare_t": "1", "flare_type": "torch", **NO_GRID_POWER},
            "E_MONITORING_DATA_INVALID",
        ),
    ],
)
def test_bad_monitoring_data_are_refused_with_a_code(
    methodology: str, inputs: dict[str, object], code: str
) -> None:
    with pytest.raises(CalculationError) as raised:
        calculate(CATALOG, methodology, inputs)
    assert raised.value.code == code


@pytest.mark.parametrize(
    ("inputs", "claimable_t"),
    [
        ({"net_electricity_mwh": "0.99999999999999999999999999999"}, 0),
        ({"net_electricity_mwh": "1.9999999999999999999999999999"}, 1),
        (
            {"net_electricity_mwh": "1000", "project_emissions_t": "0.00000000000000000000000001"},
            999,
        ),
    ],
)
def test_no_term_is_rounded_up_into_a_tonne_the_data_do_not_support(
    inputs: dict[str, str], claimable_t: int
) -> None:
    # Python's default context keeps 28 digits: each of these credited one tonne more.
    values = {"grid_emission_factor_t_per_mwh": "1", **inputs}
    assert calculate(CATALOG, "ACM0002", values)[0] == claimable_t


def test_a_term_too_long_to_compute_exactly_is_refused() -> None:
    tiny = {"net_electricity_mwh": "1E-600000", "grid_emission_factor_t_per_mwh": "1E-600000"}
    with pytest.raises(CalculationError) as raised:
        calculate(CATALOG, "ACM0002", tiny)
    assert raised.value.code == "E_MONITORING_DATA_INVALID"
    assert "exactly" in str(raised.value)


digits = st.builds("{}.{}".format, st.integers(0, 10**14).map(str), st.integers(0, 10**45).map(str))


@settings(max_examples=200)
@given(net=digits, factor=digits, project=digits, leakage=digits)
def test_grid_electricity_credits_the_floor_of_the_exact_reductions(
    net: str, factor: str, project: str, leakage: str
) -> None:
    inputs = {
        "net_electricity_mwh": net,
        "grid_emission_factor_t_per_mwh": factor,
        "project_emissions_t": project,
        "leakage_emissions_t": leakage,
    }
    exact = Fraction(net) * Fraction(factor) - Fraction(project) - Fraction(leakage)
    assert calculate(CATALOG, "ACM0002", inputs)[0] == max(0, math.floor(exact))


def report(project_id: str, claimed_t: int, inputs: object) -> ProjectRequest:
    return ProjectRequest(
        project_id, "submit_monitoring_report", "pp", PROPONENT, DOC,
        ("2026-01-01", "2027-01-01"), claimed_t, details={"inputs": inputs},
    )  # fmt: skip


def test_a_report_may_not_claim_more_than_its_data_support(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    project_id = registered(registry, solar(), ("2026-01-01", "2031-01-01"))
    before = ledger_rows(ledger)
    assert registry.act("r1", report(project_id, 9_601, GRID)).codes == [
        "E_CLAIM_EXCEEDS_CALCULATION"
    ]
    assert registry.act("r2", report(project_id, 10, ["x"])).codes == ["E_DETAILS_INVALID"]
    assert ledger_rows(ledger) == before
    accepted = ok(registry.act("r3", report(project_id, 9_600, GRID)))
    assert accepted.outcome["calculation"]["claimable_t"] == 9_600
    stray = ProjectRequest(project_id, "verify", "v", "validation_verification_body", DOC,
                           quantity_t=9_600, details={"inputs": GRID})  # fmt: skip
    assert registry.act("r4", stray).codes == ["E_DETAILS_INVALID"]
    assert registry.verify() == []


# Fuzzing found each of these crash the calculators (overflow, an int too long to print) or
# spend seconds of CPU building a million-digit int.
HUGE = [
    ("ACM0002", {"net_electricity_mwh": "9e999999", "grid_emission_factor_t_per_mwh": "9e999999"}),
    ("ACM0002", {"net_electricity_mwh": "1e5000", "grid_emission_factor_t_per_mwh": "1"}),
    ("ACM0002", {"net_electricity_mwh": "1e999999", "grid_emission_factor_t_per_mwh": "1"}),
    ("AR-ACM0003", {"project_carbon_stock_change_t": "1e999999999"}),
    ("ACM0001", {"methane_to_flare_t": "1e999999999", "flare_type": "open"}),
    ("ACM0002", {**GRID, "project_emissions_t": "-1e999999999999999999"}),
]


@pytest.mark.parametrize(("methodology", "inputs"), HUGE)
def test_a_value_beyond_any_measurement_is_refused_naming_it(
    methodology: str, inputs: dict[str, str]
) -> None:
    with pytest.raises(CalculationError) as raised:
        calculate(CATALOG, methodology, inputs)
    assert raised.value.code == "E_MONITORING_DATA_INVALID"
    huge = next(name for name, value in inputs.items() if "e99" in value or "e5000" in value)
    assert f"'{huge}'" in str(raised.value)


def test_values_up_to_the_bound_are_calculated() -> None:
    bound = str(INPUT_MAGNITUDE_MAX)
    claimable_t, _record = calculate(
        CATALOG, "ACM0002", {"net_electricity_mwh": bound, "grid_emission_factor_t_per_mwh": bound}
    )
    assert claimable_t == 10**30
    just_over = {**GRID, "net_electricity_mwh": f"{bound}.001"}
    with pytest.raises(CalculationError):
        calculate(CATALOG, "ACM0002", just_over)


def test_a_report_with_huge_data_is_refused_and_changes_nothing(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    project_id = registered(registry, solar(), ("2026-01-01", "2031-01-01"))
    before = ledger_rows(ledger)
    for number, (_methodology, inputs) in enumerate(HUGE[:3]):
        refused = registry.act(f"r{number}", report(project_id, 1, inputs))
        assert refused.codes == ["E_MONITORING_DATA_INVALID"]
    assert ledger_rows(ledger) == before
    assert registry.project(project_id)["state"] == "registered"  # type: ignore[index]


@pytest.mark.parametrize(("methodology", "inputs"), HUGE)
def test_the_cli_refuses_huge_values_with_its_usage_code_and_no_traceback(
    methodology: str, inputs: dict[str, str]
) -> None:
    pairs = [part for name, value in inputs.items() for part in ("--input", f"{name}={value}")]
    result = invoke("project", "calculate", methodology, *pairs)
    assert result.exit_code == EXIT_USAGE
    assert "E_MONITORING_DATA_INVALID" in result.output and "Traceback" not in result.output


PARAMETERS = {
    "ACM0002": ("net_electricity_mwh", "grid_emission_factor_t_per_mwh", "project_emissions_t",
                "leakage_emissions_t"),
    "ACM0001": ("methane_to_flare_t", "methane_to_electricity_t", "methane_baseline_destroyed_t",
                "electricity_consumed_mwh", "grid_emission_factor_t_per_mwh",
                "measured_flare_efficiency"),
    "AR-ACM0003": ("project_carbon_stock_change_t", "project_emissions_t",
                   "baseline_carbon_stock_change_t", "leakage_t", "uncertainty"),
}  # fmt: skip
# Decimals of any sign, up to 21 digits, with exponents from far below to far above the bound
# (and past what a Decimal holds), the bound's neighbourhood, and texts that are no finite number.
extreme = st.one_of(
    st.builds(
        "{}{}E{}".format,
        st.sampled_from(["", "-"]),
        st.integers(0, 10**20),
        st.integers(-30, 30) | st.integers(-(2 * 10**18), 2 * 10**18),
    ),
    st.sampled_from(["1e15", "1000000000000000.1", "0.999999999999", "-0", "1E-999999999"]),
    st.sampled_from(["NaN", "sNaN", "Infinity", "-Infinity", "", "1e", "0x10"]),
)


@settings(max_examples=300)
@given(data=st.data(), methodology=st.sampled_from(sorted(PARAMETERS)))
def test_any_monitored_data_give_a_result_or_a_refusal_never_an_exception(
    data: st.DataObject, methodology: str
) -> None:
    names = data.draw(st.lists(st.sampled_from(PARAMETERS[methodology]), min_size=1, unique=True))
    inputs = {name: data.draw(extreme, label=name) for name in names}
    if methodology == "ACM0001":
        inputs["flare_type"] = data.draw(st.sampled_from(["open", "enclosed"]))
    try:
        claimable_t, record = calculate(CATALOG, methodology, inputs)
    except CalculationError as error:
        assert error.code in {"E_MONITORING_DATA_INVALID", "E_CALCULATION_INPUT_MISSING"}
        return
    assert 0 <= claimable_t == record["claimable_t"]
