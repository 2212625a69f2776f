"""The shipped carbon-inclusion catalog loads with a source beside every figure; a broken
`inclusion_factors.toml` is refused with a CatalogError naming the file, the entry and the field."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from carbonex.catalog import CatalogError, default_catalog
from carbonex.catalog.inclusion import (
    FILE_NAME,
    default_inclusion_catalog,
    load_inclusion_catalog,
)
from carbonex.catalog.loader import DATA_DIR
from tests.inclusion.support import EV_CHARGING, EV_POINTS_MILLI_PER_KWH


def test_the_shipped_catalog_has_a_factor_a_cap_and_a_source_for_every_action_type() -> None:
    catalog = default_inclusion_catalog()
    assert default_inclusion_catalog() is catalog
    assert {"transit_trip_km", "cycling_km", "electricity_saved_kwh"} <= set(catalog.action_types)
    for action_type in catalog.action_types.values():
        assert action_type.factor_kg > 0 and action_type.daily_cap > 0, action_type.code
        assert action_type.source.strip() and action_type.cap_source.strip(), action_type.code
        assert action_type.activity_unit.strip() and action_type.name.strip()


def test_one_point_is_one_kilogram_and_a_thousand_points_make_one_tonne_unit() -> None:
    catalog = default_inclusion_catalog()
    assert catalog.kg_per_point == Decimal(1)
    assert catalog.points_per_unit == 1_000
    assert catalog.sources["kg_per_point"].startswith("Carbonex convention")
    unit_type = default_catalog().unit_types[catalog.unit_type]
    assert (unit_type.market, unit_type.metric) == ("credit", "tCO2e")
    # The tests' arithmetic assumes 0.3 points per kWh of EV charging.
    assert catalog.action_types[EV_CHARGING].factor_kg * 1000 == EV_POINTS_MILLI_PER_KWH


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    """A copy of the shipped catalog, for a test to break."""
    directory = tmp_path / "catalog"
    shutil.copytree(DATA_DIR, directory)
    return directory


def edit(directory: Path, old: str, new: str) -> None:
    path = directory / FILE_NAME
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {FILE_NAME}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def assert_refused(directory: Path, *fragments: str) -> None:
    with pytest.raises(CatalogError) as raised:
        load_inclusion_catalog(directory)
    message = str(raised.value)
    assert message.startswith(FILE_NAME), message
    for fragment in fragments:
        assert fragment in message, message


def test_the_copied_catalog_loads_before_it_is_broken(catalog_dir: Path) -> None:
    assert load_inclusion_catalog(catalog_dir) == default_inclusion_catalog()


def test_a_missing_file_is_refused(catalog_dir: Path) -> None:
    (catalog_dir / FILE_NAME).unlink()
    assert_refused(catalog_dir, "file not found")


def test_a_file_that_is_not_toml_is_refused(catalog_dir: Path) -> None:
    edit(catalog_dir, "[points]", "[points")
    assert_refused(catalog_dir, "not valid TOML")


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        ('factor_kg = "0.06"', "factor_kg = 0.06", ("entry 1", "transit_trip_km", "factor_kg")),
        ('factor_kg = "0.06"', 'factor_kg = "-0.06"', ("factor_kg", "above 0")),
        ('factor_kg = "0.06"', 'factor_kg = "six"', ("factor_kg", "not a decimal")),
        ('factor_kg = "0.06"', 'factor_kg = "NaN"', ("factor_kg",)),
        ('factor_kg = "0.06"', 'factor_kg = "5000"', ("factor_kg", "at most")),
        ('factor_kg = "0.06"', 'factor_kg = "0.0000001"', ("decimal places",)),
        ('daily_cap = "100"', 'daily_cap = "0"', ("daily_cap",)),
        ('activity_unit = "passenger-km"', 'activity_unit = ""', ("activity_unit",)),
        ('code = "cycling_km"', 'code = "Cycling KM"', ("entry 2", "lower-case")),
        ('code = "cycling_km"', 'code = "transit_trip_km"', ("appears more than once",)),
        ("cap_source = ", "not_a_cap_source = ", ("cap_source",)),
    ],
)
def test_a_malformed_action_type_is_refused_naming_the_entry_and_field(
    catalog_dir: Path, old: str, new: str, fragments: tuple[str, ...]
) -> None:
    edit(catalog_dir, old, new)
    assert_refused(catalog_dir, *fragments)


def test_a_factor_without_a_source_is_refused(catalog_dir: Path) -> None:
    edit(catalog_dir, 'source = "China national', 'not_a_source = "China national')
    assert_refused(catalog_dir, "entry 3", "'source'")


@pytest.mark.parametrize(
    ("old", "new", "fragments"),
    [
        ('unit_type = "CIER"', 'unit_type = "NOPE"', ("unknown unit type 'NOPE'",)),
        ('unit_type = "CIER"', 'unit_type = "CIP"', ("not counted in tCO2e",)),
        ('unit_type = "CIER"', 'unit_type = "GEC"', ("not counted in tCO2e",)),
        ("points_per_unit = 1000", "points_per_unit = 100", ("1000 kg",)),
        ("points_per_unit = 1000", "points_per_unit = 0", ("points_per_unit",)),
        ("points_per_unit = 1000", 'points_per_unit = "1000"', ("points_per_unit",)),
        ('kg_per_point = "1"', 'kg_per_point = "2"', ("1000 kg",)),
        ("recording_window_days = 366", "recording_window_days = 0", ("recording_window",)),
        ('standard = "Carbon inclusion"', 'standard = " "', ("standard",)),
        ("points_per_unit_source", "points_per_unit_origin", ("points_per_unit_source",)),
    ],
)
def test_a_malformed_points_rule_is_refused(
    catalog_dir: Path, old: str, new: str, fragments: tuple[str, ...]
) -> None:
    edit(catalog_dir, old, new)
    assert_refused(catalog_dir, "[points]", *fragments)


def test_a_catalog_without_the_points_table_is_refused(catalog_dir: Path) -> None:
    edit(catalog_dir, "[points]", "[settings]")
    assert_refused(catalog_dir, "a [points] table is required")


def test_a_catalog_without_action_types_is_refused(catalog_dir: Path) -> None:
    path = catalog_dir / FILE_NAME
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: text.index("\n[[action_type]]")], encoding="utf-8")
    assert_refused(catalog_dir, "[[action_type]]")
