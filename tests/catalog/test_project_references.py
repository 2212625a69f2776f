"""The project catalog resolves every reference across its files when it loads: a conversion's
standard and labels, a deduction's code and account kind, what the buffer and deductions withhold
together, and the defaults and gases each methodology's calculator reads."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from pathlib import Path

import pytest

from carbonex.catalog import default_catalog
from carbonex.catalog.standards import (
    CALCULATOR_NEEDS,
    GwpSet,
    default_project_catalog,
    load_project_catalog,
)
from carbonex.projects import calculation
from tests.catalog.support import assert_refused, edited

A64_BUFFER = 'kind = "not_encoded"\nsource = "A6.4 Supervisory'
ACM0001_DEFAULTS = (
    '[methodology.defaults]\nflare_efficiency_open = "0.50"\nflare_efficiency_enclosed = "0.90"'
    '\noxidation_top_layer = "0.1"\n'
)


def test_the_shipped_conversion_sets_the_code_of_the_article_6_4_standard() -> None:
    rule = default_catalog().conversions["CDM-TO-A6.4"]
    assert rule.set_standard == "A6.4M"
    assert default_project_catalog().standards[rule.set_standard].unit_type == rule.to_unit_type


@pytest.mark.parametrize("name", ["Article 6.4 mechanism", "No such standard"])
def test_a_conversion_setting_a_standard_by_anything_but_its_code_is_refused(
    tmp_path: Path, name: str
) -> None:
    directory = edited(
        tmp_path, "conversions.toml", 'set_standard = "A6.4M"', f'set_standard = "{name}"'
    )
    assert_refused(
        "project", directory, "conversions.toml", "'CDM-TO-A6.4'", "'set_standard'", name
    )


def test_a_conversion_setting_a_standard_that_issues_another_unit_type_is_refused(
    tmp_path: Path,
) -> None:
    directory = edited(
        tmp_path, "conversions.toml", 'set_standard = "A6.4M"', 'set_standard = "VCS"'
    )
    assert_refused("project", directory, "'CDM-TO-A6.4'", "VCS issues VCU, not the A6.4ER")


def test_a_conversion_adding_an_unknown_label_is_refused(tmp_path: Path) -> None:
    directory = edited(
        tmp_path, "conversions.toml", 'add_labels = ["ICVCM-CCP"]', 'add_labels = ["NOT-A-LABEL"]'
    )
    assert_refused(
        "project", directory, "conversions.toml", "'VCU-CCP-LABEL'", "'NOT-A-LABEL'", "labels.toml"
    )


def test_a_conversion_may_add_a_label_a_goals_entry_expands_into(tmp_path: Path) -> None:
    directory = edited(
        tmp_path, "conversions.toml", 'add_labels = ["ICVCM-CCP"]', 'add_labels = ["SDG-3"]'
    )
    load_project_catalog(directory)
    directory = edited(
        tmp_path / "beyond",
        "conversions.toml",
        'add_labels = ["ICVCM-CCP"]',
        'add_labels = ["SDG-18"]',
    )
    assert_refused("project", directory, "'SDG-18'")


def test_a_deduction_issuance_does_not_split_is_refused(tmp_path: Path) -> None:
    directory = edited(
        tmp_path,
        "issuance_rules.toml",
        'code = "share_of_proceeds"\nrate = "0.05"',
        'code = "levy"\nrate = "0.05"',
    )
    assert_refused("project", directory, "issuance_rules.toml", "('A6.4M') deduction 1", "'levy'")


DEDUCTION_ACCOUNTS = {
    "an OMGE deduction moved by transfer into an account that only takes cancelled units": (
        "cancel = true",
        "cancel = false",
        ("deduction 2", "'omge_cancellation' may not receive units by transfer", "'receive'"),
    ),
    "a share of proceeds cancelled into an account that takes no cancelled units": (
        'account_kind = "share_of_proceeds"\ncancel = false',
        'account_kind = "share_of_proceeds"\ncancel = true',
        ("deduction 1", "'share_of_proceeds' may not receive units cancelled", "receive_cancelled"),
    ),
    "a deduction transferred into a retirement account": (
        'account_kind = "share_of_proceeds"\ncancel = false',
        'account_kind = "retirement"\ncancel = false',
        ("deduction 1", "'retirement' may not receive units by transfer"),
    ),
}


@pytest.mark.parametrize("case", DEDUCTION_ACCOUNTS)
def test_a_deduction_its_account_kind_may_not_receive_is_refused(tmp_path: Path, case: str) -> None:
    old, new, words = DEDUCTION_ACCOUNTS[case]
    directory = edited(tmp_path, "issuance_rules.toml", old, new)
    assert_refused("project", directory, "issuance_rules.toml", "('A6.4M')", *words)


def test_a_deduction_into_an_account_kind_that_may_not_hold_the_units_is_refused(
    tmp_path: Path,
) -> None:
    directory = edited(
        tmp_path,
        "account_kinds.toml",
        'description = "Share-of-proceeds account (Adaptation Fund)"\nmarkets = ["credit"]',
        'description = "Share-of-proceeds account (Adaptation Fund)"\nmarkets = ["allowance"]',
    )
    assert_refused("project", directory, "'share_of_proceeds' may not hold", "credit units")


@pytest.mark.parametrize(
    "buffer",
    [
        'kind = "fixed"\nrate = "0.93"\nrounding = "up"\n',
        'kind = "risk_rating"\nrate_min = "0.1"\nrate_max = "0.95"\nrounding = "up"\n',
    ],
)
def test_a_buffer_and_deductions_that_can_withhold_a_whole_issuance_are_refused(
    tmp_path: Path, buffer: str
) -> None:
    directory = edited(
        tmp_path, "standards.toml", A64_BUFFER, buffer + 'source = "A6.4 Supervisory'
    )
    assert_refused("project", directory, "standard 'A6.4M'", "(0.07)", "100% or more")


def test_a_buffer_and_deductions_leaving_the_proponent_a_share_load(tmp_path: Path) -> None:
    directory = edited(
        tmp_path,
        "standards.toml",
        A64_BUFFER,
        'kind = "fixed"\nrate = "0.92"\nrounding = "up"\nsource = "A6.4 Supervisory',
    )
    assert load_project_catalog(directory).standards["A6.4M"].buffer.rate == Decimal("0.92")


def test_a_methodology_without_the_defaults_its_calculator_reads_is_refused(
    tmp_path: Path,
) -> None:
    directory = edited(tmp_path, "methodologies.toml", ACM0001_DEFAULTS, "")
    assert_refused(
        "project",
        directory,
        "methodologies.toml",
        "('ACM0001')",
        "'flare_efficiency_enclosed'",
        "methane_destruction",
    )


def test_a_misspelt_methodology_default_is_refused(tmp_path: Path) -> None:
    directory = edited(
        tmp_path,
        "methodologies.toml",
        'uncertainty_allowed = "0.10"',
        'uncertainty_alowed = "0.10"',
    )
    assert_refused("project", directory, "('AR-ACM0003') defaults", "'uncertainty_alowed'")


def test_a_default_gwp_report_lacking_a_gas_a_methodology_reads_is_refused(
    tmp_path: Path,
) -> None:
    directory = edited(tmp_path, "gwp.toml", 'CH4 = "28"\n', "")
    assert_refused("project", directory, "gwp.toml", "'AR5'", "CH4", "'ACM0001'")


def test_a_report_no_standard_names_may_lack_a_gas(tmp_path: Path) -> None:
    directory = edited(tmp_path, "gwp.toml", 'CH4 = "27.0"\n', "")
    assert "CH4" not in load_project_catalog(directory).gwp.reports["AR6"].values


SAMPLE_INPUTS = {
    "grid_electricity": {"net_electricity_mwh": "100", "grid_emission_factor_t_per_mwh": "0.8"},
    "methane_destruction": {
        "methane_to_flare_t": "100",
        "flare_type": "open",
        "methane_baseline_destroyed_t": "0",
        "electricity_consumed_mwh": "0",
        "grid_emission_factor_t_per_mwh": "0",
    },
    "afforestation": {
        "project_carbon_stock_change_t": "1000",
        "project_emissions_t": "0",
        "baseline_carbon_stock_change_t": "0",
        "leakage_t": "10",
        "uncertainty": "0",
    },
}


def test_every_calculator_declares_what_it_needs() -> None:
    assert set(CALCULATOR_NEEDS) == set(calculation.CALCULATORS) == set(SAMPLE_INPUTS)


@pytest.mark.parametrize("calculator", sorted(CALCULATOR_NEEDS))
def test_a_calculator_runs_on_exactly_the_defaults_and_gases_it_declares(calculator: str) -> None:
    shipped = default_project_catalog()
    needs = CALCULATOR_NEEDS[calculator]
    methodology = next(m for m in shipped.methodologies.values() if m.calculator == calculator)
    methodology = dataclasses.replace(
        methodology, defaults={name: Decimal("0.5") for name in needs.defaults}
    )
    report = shipped.gwp.reports[shipped.gwp.default]
    values = {gas: report.values[gas] for gas in needs.gases | {"CO2"}}
    gwp = dataclasses.replace(
        shipped.gwp, reports={report.code: GwpSet(report.code, report.name, 100, values, "x")}
    )
    catalog = dataclasses.replace(shipped, methodologies={methodology.code: methodology}, gwp=gwp)
    claimable_t, _record = calculation.calculate(
        catalog, methodology.code, SAMPLE_INPUTS[calculator]
    )
    assert claimable_t > 0
