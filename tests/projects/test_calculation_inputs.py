"""A calculation needs every input its methodology requires, and converts gases with the GWP set
of the project's standard; records made before these rules still verify."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import pytest

from carbonex.catalog.standards import CALCULATOR_NEEDS, default_project_catalog
from carbonex.ledger import Ledger
from carbonex.projects import calculation
from carbonex.projects import registry as registry_module
from carbonex.projects.calculation import CalculationError, calculate
from carbonex.projects.events import ProjectRequest
from carbonex.projects.registry import ProjectRegistry
from tests.databases import ledger_rows
from tests.projects.test_registry import DOC, PROPONENT, ok, registered, solar

CATALOG = default_project_catalog()
FULL_INPUTS = {
    "grid_electricity": {
        "net_electricity_mwh": "1000000",
        "grid_emission_factor_t_per_mwh": "0.6",
        "project_emissions_t": "350000",
        "leakage_emissions_t": "1000",
    },
    "methane_destruction": {
        "methane_to_flare_t": "100",
        "flare_type": "enclosed",
        "methane_baseline_destroyed_t": "0",
        "electricity_consumed_mwh": "0",
        "grid_emission_factor_t_per_mwh": "0",
    },
    "afforestation": {
        "project_carbon_stock_change_t": "1000",
        "project_emissions_t": "0",
        "baseline_carbon_stock_change_t": "0",
        "leakage_t": "0",
        "uncertainty": "0.30",
    },
}
"""Every required input of each calculator's methodologies (the audit's figures)."""
AM0029_AUDIT = {"net_electricity_mwh": "1000000", "grid_emission_factor_t_per_mwh": "0.6"}
"""The audit's report for a natural-gas plant: no project emissions, which are its own fuel."""
LANDFILL = FULL_INPUTS["methane_destruction"]
"""100 t of CH4 to an enclosed flare (0.90), 10% oxidized in the top layer: 81 t destroyed."""


def refusal(methodology: str, inputs: Mapping[str, str], standard: str | None = None) -> str:
    with pytest.raises(CalculationError) as raised:
        calculate(CATALOG, methodology, inputs, standard)
    return f"{raised.value.code}: {raised.value}"


def test_a_natural_gas_plant_without_its_own_combustion_emissions_is_refused() -> None:
    message = refusal("AM0029", AM0029_AUDIT)
    assert message.startswith("E_CALCULATION_INPUT_MISSING")
    assert "'project_emissions_t'" in message and "AM0029" in message


def test_a_natural_gas_plant_with_every_term_is_credited_what_remains() -> None:
    claimable_t, record = calculate(CATALOG, "AM0029", FULL_INPUTS["grid_electricity"])
    assert claimable_t == 600_000 - 350_000 - 1_000
    assert record["gwp_set"] is None  # grid electricity converts no gas


def test_afforestation_without_its_uncertainty_is_refused_not_spared_the_deduction() -> None:
    inputs = {k: v for k, v in FULL_INPUTS["afforestation"].items() if k != "uncertainty"}
    assert "'uncertainty'" in refusal("AR-ACM0003", inputs)
    # 30% against the 10% allowed: 20% of 1,000 t is deducted.
    assert calculate(CATALOG, "AR-ACM0003", FULL_INPUTS["afforestation"])[0] == 800


@pytest.mark.parametrize(
    ("methodology", "left_out"),
    [
        (code, name)
        for code, methodology in sorted(CATALOG.methodologies.items())
        for name in sorted(methodology.required_inputs)
    ],
)
def test_every_required_input_of_every_methodology_is_refused_when_left_out(
    methodology: str, left_out: str
) -> None:
    calculator = CATALOG.methodologies[methodology].calculator
    inputs = {k: v for k, v in FULL_INPUTS[calculator].items() if k != left_out}
    message = refusal(methodology, inputs, "A6.4M")
    assert message.startswith("E_CALCULATION_INPUT_MISSING") and f"'{left_out}'" in message


def test_terms_the_methodology_leaves_optional_keep_their_default_of_zero() -> None:
    # ACM0002: no project emissions or leakage for most renewable plants.
    assert calculate(CATALOG, "ACM0002", AM0029_AUDIT)[0] == 600_000
    # ACM0001: methane used for power may be left out; that can only under-credit.
    assert "methane_to_electricity_t" not in CATALOG.methodologies["ACM0001"].required_inputs


def test_an_input_the_calculator_does_not_read_is_refused_before_a_missing_one() -> None:
    message = refusal("AM0029", {**AM0029_AUDIT, "sunshine_hours": "5"})
    assert message.startswith("E_MONITORING_DATA_INVALID") and "'sunshine_hours'" in message


def test_a_cdm_methane_project_is_credited_with_the_ar4_gwp_of_25() -> None:
    claimable_t, record = calculate(CATALOG, "ACM0001", LANDFILL, "CDM")
    assert claimable_t == 81 * 25 == 2_025
    assert record["gwp_set"] == "AR4"
    assert Decimal(record["terms"]["baseline_emissions_t"]) == 2_025


def test_an_article_6_4_methane_project_is_credited_with_the_ar5_gwp_of_28() -> None:
    claimable_t, record = calculate(CATALOG, "ACM0001", LANDFILL, "A6.4M")
    assert (claimable_t, record["gwp_set"]) == (81 * 28, "AR5")


def test_a_calculation_outside_any_project_uses_and_names_the_default_set() -> None:
    _claimable_t, record = calculate(CATALOG, "ACM0001", LANDFILL)
    assert record["gwp_set"] == CATALOG.gwp.default == "AR5"


def test_a_standard_whose_gwp_set_is_not_encoded_refuses_a_calculation_converting_gases() -> None:
    assert refusal("ACM0001", LANDFILL, "CCER").startswith("E_GWP_SET_NOT_ENCODED")
    assert calculate(CATALOG, "AM0029", FULL_INPUTS["grid_electricity"], "CCER")[0] == 249_000
    assert refusal("ACM0001", LANDFILL, "NOPE").startswith("E_STANDARD_UNKNOWN")


def report(project_id: str, claimed_t: int, inputs: Mapping[str, str]) -> ProjectRequest:
    return ProjectRequest(
        project_id, "submit_monitoring_report", "pp", PROPONENT, DOC,
        ("2026-01-01", "2027-01-01"), claimed_t, details={"inputs": dict(inputs)},
    )  # fmt: skip


def gas_plant(registry: ProjectRegistry) -> str:
    particulars = solar("A64-GAS-1", name="Gas Plant", methodology="AM0029")
    return registered(registry, particulars, ("2026-01-01", "2031-01-01"))


def test_a_monitoring_report_lacking_a_required_input_is_refused_and_writes_nothing(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    project_id = gas_plant(registry)
    before = ledger_rows(ledger)
    refused = registry.act("r1", report(project_id, 600_000, AM0029_AUDIT))
    assert refused.codes == ["E_CALCULATION_INPUT_MISSING"]
    assert ledger_rows(ledger) == before


def test_a_cdm_landfill_reported_through_the_registry_is_held_to_the_ar4_figure(
    registry: ProjectRegistry,
) -> None:
    particulars = solar("CDM-LF-1", standard="CDM", name="Landfill", methodology="ACM0001")
    project_id = registered(registry, particulars, ("2020-01-01", "2027-01-01"))
    refused = registry.act("r1", report(project_id, 2_268, LANDFILL))
    assert refused.codes == ["E_CLAIM_EXCEEDS_CALCULATION"]


def legacy_calculate(
    catalog: Any, methodology_code: str, inputs: Mapping[str, Any], _standard: str | None = None
) -> tuple[int, dict[str, Any]]:
    """The calculation as it was before these rules: no input required, the default GWP set
    whatever the standard, and a record that names no set."""
    methodologies = {
        code: dataclasses.replace(m, required_inputs=frozenset())
        for code, m in catalog.methodologies.items()
    }
    old = dataclasses.replace(catalog, methodologies=methodologies)
    claimable_t, record = calculation.calculate(old, methodology_code, inputs)
    del record["gwp_set"]
    return claimable_t, record


def test_a_history_calculated_under_the_old_rules_still_verifies(
    registry: ProjectRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    project_id = gas_plant(registry)
    landfill = solar("CDM-LF-1", standard="CDM", name="Landfill", methodology="ACM0001")
    landfill_id = registered(registry, landfill, ("2020-01-01", "2027-01-01"))
    with monkeypatch.context() as patch:
        patch.setattr(registry_module, "calculate", legacy_calculate)
        old = ok(registry.act("old-1", report(project_id, 600_000, AM0029_AUDIT)))
        two_inputs = {"methane_to_flare_t": "100", "flare_type": "enclosed"}
        ok(registry.act("old-2", report(landfill_id, 2_268, two_inputs)))
    assert "gwp_set" not in old.outcome["calculation"]
    assert registry.verify() == []
    # `carbonex verify` opens the tables afresh: a new registry replays the same history.
    assert ProjectRegistry(registry.ledger).verify() == []
    assert registry.project(project_id)["state"] == "monitored"  # type: ignore[index]
    # The same report made today is refused.
    assert calculation.calculate(CATALOG, "ACM0002", AM0029_AUDIT)[0] == 600_000
    with pytest.raises(CalculationError):
        calculate(CATALOG, "AM0029", AM0029_AUDIT)


def test_the_calculator_needs_name_exactly_the_calculators_parameters() -> None:
    import inspect

    from carbonex.projects import methodologies

    parameters = {
        "grid_electricity": inspect.signature(methodologies.grid_electricity).parameters,
        "methane_destruction": inspect.signature(methodologies.MethaneInputs).parameters,
        "afforestation": inspect.signature(methodologies.AfforestationInputs).parameters,
    }
    assert set(parameters) == set(CALCULATOR_NEEDS)
    for name, found in parameters.items():
        assert CALCULATOR_NEEDS[name].inputs == set(found), name
        without_default = {p for p, v in found.items() if v.default is inspect.Parameter.empty}
        assert CALCULATOR_NEEDS[name].inputs_without_default == without_default, name
