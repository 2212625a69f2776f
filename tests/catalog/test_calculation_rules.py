"""The catalog's rules for calculations: each standard names its GWP set, each methodology the
inputs a report must give, and the loader refuses either when it cannot be honoured."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonex.catalog.standards import GWP_SET_NOT_ENCODED, default_project_catalog
from tests.catalog.support import assert_refused, edited

CATALOG = default_project_catalog()
GWP_SETS = {
    "CDM": "AR4",
    "JI": "AR4",
    "A6.4M": "AR5",
    "VCS": "AR5",
    "GS": "AR4",
    "CAR": "AR4",
    "ACR": GWP_SET_NOT_ENCODED,
    "CCER": GWP_SET_NOT_ENCODED,
    "J-CREDIT": GWP_SET_NOT_ENCODED,
}
"""Kyoto mechanisms use AR4 (Decision 24/CP.19), Article 6.4 AR5 (Decision 18/CMA.1); the
others as standards.toml reads their rules."""
AM0029_REQUIRED = (
    'required_inputs = ["net_electricity_mwh", "grid_emission_factor_t_per_mwh", '
    '"project_emissions_t", "leakage_emissions_t"]'
)


@pytest.mark.parametrize(("standard", "gwp_set"), sorted(GWP_SETS.items()))
def test_each_standard_names_its_gwp_set_with_a_source(standard: str, gwp_set: str) -> None:
    assert CATALOG.standards[standard].gwp_set == gwp_set
    assert CATALOG.standards[standard].gwp_source.strip()


def test_every_standard_of_the_catalog_names_the_set_listed_here() -> None:
    assert {code: s.gwp_set for code, s in CATALOG.standards.items()} == GWP_SETS


def test_a_standard_naming_an_unknown_gwp_set_is_refused(tmp_path: Path) -> None:
    directory = edited(tmp_path, "standards.toml", 'gwp_set = "AR4"', 'gwp_set = "AR9"')
    assert_refused("project", directory, "standards.toml", "'GS'", "'AR9'", "gwp_set")


def test_a_standard_without_a_gwp_set_is_refused(tmp_path: Path) -> None:
    directory = edited(tmp_path, "standards.toml", 'gwp_set = "AR5"\n', "")
    assert_refused("project", directory, "standards.toml", "'VCS'", "'gwp_set'")


def test_a_set_a_standard_names_must_hold_every_gas_a_calculator_reads(tmp_path: Path) -> None:
    directory = edited(tmp_path, "gwp.toml", 'CH4 = "25"\n', "")
    assert_refused("project", directory, "gwp.toml", "'AR4'", "CH4", "'ACM0001'", "standard")


def test_every_methodology_lists_its_required_inputs_with_a_source() -> None:
    for code, methodology in CATALOG.methodologies.items():
        assert methodology.required_inputs, code
        assert methodology.required_inputs_source.strip(), code


def test_the_natural_gas_plant_requires_its_own_emissions_and_the_forest_its_uncertainty() -> None:
    assert "project_emissions_t" in CATALOG.methodologies["AM0029"].required_inputs
    assert "uncertainty" in CATALOG.methodologies["AR-ACM0003"].required_inputs
    assert "project_emissions_t" not in CATALOG.methodologies["ACM0002"].required_inputs


def test_a_required_input_the_calculator_does_not_read_is_refused(tmp_path: Path) -> None:
    directory = edited(
        tmp_path,
        "methodologies.toml",
        AM0029_REQUIRED,
        AM0029_REQUIRED.replace("]", ', "fuel_burnt_t"]'),
    )
    assert_refused(
        "project", directory, "('AM0029')", "'fuel_burnt_t'", "does not read", "grid_electricity"
    )


def test_required_inputs_lacking_one_the_calculator_cannot_run_without_are_refused(
    tmp_path: Path,
) -> None:
    directory = edited(
        tmp_path, "methodologies.toml", AM0029_REQUIRED, 'required_inputs = ["net_electricity_mwh"]'
    )
    assert_refused("project", directory, "('AM0029')", "'grid_emission_factor_t_per_mwh'")


def test_a_methodology_without_required_inputs_is_refused(tmp_path: Path) -> None:
    directory = edited(tmp_path, "methodologies.toml", AM0029_REQUIRED + "\n", "")
    assert_refused("project", directory, "('AM0029')", "'required_inputs'")


def test_an_input_required_twice_is_refused(tmp_path: Path) -> None:
    directory = edited(
        tmp_path,
        "methodologies.toml",
        AM0029_REQUIRED,
        AM0029_REQUIRED.replace("]", ', "leakage_emissions_t"]'),
    )
    assert_refused("project", directory, "('AM0029')", "more than once")
