"""Load and validate the carbon-inclusion catalog (`inclusion_factors.toml`): the low-carbon
action types people record, their emission factors and daily caps, and the points rule.

Factors and caps are decimal strings in TOML (never floats) and load as `Decimal`. A malformed
file raises `CatalogError` naming the file, the entry and the field.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from carbonex.catalog.loader import (
    DATA_DIR,
    CatalogError,
    UnitType,
    _entries,
    _read,
    _text,
    _unique,
    refuse_unknown_fields,
)
from carbonex.catalog.loader import load_catalog as load_base_catalog

FILE_NAME = "inclusion_factors.toml"
ACTION_CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
KG_PER_TONNE = 1000
TONNE_METRIC = "tCO2e"
POINTS_UNIT_MARKET = "credit"
"""Points are aggregated into credits of the carbon-inclusion programme (DOMAIN.md section 7)."""
FACTOR_KG_MAX = Decimal(1000)
"""Sanity bound: no single unit of activity avoids a tonne (a typo such as 570.3 is refused)."""
DAILY_CAP_MAX = Decimal(10**6)
POINTS_PER_UNIT_MAX = 10**9
RECORDING_WINDOW_DAYS_MAX = 3660
DECIMALS_MAX = 6
"""Decimal places a factor or cap may have (activity is stored in millionths of its unit)."""
SOURCED_SETTINGS = ("kg_per_point", "points_per_unit", "unit_type", "recording_window")
"""Settings of [points] whose `{name}_source` says where the value comes from."""
ACTION_TYPE_FIELDS = frozenset(
    {"code", "name", "activity_unit", "factor_kg", "daily_cap", "source", "cap_source"}
)
POINTS_FIELDS = frozenset(
    {"kg_per_point", "points_per_unit", "unit_type", "standard", "methodology"}
    | {"recording_window_days"}
    | {f"{name}_source" for name in SOURCED_SETTINGS}
)


@dataclass(frozen=True, slots=True)
class ActionType:
    code: str
    name: str
    activity_unit: str
    factor_kg: Decimal
    """kg CO2e avoided per unit of activity."""
    daily_cap: Decimal
    """Most activity (in `activity_unit`) one person may record of this type on one day."""
    source: str
    cap_source: str


@dataclass(frozen=True, slots=True)
class InclusionCatalog:
    action_types: dict[str, ActionType]
    kg_per_point: Decimal
    points_per_unit: int
    unit_type: str
    standard: str
    methodology: str
    recording_window_days: int
    sources: dict[str, str]
    """Setting name -> where its value comes from."""


def decimal_places(value: Decimal) -> int:
    """Significant places after the point of a finite decimal: 1.500 has one, 100 none."""
    _, digits, exponent = value.as_tuple()
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -(int(exponent) + trailing_zeros))


def _positive_decimal(where: str, table: dict[str, Any], field: str, high: Decimal) -> Decimal:
    value = table.get(field)
    if not isinstance(value, str):
        raise CatalogError(f"{where}: '{field}' must be a decimal string such as \"0.5\"")
    try:
        number = Decimal(value)
    except InvalidOperation as error:
        raise CatalogError(f"{where}: '{field}' is not a decimal: {value!r}") from error
    if not number.is_finite() or not Decimal(0) < number <= high:
        raise CatalogError(f"{where}: '{field}' must be above 0 and at most {high}, got {value}")
    if decimal_places(number) > DECIMALS_MAX:
        raise CatalogError(f"{where}: '{field}' has more than {DECIMALS_MAX} decimal places")
    return number


def _string(where: str, table: dict[str, Any], field: str) -> str:
    value = table.get(field)
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: '{field}' must be a non-empty string")
    return value


def _integer(where: str, table: dict[str, Any], field: str, high: int) -> int:
    value = table.get(field)
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= high:
        raise CatalogError(f"{where}: '{field}' must be an integer from 1 to {high}")
    return value


def _action_type(path: Path, index: int, entry: dict[str, Any]) -> ActionType:
    code = _text(path, index, entry, "code")
    where = f"{path.name}: entry {index + 1} ('{code}')"
    if not ACTION_CODE_PATTERN.match(code):
        raise CatalogError(f"{where}: 'code' must be lower-case letters, digits or _")
    action_type = ActionType(
        code=code,
        name=_string(where, entry, "name"),
        activity_unit=_string(where, entry, "activity_unit"),
        factor_kg=_positive_decimal(where, entry, "factor_kg", FACTOR_KG_MAX),
        daily_cap=_positive_decimal(where, entry, "daily_cap", DAILY_CAP_MAX),
        source=_string(where, entry, "source"),
        cap_source=_string(where, entry, "cap_source"),
    )
    refuse_unknown_fields(where, entry, ACTION_TYPE_FIELDS)  # after a missing field is named
    return action_type


def _points_unit_type(
    where: str, code: str, standard: str, unit_types: dict[str, UnitType]
) -> None:
    """The unit type points become: tonne-denominated credits the carbon-inclusion programme
    (the [points] `standard`) issues, never an allowance or another programme's credits."""
    unit_type = unit_types.get(code)
    if unit_type is None:
        raise CatalogError(f"{where}: unknown unit type '{code}' (not in unit_types.toml)")
    if unit_type.metric != TONNE_METRIC:
        raise CatalogError(f"{where}: unit type '{code}' is not counted in {TONNE_METRIC}")
    if unit_type.market != POINTS_UNIT_MARKET or unit_type.programme != standard:
        raise CatalogError(
            f"{where}: unit type '{code}' is in market '{unit_type.market}' of programme "
            f"'{unit_type.programme}'; points become {POINTS_UNIT_MARKET} units of the "
            f"carbon-inclusion programme, '{standard}' (the [points] standard)"
        )


def _settings(
    path: Path, content: dict[str, Any], unit_types: dict[str, UnitType]
) -> dict[str, Any]:
    raw = content.get("points")
    if not isinstance(raw, dict):
        raise CatalogError(f"{path.name}: a [points] table is required")
    where = f"{path.name}: [points]"
    refuse_unknown_fields(where, raw, POINTS_FIELDS)
    unit_type, standard = _string(where, raw, "unit_type"), _string(where, raw, "standard")
    _points_unit_type(where, unit_type, standard, unit_types)
    kg_per_point = _positive_decimal(where, raw, "kg_per_point", FACTOR_KG_MAX)
    points_per_unit = _integer(where, raw, "points_per_unit", POINTS_PER_UNIT_MAX)
    if kg_per_point * points_per_unit != KG_PER_TONNE:
        raise CatalogError(
            f"{where}: kg_per_point x points_per_unit must be {KG_PER_TONNE} kg (one tonne a unit)"
        )
    window = _integer(where, raw, "recording_window_days", RECORDING_WINDOW_DAYS_MAX)
    return {
        "kg_per_point": kg_per_point,
        "points_per_unit": points_per_unit,
        "unit_type": unit_type,
        "standard": standard,
        "methodology": _string(where, raw, "methodology"),
        "recording_window_days": window,
        "sources": {name: _string(where, raw, f"{name}_source") for name in SOURCED_SETTINGS},
    }


def load_inclusion_catalog(directory: Path = DATA_DIR) -> InclusionCatalog:
    """Read `inclusion_factors.toml` in `directory` (and the unit types it refers to)."""
    path = directory / FILE_NAME
    base = load_base_catalog(directory)
    content = _read(path)
    settings = _settings(path, content, base.unit_types)
    entries = _entries(path, "action_type", ("points",), content)
    action_types = [_action_type(path, i, e) for i, e in enumerate(entries)]
    _unique(path, [a.code for a in action_types])
    return InclusionCatalog(action_types={a.code: a for a in action_types}, **settings)


@functools.cache
def default_inclusion_catalog() -> InclusionCatalog:
    """The carbon-inclusion catalog shipped with Carbonex, loaded once per process."""
    return load_inclusion_catalog(DATA_DIR)
