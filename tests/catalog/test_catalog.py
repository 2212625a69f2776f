"""The shipped catalog loads and holds the unit types Carbonex promises; a broken catalog file is
refused with a CatalogError that names the file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import shutil
from pathlib import Path

import pytest

from carbonex.catalog import CatalogError, default_catalog, load_catalog, loader
from carbonex.catalog.loader import DATA_DIR

REQUIRED_UNIT_TYPES = {
    # code: (market, metric)
    "EUA": ("allowance", "tCO2e"),
    "CEA": ("allowance", "tCO2e"),
    "CCA": ("allowance", "tCO2e"),
    "VCU": ("credit", "tCO2e"),
    "GS-VER": ("credit", "tCO2e"),
    "CER": ("credit", "tCO2e"),
    "ERU": ("credit", "tCO2e"),
    "A6.4ER": ("credit", "tCO2e"),
    "CCER": ("credit", "tCO2e"),
    "J-CREDIT": ("credit", "tCO2e"),
    "ACR-ERT": ("credit", "tCO2e"),
    "CAR-CRT": ("credit", "tCO2e"),
    "GEC": ("certificate", "MWh"),
    "CIP": ("point", "point"),
}


def test_the_shipped_catalog_holds_every_required_unit_type() -> None:
    catalog = load_catalog()
    for code, (market, metric) in REQUIRED_UNIT_TYPES.items():
        unit_type = catalog.unit_types[code]
        assert (unit_type.market, unit_type.metric) == (market, metric), code
        assert unit_type.registry in catalog.registries
        assert unit_type.source.strip(), f"{code} names no source"


def test_the_shipped_catalog_is_consistent() -> None:
    catalog = default_catalog()
    assert default_catalog() is catalog
    for kind in catalog.account_kinds.values():
        assert kind.markets and kind.actions, kind.code
    assert catalog.account_kinds["retirement"].actions == {"receive_retired"}
    for rule in catalog.conversions.values():
        assert rule.from_unit_type in catalog.unit_types
        assert rule.to_unit_type in catalog.unit_types
    cdm = catalog.conversions["CDM-TO-A6.4"]
    assert (cdm.from_unit_type, cdm.to_unit_type) == ("CER", "A6.4ER")
    assert cdm.min_vintage_start == dt.date(2013, 1, 1)
    assert {"BR", "CN", "DE", "IN", "US", "SG"} <= catalog.countries
    assert "XX" not in catalog.countries
    assert all(len(code) == 2 and code.isupper() for code in catalog.countries)


def test_each_market_has_an_account_kind_that_may_hold_it() -> None:
    catalog = default_catalog()
    for unit_type in catalog.unit_types.values():
        holders = [k for k in catalog.account_kinds.values() if k.may_hold(unit_type)]
        assert any(k.may("issue_into") for k in holders), unit_type.code


@pytest.fixture
def catalog_dir(tmp_path: Path) -> Path:
    """A copy of the shipped catalog, for a test to break."""
    directory = tmp_path / "catalog"
    shutil.copytree(DATA_DIR, directory)
    return directory


def edit(directory: Path, name: str, old: str, new: str) -> None:
    path = directory / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {name}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def append(directory: Path, name: str, text: str) -> None:
    with (directory / name).open("a", encoding="utf-8") as handle:
        handle.write(text)


def assert_refused(directory: Path, file_name: str, *words: str) -> None:
    with pytest.raises(CatalogError) as raised:
        load_catalog(directory)
    message = str(raised.value)
    assert file_name in message, message
    for word in words:
        assert word in message, message


def test_a_copy_of_the_shipped_catalog_loads_the_same(catalog_dir: Path) -> None:
    assert load_catalog(catalog_dir) == default_catalog()


def test_a_file_that_is_not_valid_toml_is_refused(catalog_dir: Path) -> None:
    append(catalog_dir, "unit_types.toml", "\n[[unit_type]\ncode = \n")
    assert_refused(catalog_dir, "unit_types.toml", "TOML")


def test_an_unknown_market_is_refused(catalog_dir: Path) -> None:
    edit(catalog_dir, "unit_types.toml", 'market = "credit"', 'market = "crypto"')
    assert_refused(catalog_dir, "unit_types.toml", "crypto")


def test_an_account_kind_with_an_unknown_market_is_refused(catalog_dir: Path) -> None:
    edit(catalog_dir, "account_kinds.toml", 'markets = ["credit"]', 'markets = ["crypto"]')
    assert_refused(catalog_dir, "account_kinds.toml", "crypto")


def test_an_account_kind_with_an_unknown_action_is_refused(catalog_dir: Path) -> None:
    edit(catalog_dir, "account_kinds.toml", 'actions = ["receive_retired"]', 'actions = ["steal"]')
    assert_refused(catalog_dir, "account_kinds.toml", "steal")


@pytest.mark.parametrize(
    ("file_name", "duplicate"),
    [
        (
            "unit_types.toml",
            '[[unit_type]]\ncode = "EUA"\nname = "Again"\nmarket = "allowance"\n'
            'metric = "tCO2e"\nprogramme = "EU ETS"\nregistry = "EU"\nsource = "test"\n',
        ),
        ("registries.toml", '[[registry]]\ncode = "VERRA"\nname = "Verra again"\n'),
        (
            "account_kinds.toml",
            '[[account_kind]]\ncode = "trading"\ndescription = "again"\n'
            'markets = ["credit"]\nactions = ["send"]\n',
        ),
        (
            "conversions.toml",
            '[[conversion]]\nid = "CDM-TO-A6.4"\nfrom_unit_type = "CER"\n'
            'to_unit_type = "A6.4ER"\nsource = "again"\n',
        ),
    ],
)
def test_a_code_that_appears_twice_is_refused(
    catalog_dir: Path, file_name: str, duplicate: str
) -> None:
    append(catalog_dir, file_name, "\n" + duplicate)
    assert_refused(catalog_dir, file_name, "more than once")


def test_a_unit_type_in_an_unknown_registry_is_refused(catalog_dir: Path) -> None:
    edit(catalog_dir, "unit_types.toml", 'registry = "VERRA"', 'registry = "NOWHERE"')
    assert_refused(catalog_dir, "unit_types.toml", "NOWHERE")


def test_a_conversion_of_an_unknown_unit_type_is_refused(catalog_dir: Path) -> None:
    edit(catalog_dir, "conversions.toml", 'to_unit_type = "A6.4ER"', 'to_unit_type = "A6.5ER"')
    assert_refused(catalog_dir, "conversions.toml", "to_unit_type")


@pytest.mark.parametrize(
    "bad_date",
    ['"2013-01-01"', "2013", "2013-01-01T00:00:00"],
    ids=["string", "integer", "date-time"],
)
def test_a_conversion_date_that_is_not_a_date_is_refused(catalog_dir: Path, bad_date: str) -> None:
    edit(
        catalog_dir,
        "conversions.toml",
        "min_vintage_start = 2013-01-01",
        f"min_vintage_start = {bad_date}",
    )
    assert_refused(catalog_dir, "conversions.toml", "min_vintage_start")


@pytest.mark.parametrize(
    ("quoted", "unquoted"), [('"2013-01-01"', "2013-01-01"), ('"20130101"', "2013-01-01")]
)
def test_a_date_written_in_quotes_is_refused_with_how_to_write_it(
    catalog_dir: Path, quoted: str, unquoted: str
) -> None:
    edit(
        catalog_dir,
        "conversions.toml",
        "min_vintage_start = 2013-01-01",
        f"min_vintage_start = {quoted}",
    )
    expected = f"must be a date, not '{quoted[1:-1]}' (write it without quotes: {unquoted})"
    assert_refused(catalog_dir, "conversions.toml", expected)


@pytest.mark.parametrize("not_a_date", ['"2013-02-30"', '"next year"', "2013"])
def test_a_value_that_is_no_date_even_unquoted_is_refused_without_the_hint(
    catalog_dir: Path, not_a_date: str
) -> None:
    edit(
        catalog_dir,
        "conversions.toml",
        "min_vintage_start = 2013-01-01",
        f"min_vintage_start = {not_a_date}",
    )
    with pytest.raises(CatalogError) as raised:
        load_catalog(catalog_dir)
    assert "must be a date" in str(raised.value)
    assert "without quotes" not in str(raised.value)


def test_an_impossible_date_is_refused(catalog_dir: Path) -> None:
    edit(
        catalog_dir,
        "conversions.toml",
        "min_vintage_start = 2013-01-01",
        "min_vintage_start = 2013-02-30",
    )
    assert_refused(catalog_dir, "conversions.toml")


@pytest.mark.parametrize("years", ["0", "-2", '"ten"', "1.5", "true"])
def test_a_validity_period_that_is_not_a_positive_number_of_years_is_refused(
    catalog_dir: Path, years: str
) -> None:
    edit(
        catalog_dir,
        "unit_types.toml",
        'code = "CER"\n',
        f'code = "CER"\nvalidity_years = {years}\n',
    )
    assert_refused(catalog_dir, "unit_types.toml", "validity_years")


def test_a_misspelt_field_is_refused_not_dropped(catalog_dir: Path) -> None:
    """Dropped, `validty_years` would leave the units without the expiry their programme sets."""
    edit(catalog_dir, "unit_types.toml", 'code = "CER"\n', 'code = "CER"\nvalidty_years = 2\n')
    assert_refused(catalog_dir, "unit_types.toml", "(CER)", "unknown field(s) 'validty_years'")


def test_a_missing_file_is_refused(catalog_dir: Path) -> None:
    (catalog_dir / "countries.toml").unlink()
    assert_refused(catalog_dir, "countries.toml", "not found")


def test_a_file_without_entries_is_refused(catalog_dir: Path) -> None:
    (catalog_dir / "registries.toml").write_text("# nothing here\n", encoding="utf-8")
    assert_refused(catalog_dir, "registries.toml", "[[registry]]")


def test_an_entry_missing_a_required_field_is_refused(catalog_dir: Path) -> None:
    edit(catalog_dir, "unit_types.toml", 'name = "EU Allowance"\n', "")
    assert_refused(catalog_dir, "unit_types.toml", "'EUA'", "'name' is missing")


def test_a_country_code_that_is_not_two_upper_case_letters_is_refused(catalog_dir: Path) -> None:
    edit(catalog_dir, "countries.toml", '"BR"', '"br"')
    assert_refused(catalog_dir, "countries.toml")


def test_the_digest_follows_the_content_not_the_file_order(catalog_dir: Path) -> None:
    """The same rules written in another order have the same digest; any rule changed, and a
    catalog changed with `dataclasses.replace`, another."""
    shipped = default_catalog()
    countries = catalog_dir / "countries.toml"
    lines = countries.read_text().splitlines()
    first, last = lines.index("codes = [") + 1, lines.index("]")
    countries.write_text("\n".join([*lines[:first], *reversed(lines[first:last]), *lines[last:]]))
    assert load_catalog(catalog_dir).digest == shipped.digest
    edit(catalog_dir, "unit_types.toml", "validity_years = 2", "validity_years = 3")
    changed = load_catalog(catalog_dir)
    assert changed.digest != shipped.digest
    assert len(changed.digest) == len(shipped.digest) == 32
    fewer_countries = dataclasses.replace(shipped, countries=shipped.countries - {"DE"})
    assert fewer_countries.digest not in {shipped.digest, changed.digest}


def test_the_record_holds_every_rule_as_plain_values() -> None:
    record = default_catalog().record()
    assert set(record) == {"registries", "unit_types", "account_kinds", "conversions", "countries"}
    assert record["countries"] == sorted(record["countries"])
    assert record["account_kinds"]["trading"]["markets"] == sorted(
        default_catalog().account_kinds["trading"].markets
    )


@pytest.mark.parametrize(
    ("file_name", "old", "new", "words"),
    [
        (
            "conversions.toml",
            'to_unit_type = "VCU"',
            'to_unit_type = "NOPE"',
            ("conversion 'VCU-CCP-LABEL'", "'to_unit_type'", "NOPE"),
        ),
        (
            "conversions.toml",
            'add_labels = ["ICVCM-CCP"]',
            "add_labels = [1]",
            ("conversion 'VCU-CCP-LABEL'", "'add_labels'"),
        ),
        (
            "conversions.toml",
            'add_labels = ["ICVCM-CCP"]',
            'add_labels = [["a"]]',
            ("conversion 'VCU-CCP-LABEL'", "'add_labels'"),
        ),
        (
            "conversions.toml",
            'set_standard = "A6.4M"',
            'set_standard = ["a"]',
            ("conversion 'CDM-TO-A6.4'", "'set_standard'"),
        ),
        (
            "unit_types.toml",
            'code = "VCU"\nname = "Verified Carbon Unit"\nmarket = "credit"',
            'code = "VCU"\nname = "Verified Carbon Unit"\nmarket = ["credit"]',
            ("unit type 'VCU'", "'market'"),
        ),
        (
            "unit_types.toml",
            "validity_years = 2",
            'validity_years = "x"',
            ("'validity_years'",),
        ),
        (
            "unit_types.toml",
            "validity_years = 2",
            "validity_years = 101",
            ("'validity_years'", "100"),
        ),
        (
            "unit_types.toml",
            "validity_years = 2",
            "validity_years = 99999999999999999999999",
            ("'validity_years'",),
        ),
        ("unit_types.toml", 'code = "VCU"', 'code = "VERRA/VCU"', ("'VERRA/VCU'", "code")),
        (
            "registries.toml",
            'name = "Verra Registry"',
            'name = "Verra\\u0000Registry"',
            ("registry 'VERRA'", "'name'", "NUL"),
        ),
        (
            "account_kinds.toml",
            'markets = ["credit"]',
            'markets = "credit"',
            ("account kind 'buffer_pool'", "'markets'"),
        ),
    ],
    ids=[
        "conversion-to-an-unknown-unit-type",
        "label-that-is-a-number",
        "label-that-is-a-list",
        "standard-that-is-a-list",
        "market-that-is-a-list",
        "validity-that-is-text",
        "validity-past-its-bound",
        "validity-past-64-bits",
        "code-with-a-slash",
        "name-with-a-nul",
        "markets-that-are-no-list",
    ],
)
def test_a_field_of_the_wrong_type_or_naming_nothing_is_refused(
    catalog_dir: Path, file_name: str, old: str, new: str, words: tuple[str, ...]
) -> None:
    edit(catalog_dir, file_name, old, new)
    assert_refused(catalog_dir, file_name, *words)


@pytest.mark.parametrize(
    ("table", "entries"),
    [("registry", "[1, 2]"), ("account_kind", "['x']"), ("conversion", "[1]")],
)
def test_entries_that_are_not_tables_are_refused(
    catalog_dir: Path, table: str, entries: str
) -> None:
    file_name = {"registry": "registries", "account_kind": "account_kinds"}.get(
        table, "conversions"
    )
    (catalog_dir / f"{file_name}.toml").write_text(f"{table} = {entries}\n", encoding="utf-8")
    assert_refused(catalog_dir, f"{file_name}.toml", "entry 1", f"[[{table}]] table")


def test_a_catalog_file_that_is_a_directory_is_refused(catalog_dir: Path) -> None:
    (catalog_dir / "registries.toml").unlink()
    (catalog_dir / "registries.toml").mkdir()
    assert_refused(catalog_dir, "registries.toml", "not a regular file")


def test_a_catalog_file_that_is_a_pipe_is_refused_without_waiting_on_it(catalog_dir: Path) -> None:
    (catalog_dir / "registries.toml").unlink()
    os.mkfifo(catalog_dir / "registries.toml")
    assert_refused(catalog_dir, "registries.toml", "not a regular file")


def test_a_catalog_file_that_is_not_utf8_is_refused(catalog_dir: Path) -> None:
    path = catalog_dir / "registries.toml"
    path.write_bytes(b"\xff\xfe" + path.read_bytes())
    assert_refused(catalog_dir, "registries.toml", "UTF-8")


def test_a_catalog_file_nested_too_deeply_is_refused(catalog_dir: Path) -> None:
    (catalog_dir / "countries.toml").write_text("codes = " + "[" * 5000 + "]" * 5000 + "\n")
    assert_refused(catalog_dir, "countries.toml", "nested too deeply")


def test_a_catalog_file_too_large_is_refused(
    catalog_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(loader, "FILE_BYTES_MAX", 100)
    assert_refused(catalog_dir, "registries.toml", "larger than 100 bytes")


def test_countries_that_are_no_list_of_codes_are_refused(catalog_dir: Path) -> None:
    (catalog_dir / "countries.toml").write_text('codes = [["DE"]]\n', encoding="utf-8")
    assert_refused(catalog_dir, "countries.toml", "country codes")


def test_a_catalog_breaking_several_rules_names_the_first_ones_and_counts_the_rest(
    catalog_dir: Path,
) -> None:
    for old in ('name = "EU Allowance"\n', 'name = "UK Allowance"\n'):
        edit(catalog_dir, "unit_types.toml", old, "")
    for old in ('source = "Decision 3/CMA.3', 'source = "ICVCM'):
        edit(catalog_dir, "conversions.toml", old, "# " + old)
    with pytest.raises(CatalogError) as raised:
        load_catalog(catalog_dir)
    message = str(raised.value)
    assert "unit type 'EUA'" in message
    assert "conversions.toml: conversion 'CDM-TO-A6.4': 'source' is missing" in message
    assert message.endswith("(and 1 more)"), message
