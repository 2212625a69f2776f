"""Countries are each written once and officially assigned; a conversion keeps the metric its
units count (a tonne never becomes a MWh or a point)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from carbonex.catalog import Catalog, CatalogError, default_catalog, load_catalog
from carbonex.catalog.loader import USER_ASSIGNED_COUNTRY_CODE_PATTERN
from tests.catalog.support import assert_refused, edited


def test_the_shipped_countries_are_officially_assigned_codes_only() -> None:
    countries = default_catalog().countries
    assert not [code for code in countries if USER_ASSIGNED_COUNTRY_CODE_PATTERN.fullmatch(code)]
    assert len(countries) == 249


@pytest.mark.parametrize("code", ["XX", "ZZ", "XK", "AA", "QM"])
def test_a_user_assigned_country_code_is_refused(tmp_path: Path, code: str) -> None:
    directory = edited(tmp_path, "countries.toml", '"ZW",', f'"ZW", "{code}",')
    assert_refused("base", directory, "countries.toml", f"'{code}'", "user-assigned")


def test_a_country_written_twice_is_refused(tmp_path: Path) -> None:
    directory = edited(tmp_path, "countries.toml", '"ZW",', '"ZW", "ZW",')
    assert_refused("base", directory, "countries.toml", "'ZW' appears more than once")


def test_a_kept_catalog_with_a_user_assigned_code_stays_readable() -> None:
    """Only the file is held to official codes: a ledger that kept such a catalog verifies."""
    shipped = default_catalog()
    amended = dataclasses.replace(shipped, countries=shipped.countries | {"ZZ"})
    assert Catalog.from_record(amended.record()) == amended


@pytest.mark.parametrize(("unit_type", "metric"), [("GEC", "MWh"), ("CIP", "point")])
def test_a_conversion_into_another_metric_is_refused(
    tmp_path: Path, unit_type: str, metric: str
) -> None:
    directory = edited(
        tmp_path, "conversions.toml", 'to_unit_type = "A6.4ER"', f'to_unit_type = "{unit_type}"'
    )
    assert_refused(
        "base",
        directory,
        "conversions.toml",
        "conversion 'CDM-TO-A6.4'",
        f"CER (tCO2e) into {unit_type} ({metric})",
        "keep the metric",
    )


def test_a_catalog_made_in_code_with_a_conversion_into_another_metric_is_refused() -> None:
    shipped = default_catalog()
    rule = dataclasses.replace(shipped.conversions["CDM-TO-A6.4"], to_unit_type="GEC")
    with pytest.raises(CatalogError, match="keep the metric"):
        dataclasses.replace(shipped, conversions={**shipped.conversions, rule.rule_id: rule})


def test_a_conversion_between_unit_types_of_one_metric_loads(tmp_path: Path) -> None:
    directory = edited(
        tmp_path, "conversions.toml", 'to_unit_type = "A6.4ER"', 'to_unit_type = "VCU"'
    )
    assert load_catalog(directory).conversions["CDM-TO-A6.4"].to_unit_type == "VCU"
