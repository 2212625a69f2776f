"""Monitoring reports that carry their data: the methodology's calculator bounds the claim."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carbonex.catalog.standards import default_project_catalog
from carbonex.ledger import Ledger
from carbonex.projects.calculation import CalculationError, calculate
from carbonex.projects.events import ProjectRequest
from carbonex.projects.registry import ProjectRegistry
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


def test_grid_electricity_data_support_their_whole_tonnes() -> None:
    claimable_t, record = calculate(CATALOG, "ACM0002", GRID)
    assert claimable_t == 9_600
    assert record["calculator"] == "grid_electricity"
    assert Decimal(record["terms"]["baseline_emissions_t"]) == Decimal("9600.0")


def test_landfill_gas_uses_the_catalogs_gwp_and_flare_default() -> None:
    claimable_t, record = calculate(
        CATALOG, "ACM0001", {"methane_to_flare_t": "100", "flare_type": "enclosed"}
    )
    gwp = CATALOG.gwp.gwp("CH4")
    expected = (Decimal("0.9") * Decimal(100) * Decimal("0.9") * gwp).to_integral_value(
        rounding="ROUND_FLOOR"
    )
    assert claimable_t == int(expected)
    assert record["terms"]["flare_efficiency"] == "0.90"


def test_afforestation_claims_before_the_buffer() -> None:
    claimable_t, _record = calculate(
        CATALOG, "AR-ACM0003", {"project_carbon_stock_change_t": "1000.9", "leakage_t": "100"}
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
            {"methane_to_flare_t": "1", "flare_type": "torch"},
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
