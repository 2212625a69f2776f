"""A catalog record (what a ledger keeps and a journal file carries) comes back as the catalog it
describes; a record changed in any field to a value the catalog's rules refuse is refused with a
CatalogError naming the entry and the field, never with another exception."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonex.catalog import Catalog, CatalogError, default_catalog
from carbonex.catalog.loader import VALIDITY_YEARS_MAX, catalog_problems

Path = tuple[str | int, ...]


def shipped_record() -> Any:
    """A fresh copy of the shipped catalog's record, for a test to change."""
    return orjson.loads(default_catalog().canonical_record())


def changed(record: Any, path: Path, value: Any) -> Any:
    *parents, last = path
    node = record
    for key in parents:
        node = node[key]
    node[last] = value
    return record


def assert_refused(record: Any, *words: str) -> None:
    with pytest.raises(CatalogError) as raised:
        Catalog.from_record(record)
    message = str(raised.value)
    for word in words:
        assert word in message, message


def test_the_shipped_catalog_comes_back_from_its_record() -> None:
    shipped = default_catalog()
    again = Catalog.from_record(shipped_record())
    assert again == shipped
    assert again.digest == shipped.digest
    assert catalog_problems(again) == []


REFUSED_CHANGES: dict[str, tuple[Path, Any, tuple[str, ...]]] = {
    "a conversion into an unknown unit type": (
        ("conversions", "VCU-CCP-LABEL", "to_unit_type"),
        "NOPE",
        ("conversion 'VCU-CCP-LABEL'", "'to_unit_type'", "NOPE"),
    ),
    "a conversion from an unknown unit type": (
        ("conversions", "CDM-TO-A6.4", "from_unit_type"),
        "NOPE",
        ("conversion 'CDM-TO-A6.4'", "'from_unit_type'"),
    ),
    "a label that is a number": (
        ("conversions", "VCU-CCP-LABEL", "add_labels"),
        [1],
        ("conversion 'VCU-CCP-LABEL'", "'add_labels'"),
    ),
    "a label that is a list": (
        ("conversions", "VCU-CCP-LABEL", "add_labels"),
        [["a"]],
        ("conversion 'VCU-CCP-LABEL'", "'add_labels'"),
    ),
    "an empty label": (("conversions", "VCU-CCP-LABEL", "add_labels"), [" "], ("'add_labels'",)),
    "labels that are no list": (("conversions", "VCU-CCP-LABEL", "add_labels"), "a", ("labels",)),
    "more labels than a block holds": (
        ("conversions", "VCU-CCP-LABEL", "add_labels"),
        [f"L{n}" for n in range(33)],
        ("'add_labels'", "at most 32"),
    ),
    "a standard that is a list": (
        ("conversions", "CDM-TO-A6.4", "set_standard"),
        ["a"],
        ("conversion 'CDM-TO-A6.4'", "'set_standard'"),
    ),
    "a standard holding a NUL": (
        ("conversions", "CDM-TO-A6.4", "set_standard"),
        "A\x00",
        ("'set_standard'", "NUL"),
    ),
    "an impossible date": (
        ("conversions", "CDM-TO-A6.4", "min_vintage_start"),
        "2013-02-30",
        ("conversion 'CDM-TO-A6.4'", "'min_vintage_start'", "date"),
    ),
    "a date that is a number": (
        ("conversions", "CDM-TO-A6.4", "min_vintage_start"),
        2013,
        ("'min_vintage_start'",),
    ),
    "a market that is a list": (
        ("unit_types", "VCU", "market"),
        ["credit"],
        ("unit type 'VCU'", "'market'"),
    ),
    "an unknown market": (("unit_types", "VCU", "market"), "crypto", ("'market'", "crypto")),
    "a validity period that is text": (
        ("unit_types", "VCU", "validity_years"),
        "x",
        ("unit type 'VCU'", "'validity_years'"),
    ),
    "a validity period that is true": (("unit_types", "VCU", "validity_years"), True, ("years",)),
    "a validity period of no years": (("unit_types", "VCU", "validity_years"), 0, ("years",)),
    "a validity period past its bound": (
        ("unit_types", "VCU", "validity_years"),
        VALIDITY_YEARS_MAX + 1,
        ("'validity_years'", str(VALIDITY_YEARS_MAX)),
    ),
    "a validity period past 64 bits": (("unit_types", "VCU", "validity_years"), 2**70, ("years",)),
    "a unit type in an unknown registry": (
        ("unit_types", "VCU", "registry"),
        "NOWHERE",
        ("unit type 'VCU'", "unknown registry 'NOWHERE'"),
    ),
    "a name that is a number": (("unit_types", "VCU", "name"), 7, ("unit type 'VCU'", "'name'")),
    "an over-long source": (("unit_types", "VCU", "source"), "s" * 1001, ("'source'", "1000")),
    "a code other than its key": (
        ("registries", "VERRA", "code"),
        "GS",
        ("registry 'VERRA'", "'code'"),
    ),
    "an account kind holding an unknown market": (
        ("account_kinds", "trading", "markets"),
        ["crypto"],
        ("account kind 'trading'", "crypto"),
    ),
    "an account kind with actions that are no list": (
        ("account_kinds", "trading", "actions"),
        {"send": True},
        ("account kind 'trading'", "'actions'"),
    ),
    "a lower-case country code": (("countries", 0), "ad", ("country codes", "'ad'")),
    "a country code that is a number": (("countries", 0), 7, ("country codes",)),
    "countries that are no list": (("countries",), "AD", ("country codes",)),
    "a section that is a list": (("registries",), [], ("'registries'",)),
    "an entry that is text": (("unit_types", "VCU"), "VCU", ("unit type 'VCU'", "fields")),
    "an entry with a field too many": (
        ("registries", "VERRA", "url"),
        "https://verra.org",
        ("registry 'VERRA'", "fields"),
    ),
    "a set written twice": (
        ("account_kinds", "retirement", "actions"),
        ["receive_retired", "receive_retired"],
        ("exactly",),
    ),
    "a date written another way": (
        ("conversions", "CDM-TO-A6.4", "min_vintage_start"),
        "20130101",
        ("exactly",),
    ),
}


@pytest.mark.parametrize("change", REFUSED_CHANGES)
def test_a_record_changed_to_break_a_rule_is_refused_naming_what_is_wrong(change: str) -> None:
    path, value, words = REFUSED_CHANGES[change]
    assert_refused(changed(shipped_record(), path, value), *words)


def test_a_record_missing_a_section_or_a_field_is_refused() -> None:
    record = shipped_record()
    del record["countries"]
    assert_refused(record, "countries")
    record = shipped_record()
    del record["unit_types"]["VCU"]["market"]
    assert_refused(record, "unit type 'VCU'", "fields")
    assert_refused([], "catalog record")


def test_a_record_changed_within_the_rules_describes_another_catalog() -> None:
    record = changed(shipped_record(), ("unit_types", "VCU", "registry"), "GS")
    catalog = Catalog.from_record(record)
    assert catalog.unit_types["VCU"].registry == "GS"
    assert catalog.digest != default_catalog().digest


def test_a_catalog_made_in_code_passes_the_same_rules() -> None:
    shipped = default_catalog()
    unit_types = dict(shipped.unit_types)
    unit_types["VCU"] = dataclasses.replace(unit_types["VCU"], registry="NOWHERE")
    with pytest.raises(CatalogError, match="unknown registry 'NOWHERE'"):
        dataclasses.replace(shipped, unit_types=unit_types)


def nodes(value: Any, path: Path = ()) -> Iterator[Path]:
    """The path of every value inside `value` (not `value` itself)."""
    children = value.items() if isinstance(value, dict) else enumerate(value)
    for key, child in children:
        yield (*path, key)
        if isinstance(child, dict | list):
            yield from nodes(child, (*path, key))


SHIPPED_NODES = list(nodes(shipped_record()))
SHIPPED_WORDS = ["VCU", "CER", "GS", "VERRA", "credit", "point", "send", "2013-01-01", "AD", ""]
JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
    | st.sampled_from(SHIPPED_WORDS)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)


@settings(max_examples=300)
@given(st.sampled_from(SHIPPED_NODES), JSON_VALUES)
def test_a_record_with_any_one_value_changed_is_refused_or_describes_a_valid_catalog(
    path: Path, value: Any
) -> None:
    record = changed(shipped_record(), path, value)
    try:
        catalog = Catalog.from_record(record)
    except CatalogError:
        return
    assert catalog_problems(catalog) == []
    assert catalog.record() == record
