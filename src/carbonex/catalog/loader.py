"""Load and validate the catalog's TOML files into immutable dataclasses.

A malformed file raises `CatalogError` naming the file, the entry and the field, so an operator
editing a jurisdiction's rules learns exactly what to fix.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import hashlib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

DATA_DIR = Path(__file__).parent / "data"
CATALOG_DIGEST_HEX_LENGTH = 32
"""128 bits of SHA-256: the journal names the catalog each entry was decided under by this."""
MARKETS = frozenset({"allowance", "credit", "certificate", "point"})
ACCOUNT_ACTIONS = frozenset(
    {
        "issue_into",
        "send",
        "receive",
        "retire",
        "cancel",
        "surrender",
        "expire",
        "hold",
        "convert",
        "receive_final",
    }
)


class CatalogError(ValueError):
    """A catalog file is missing, unreadable or breaks a rule of its format."""


@dataclass(frozen=True, slots=True)
class Registry:
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class UnitType:
    code: str
    name: str
    market: str
    metric: str
    programme: str
    registry: str
    source: str
    validity_years: int | None = None


@dataclass(frozen=True, slots=True)
class AccountKind:
    code: str
    description: str
    markets: frozenset[str]
    actions: frozenset[str]

    def may_hold(self, unit_type: UnitType) -> bool:
        return unit_type.market in self.markets

    def may(self, action: str) -> bool:
        return action in self.actions


@dataclass(frozen=True, slots=True)
class ConversionRule:
    rule_id: str
    from_unit_type: str
    to_unit_type: str
    source: str
    min_vintage_start: dt.date | None = None
    set_standard: str | None = None
    add_labels: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Catalog:
    registries: dict[str, Registry]
    unit_types: dict[str, UnitType]
    account_kinds: dict[str, AccountKind]
    conversions: dict[str, ConversionRule]
    countries: frozenset[str]
    digest: str = dataclasses.field(init=False, repr=False, compare=False)
    """SHA-256 of the catalog's canonical record, cut to CATALOG_DIGEST_HEX_LENGTH: every journal
    entry names the catalog it was decided under, so a rule change shows in the history. Computed
    from the content (also after `dataclasses.replace`), never given."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "digest", catalog_digest(self.canonical_record()))

    def record(self) -> dict[str, Any]:
        """Every rule as plain JSON values (sets sorted), for digesting and showing."""
        rules = [item.name for item in dataclasses.fields(self) if item.init]
        content = {name: getattr(self, name) for name in rules}
        record: dict[str, Any] = orjson.loads(orjson.dumps(content, default=_sorted_set))
        return record

    def canonical_record(self) -> bytes:
        """The record as canonical JSON (keys sorted): what the digest hashes; ledgers keep it."""
        return orjson.dumps(self.record(), option=orjson.OPT_SORT_KEYS)

    @classmethod
    def from_record(cls, record: Any) -> Catalog:
        """The catalog `record()` gave (one a ledger kept); CatalogError if it describes none."""
        try:
            catalog = cls(
                registries={code: Registry(**item) for code, item in record["registries"].items()},
                unit_types={code: UnitType(**item) for code, item in record["unit_types"].items()},
                account_kinds={
                    code: _account_kind_of(item) for code, item in record["account_kinds"].items()
                },
                conversions={
                    rule_id: _conversion_of(item) for rule_id, item in record["conversions"].items()
                },
                countries=frozenset(record["countries"]),
            )
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            raise CatalogError(f"not a catalog record: {error!r}") from error
        if catalog.record() != record:  # a value of another type, or a field too many
            raise CatalogError("the record does not describe a catalog exactly")
        return catalog

    def metric_of(self) -> dict[str, str]:
        """Unit type code -> the metric its units count (tCO2e, MWh, point)."""
        return {code: unit_type.metric for code, unit_type in self.unit_types.items()}


def _sorted_set(value: Any) -> list[Any]:
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not part of a catalog record")


def _account_kind_of(item: dict[str, Any]) -> AccountKind:
    return AccountKind(
        item["code"], item["description"], frozenset(item["markets"]), frozenset(item["actions"])
    )


def _conversion_of(item: dict[str, Any]) -> ConversionRule:
    start = item["min_vintage_start"]
    return ConversionRule(
        **item
        | {
            "min_vintage_start": None if start is None else dt.date.fromisoformat(start),
            "add_labels": tuple(item["add_labels"]),
        }
    )


def catalog_digest(canonical_record: bytes) -> str:
    return hashlib.sha256(canonical_record).hexdigest()[:CATALOG_DIGEST_HEX_LENGTH]


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as error:
        raise CatalogError(f"{path.name}: file not found") from error
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{path.name}: not valid TOML: {error}") from error


def _entries(path: Path, table: str) -> list[dict[str, Any]]:
    entries = _read(path).get(table)
    if not isinstance(entries, list) or not entries:
        raise CatalogError(f"{path.name}: expected one or more [[{table}]] entries")
    return entries


def _text(path: Path, index: int, entry: dict[str, Any], field: str, required: bool = True) -> str:
    value = entry.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{path.name}: entry {index + 1}: '{field}' must be a non-empty string")
    return value


def _string_list(path: Path, index: int, entry: dict[str, Any], field: str) -> tuple[str, ...]:
    value = entry.get(field, [])
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise CatalogError(f"{path.name}: entry {index + 1}: '{field}' must be a list of strings")
    return tuple(value)


def _unique(path: Path, codes: list[str]) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise CatalogError(f"{path.name}: code '{code}' appears more than once")
        seen.add(code)


def _load_registries(directory: Path) -> dict[str, Registry]:
    path = directory / "registries.toml"
    registries = [
        Registry(_text(path, i, e, "code"), _text(path, i, e, "name"))
        for i, e in enumerate(_entries(path, "registry"))
    ]
    _unique(path, [r.code for r in registries])
    return {r.code: r for r in registries}


def _load_unit_types(directory: Path, registries: dict[str, Registry]) -> dict[str, UnitType]:
    path = directory / "unit_types.toml"
    unit_types = []
    for i, entry in enumerate(_entries(path, "unit_type")):
        market = _text(path, i, entry, "market")
        if market not in MARKETS:
            raise CatalogError(
                f"{path.name}: entry {i + 1}: market '{market}' is not one of {sorted(MARKETS)}"
            )
        registry = _text(path, i, entry, "registry")
        if registry not in registries:
            raise CatalogError(f"{path.name}: entry {i + 1}: unknown registry '{registry}'")
        validity = entry.get("validity_years")
        if validity is not None and (
            not isinstance(validity, int) or isinstance(validity, bool) or validity <= 0
        ):
            raise CatalogError(f"{path.name}: entry {i + 1}: 'validity_years' must be positive")
        unit_types.append(
            UnitType(
                code=_text(path, i, entry, "code"),
                name=_text(path, i, entry, "name"),
                market=market,
                metric=_text(path, i, entry, "metric"),
                programme=_text(path, i, entry, "programme"),
                registry=registry,
                source=_text(path, i, entry, "source"),
                validity_years=validity,
            )
        )
    _unique(path, [u.code for u in unit_types])
    return {u.code: u for u in unit_types}


def _load_account_kinds(directory: Path) -> dict[str, AccountKind]:
    path = directory / "account_kinds.toml"
    kinds = []
    for i, entry in enumerate(_entries(path, "account_kind")):
        markets = frozenset(_string_list(path, i, entry, "markets"))
        actions = frozenset(_string_list(path, i, entry, "actions"))
        if not markets <= MARKETS:
            raise CatalogError(
                f"{path.name}: entry {i + 1}: unknown markets {sorted(markets - MARKETS)}"
            )
        if not actions <= ACCOUNT_ACTIONS:
            raise CatalogError(
                f"{path.name}: entry {i + 1}: unknown actions {sorted(actions - ACCOUNT_ACTIONS)}"
            )
        kinds.append(
            AccountKind(
                _text(path, i, entry, "code"),
                _text(path, i, entry, "description"),
                markets,
                actions,
            )
        )
    _unique(path, [k.code for k in kinds])
    return {k.code: k for k in kinds}


def _load_conversions(
    directory: Path, unit_types: dict[str, UnitType]
) -> dict[str, ConversionRule]:
    path = directory / "conversions.toml"
    rules = []
    for i, entry in enumerate(_entries(path, "conversion")):
        for field in ("from_unit_type", "to_unit_type"):
            if _text(path, i, entry, field) not in unit_types:
                raise CatalogError(f"{path.name}: entry {i + 1}: unknown unit type in '{field}'")
        start = entry.get("min_vintage_start")
        if start is not None and (not isinstance(start, dt.date) or isinstance(start, dt.datetime)):
            raise CatalogError(f"{path.name}: entry {i + 1}: 'min_vintage_start' must be a date")
        standard = entry.get("set_standard")
        rules.append(
            ConversionRule(
                rule_id=_text(path, i, entry, "id"),
                from_unit_type=entry["from_unit_type"],
                to_unit_type=entry["to_unit_type"],
                source=_text(path, i, entry, "source"),
                min_vintage_start=start,
                set_standard=standard if isinstance(standard, str) else None,
                add_labels=_string_list(path, i, entry, "add_labels"),
            )
        )
    _unique(path, [r.rule_id for r in rules])
    return {r.rule_id: r for r in rules}


def _load_countries(directory: Path) -> frozenset[str]:
    path = directory / "countries.toml"
    codes = _read(path).get("codes")
    if not isinstance(codes, list) or not all(
        isinstance(code, str) and len(code) == 2 and code.isupper() for code in codes
    ):
        raise CatalogError(f"{path.name}: 'codes' must be a list of two-letter upper-case codes")
    return frozenset(codes)


def load_catalog(directory: Path = DATA_DIR) -> Catalog:
    """Read every catalog file in `directory`, validating as it goes."""
    registries = _load_registries(directory)
    unit_types = _load_unit_types(directory, registries)
    return Catalog(
        registries=registries,
        unit_types=unit_types,
        account_kinds=_load_account_kinds(directory),
        conversions=_load_conversions(directory, unit_types),
        countries=_load_countries(directory),
    )


@functools.cache
def default_catalog() -> Catalog:
    """The catalog shipped with Carbonex, loaded once per process."""
    return load_catalog(DATA_DIR)
