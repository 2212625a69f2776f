"""Load and validate the catalog's TOML files into immutable dataclasses.

Every catalog passes one validation when it is made (`catalog_problems`, run by
`Catalog.__post_init__`), whether it comes from the TOML files (`load_catalog`), from a record a
ledger or a journal file kept (`Catalog.from_record`) or from code. A malformed file raises
`CatalogError` naming the file, the entry and the field, so an operator editing a jurisdiction's
rules learns exactly what to fix; a malformed record, the entry and the field.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import re
import reprlib
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

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
        "receive_retired",
        "receive_cancelled",
        "receive_surrendered",
        "receive_final",
    }
)
LEGACY_RECEIVE_FINAL = "receive_final"
"""Catalogs before the final states were told apart named one action for all three: a kind
holding it may receive units retired, cancelled or surrendered (journal entries decided under
such a catalog are decided again under it as they were)."""
CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
"""A registry, unit type, account kind or conversion code. No '/': a serial space is named
'registry/unit type', so a code holding one could name another's serials."""
CODE_LENGTH_MAX = 64
TEXT_LENGTH_MAX = 1_000
"""The ledger's bound on a text attribute (ledger.limits.TEXT_FIELD_LENGTH_MAX): a conversion's
`set_standard` and `add_labels` become attributes of the units it makes."""
ADD_LABELS_MAX = 32
"""Labels one conversion may add: a block holds at most 32 (ledger.limits.LABELS_PER_BLOCK_MAX)."""
VALIDITY_YEARS_MAX = 100
"""Programmes that set a validity period set a few years; a century is far beyond any, refuses
a typo such as 20 000, and keeps an expiry date inside the calendar (vintages end by
ledger.limits.VINTAGE_YEAR_MAX, 2200)."""
COUNTRY_CODE_PATTERN = re.compile(r"[A-Z]{2}")
USER_ASSIGNED_COUNTRY_CODE_PATTERN = re.compile(r"AA|Q[M-Z]|X[A-Z]|ZZ")
"""ISO 3166-1 leaves these alpha-2 codes to users (AA, QM-QZ, XA-XZ, ZZ): they name no country
the standard assigns, so a host country written with one could mean anything (XX, ZZ), and
countries.toml refuses them. Kosovo's XK, used by the EU and others, is one of them; the shipped
list holds officially assigned codes only. Only the file is held to this: a catalog record a
ledger kept (or one made in code) with such a code stays readable, its entries verifiable."""
FILE_BYTES_MAX = 4 * 1024 * 1024
"""A catalog file is read whole; the shipped ones are a few kilobytes."""
PROBLEMS_SHOWN_MAX = 3
"""Problems one CatalogError message names; it counts the others."""
_shown = reprlib.repr
"""A value as a message shows it: short, however large or deeply nested (hostile input)."""


class CatalogError(ValueError):
    """A catalog file or record is missing, unreadable or breaks a rule of its format."""


class Problem(NamedTuple):
    """One rule a catalog breaks."""

    section: str
    """The catalog field (and record key) at fault; its file is `{section}.toml`."""
    message: str
    """Names the entry and the field."""


class InvalidCatalogError(CatalogError):
    """A catalog's content breaks its rules (raised when one is made)."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__(described(problems, in_files=False))
        self.problems = problems


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
        if action in self.actions:
            return True
        return action.startswith("receive_") and LEGACY_RECEIVE_FINAL in self.actions


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
        problems = catalog_problems(self)
        if problems:
            raise InvalidCatalogError(problems)
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
        if not isinstance(record, dict) or set(record) != {*ENTRY_SECTIONS, "countries"}:
            raise CatalogError(
                f"a catalog record is an object of exactly {sorted({*ENTRY_SECTIONS, 'countries'})}"
            )
        catalog = cls(
            **{section: _record_entries(section, record[section]) for section in ENTRY_SECTIONS},
            countries=_as_set(record["countries"]),
        )
        if catalog.record() != record:  # a value written another way (a date, a set's order)
            raise CatalogError("the record does not describe a catalog exactly")
        return catalog

    def metric_of(self) -> dict[str, str]:
        """Unit type code -> the metric its units count (tCO2e, MWh, point)."""
        return {code: unit_type.metric for code, unit_type in self.unit_types.items()}


def _sorted_set(value: Any) -> list[Any]:
    if isinstance(value, frozenset | set):
        return sorted(value)
    raise TypeError(f"{type(value).__name__} is not part of a catalog record")


def catalog_digest(canonical_record: bytes) -> str:
    return hashlib.sha256(canonical_record).hexdigest()[:CATALOG_DIGEST_HEX_LENGTH]


def described(problems: list[Problem], in_files: bool) -> str:
    """The first problems, each naming its file when `in_files`, and how many more there are."""
    shown = [
        f"{problem.section}.toml: {problem.message}" if in_files else problem.message
        for problem in problems[:PROBLEMS_SHOWN_MAX]
    ]
    more = len(problems) - len(shown)
    return "; ".join(shown) + (f" (and {more} more)" if more else "")


# Building entries. Each field is taken as given, save that a list of strings becomes the set or
# tuple the dataclass holds and a record's ISO date a date: anything else stays as it is, for the
# validation to name.


def _as_set(value: Any) -> Any:
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return frozenset(value)
    return value


def _as_tuple(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value


def _as_date(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return value
    return value


def _registry_of_record(item: dict[str, Any]) -> Registry:
    return Registry(**item)


def _unit_type_of_record(item: dict[str, Any]) -> UnitType:
    return UnitType(**item)


def _account_kind_of_record(item: dict[str, Any]) -> AccountKind:
    return AccountKind(
        **item | {"markets": _as_set(item["markets"]), "actions": _as_set(item["actions"])}
    )


def _conversion_of_record(item: dict[str, Any]) -> ConversionRule:
    start, labels = item["min_vintage_start"], item["add_labels"]
    return ConversionRule(
        **item | {"min_vintage_start": _as_date(start), "add_labels": _as_tuple(labels)}
    )


def _given(entry: dict[str, Any], field: str, default: Any = None) -> Any:
    """A TOML entry's field as written (None when absent)."""
    return entry.get(field, default)


def _registry_of_toml(entry: dict[str, Any]) -> Registry:
    return Registry(_given(entry, "code"), _given(entry, "name"))


def _unit_type_of_toml(entry: dict[str, Any]) -> UnitType:
    return UnitType(**{field: _given(entry, field) for field in _field_names(UnitType)})


def _account_kind_of_toml(entry: dict[str, Any]) -> AccountKind:
    return AccountKind(
        _given(entry, "code"),
        _given(entry, "description"),
        _as_set(_given(entry, "markets", [])),
        _as_set(_given(entry, "actions", [])),
    )


def _conversion_of_toml(entry: dict[str, Any]) -> ConversionRule:
    """TOML writes a date as a date: a string there is refused, not read as one."""
    return ConversionRule(
        rule_id=_given(entry, "id"),
        from_unit_type=_given(entry, "from_unit_type"),
        to_unit_type=_given(entry, "to_unit_type"),
        source=_given(entry, "source"),
        min_vintage_start=_given(entry, "min_vintage_start"),
        set_standard=_given(entry, "set_standard"),
        add_labels=_as_tuple(_given(entry, "add_labels", [])),
    )


def _field_names(kind: type) -> list[str]:
    return [field.name for field in dataclasses.fields(kind)]


class Section(NamedTuple):
    """A catalog field of entries by code: the record key, and `{name}.toml` its file."""

    entry: str
    """What one entry is called in a message."""
    kind: type
    code_field: str
    table: str
    """The TOML file's array of tables, `[[table]]`."""
    toml_code: str
    of_record: Callable[[dict[str, Any]], Any]
    of_toml: Callable[[dict[str, Any]], Any]


ENTRY_SECTIONS = {
    "registries": Section(
        "registry", Registry, "code", "registry", "code", _registry_of_record, _registry_of_toml
    ),
    "unit_types": Section(
        "unit type",
        UnitType,
        "code",
        "unit_type",
        "code",
        _unit_type_of_record,
        _unit_type_of_toml,
    ),
    "account_kinds": Section(
        "account kind",
        AccountKind,
        "code",
        "account_kind",
        "code",
        _account_kind_of_record,
        _account_kind_of_toml,
    ),
    "conversions": Section(
        "conversion",
        ConversionRule,
        "rule_id",
        "conversion",
        "id",
        _conversion_of_record,
        _conversion_of_toml,
    ),
}


def _record_entries(section: str, entries: Any) -> dict[str, Any]:
    """A record's `section`: its entries by code, each with exactly the fields its kind has."""
    spec = ENTRY_SECTIONS[section]
    if not isinstance(entries, dict):
        raise CatalogError(f"'{section}' must be an object of {spec.entry} entries by code")
    fields = _field_names(spec.kind)
    built = {}
    for code, item in entries.items():
        if not isinstance(item, dict) or set(item) != set(fields):
            named = f"{spec.entry} {_shown(code)}"
            raise CatalogError(f"{named}: must be an object of exactly the fields {fields}")
        built[code] = spec.of_record(item)
    return built


# The validation: small checks, each returning the problems it finds. They run stage by stage, a
# stage only when the ones before it found nothing, so a check may rely on the entries' form
# (stage 1) and on their fields' types (stage 2).

Check = Callable[[Catalog], list[Problem]]


def _entries_of(catalog: Catalog, section: str) -> list[tuple[str, Any]]:
    entries: dict[str, Any] = getattr(catalog, section)
    return list(entries.items())


def _named(section: str, code: str) -> str:
    return f"{ENTRY_SECTIONS[section].entry} {_shown(code)}"


def _sections_hold_their_entries(catalog: Catalog) -> list[Problem]:
    problems = []
    for section, spec in ENTRY_SECTIONS.items():
        entries = getattr(catalog, section)
        if not isinstance(entries, dict) or not all(isinstance(code, str) for code in entries):
            problems.append(Problem(section, f"'{section}' must map codes to entries"))
        elif not all(type(entry) is spec.kind for entry in entries.values()):
            problems.append(Problem(section, f"'{section}' must hold {spec.entry} entries only"))
    if not isinstance(catalog.countries, frozenset):
        problems.append(Problem("countries", "the country codes must be a list of strings"))
    return problems


def _codes_are_well_formed(catalog: Catalog) -> list[Problem]:
    problems = []
    for section, spec in ENTRY_SECTIONS.items():
        for code, entry in _entries_of(catalog, section):
            named = _named(section, code)
            written = getattr(entry, spec.code_field)
            if written != code:
                wrong = f"its '{spec.code_field}' {_shown(written)} differs from its key"
                problems.append(Problem(section, f"{named}: {wrong}"))
            elif len(code) > CODE_LENGTH_MAX or not CODE_PATTERN.fullmatch(code):
                problems.append(
                    Problem(
                        section,
                        f"{named}: a code is letters, digits, '.', '-' and '_' (at most "
                        f"{CODE_LENGTH_MAX}), starting with a letter or digit",
                    )
                )
    return problems


TEXT_FIELDS = {
    "registries": ("name",),
    "unit_types": ("name", "metric", "programme", "registry", "source"),
    "account_kinds": ("description",),
    "conversions": ("from_unit_type", "to_unit_type", "source"),
}


def _text_problem(value: Any) -> str | None:
    """What is wrong with a text field's value, if anything."""
    if value is None:
        return "is missing (must be a non-empty string)"
    if not isinstance(value, str) or not value.strip():
        return f"must be a non-empty string, not {_shown(value)}"
    if "\x00" in value:  # PostgreSQL cannot store it; no catalog text needs it
        return "must not contain a NUL character"
    if len(value) > TEXT_LENGTH_MAX:
        return f"must be at most {TEXT_LENGTH_MAX} characters"
    return None


def _texts_are_well_formed(catalog: Catalog) -> list[Problem]:
    problems = []
    for section, fields in TEXT_FIELDS.items():
        for code, entry in _entries_of(catalog, section):
            for field in fields:
                wrong = _text_problem(getattr(entry, field))
                if wrong is not None:
                    problems.append(Problem(section, f"{_named(section, code)}: '{field}' {wrong}"))
    return problems


def _unit_type_markets_are_known(catalog: Catalog) -> list[Problem]:
    return [
        Problem(
            "unit_types",
            f"{_named('unit_types', code)}: 'market' must be one of {sorted(MARKETS)}, "
            f"not {_shown(unit_type.market)}",
        )
        for code, unit_type in catalog.unit_types.items()
        if not (isinstance(unit_type.market, str) and unit_type.market in MARKETS)
    ]


def _validity_periods_are_whole_years_in_bounds(catalog: Catalog) -> list[Problem]:
    problems = []
    for code, unit_type in catalog.unit_types.items():
        years = unit_type.validity_years
        if years is not None and (type(years) is not int or not 1 <= years <= VALIDITY_YEARS_MAX):
            problems.append(
                Problem(
                    "unit_types",
                    f"{_named('unit_types', code)}: 'validity_years' must be a whole number of "
                    f"years from 1 to {VALIDITY_YEARS_MAX}, not {_shown(years)}",
                )
            )
    return problems


def _account_kinds_name_known_markets_and_actions(catalog: Catalog) -> list[Problem]:
    problems = []
    for code, kind in catalog.account_kinds.items():
        named = _named("account_kinds", code)
        for field, known in (("markets", MARKETS), ("actions", ACCOUNT_ACTIONS)):
            value = getattr(kind, field)
            if not isinstance(value, frozenset) or not all(isinstance(v, str) for v in value):
                message = f"{named}: '{field}' must be a list of strings, not {_shown(value)}"
            elif not value <= known:
                message = f"{named}: unknown {field} {sorted(value - known)}"
            else:
                continue
            problems.append(Problem("account_kinds", message))
    return problems


def _unquoted_date_hint(value: Any) -> str:
    """For a date written in quotes (a string TOML does not read as a date): how to write it."""
    if not isinstance(value, str):
        return ""
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return ""
    return f" (write it without quotes: {day.isoformat()})"


def _conversion_rule_problems(rule: ConversionRule) -> list[str]:
    start, labels = rule.min_vintage_start, rule.add_labels
    problems = []
    if start is not None and (not isinstance(start, dt.date) or isinstance(start, dt.datetime)):
        hint = _unquoted_date_hint(start)
        problems.append(f"'min_vintage_start' must be a date, not {_shown(start)}{hint}")
    wrong = None if rule.set_standard is None else _text_problem(rule.set_standard)
    if wrong is not None:
        problems.append(f"'set_standard' {wrong}")
    if not isinstance(labels, tuple) or len(labels) > ADD_LABELS_MAX:
        problems.append(f"'add_labels' must be a list of at most {ADD_LABELS_MAX} labels")
    else:
        problems += [
            f"'add_labels': a label {wrong}" for wrong in map(_text_problem, labels) if wrong
        ]
    return problems


def _conversion_rules_are_well_formed(catalog: Catalog) -> list[Problem]:
    return [
        Problem("conversions", f"{_named('conversions', code)}: {problem}")
        for code, rule in catalog.conversions.items()
        for problem in _conversion_rule_problems(rule)
    ]


def _countries_are_iso_codes(catalog: Catalog) -> list[Problem]:
    wrong = sorted(
        code
        for code in catalog.countries
        if not (isinstance(code, str) and COUNTRY_CODE_PATTERN.fullmatch(code))
    )
    if not wrong:
        return []
    return [
        Problem(
            "countries",
            f"country codes must be two upper-case letters (ISO 3166-1 alpha-2), not "
            f"{_shown(wrong[0])}" + (f" and {len(wrong) - 1} more" if len(wrong) > 1 else ""),
        )
    ]


REFERENCES = (
    ("unit_types", "registry", "registries"),
    ("conversions", "from_unit_type", "unit_types"),
    ("conversions", "to_unit_type", "unit_types"),
)
"""(section, field, the section whose codes the field names)."""


def _references_name_known_entries(catalog: Catalog) -> list[Problem]:
    return [
        Problem(
            section,
            f"{_named(section, code)}: '{field}' names unknown {ENTRY_SECTIONS[target].entry} "
            f"{_shown(getattr(entry, field))}",
        )
        for section, field, target in REFERENCES
        for code, entry in _entries_of(catalog, section)
        if getattr(entry, field) not in getattr(catalog, target)
    ]


def _conversions_keep_the_metric(catalog: Catalog) -> list[Problem]:
    """A conversion makes as many units as it takes: of another metric, 100 t would become
    100 MWh or 100 points."""
    metric = catalog.metric_of()
    return [
        Problem(
            "conversions",
            f"{_named('conversions', code)}: converts {rule.from_unit_type} "
            f"({metric[rule.from_unit_type]}) into {rule.to_unit_type} "
            f"({metric[rule.to_unit_type]}); a conversion must keep the metric",
        )
        for code, rule in catalog.conversions.items()
        if metric[rule.from_unit_type] != metric[rule.to_unit_type]
    ]


CHECKS: tuple[tuple[Check, ...], ...] = (
    (_sections_hold_their_entries,),
    (
        _codes_are_well_formed,
        _texts_are_well_formed,
        _unit_type_markets_are_known,
        _validity_periods_are_whole_years_in_bounds,
        _account_kinds_name_known_markets_and_actions,
        _conversion_rules_are_well_formed,
        _countries_are_iso_codes,
    ),
    (_references_name_known_entries,),
    (_conversions_keep_the_metric,),
)


def catalog_problems(catalog: Catalog) -> list[Problem]:
    """What is wrong with `catalog` (its digest is not used): the problems of the first stage of
    CHECKS that finds any; none for a catalog the ledger may decide under."""
    for stage in CHECKS:
        problems = [problem for check in stage for problem in check(catalog)]
        if problems:
            return problems
    return []


# Reading the files.


def _read(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise CatalogError(f"{path.name}: file not found")
    if not path.is_file():
        raise CatalogError(f"{path.name}: not a regular file")
    try:
        with path.open("rb") as handle:
            content = handle.read(FILE_BYTES_MAX + 1)
    except OSError as error:
        raise CatalogError(f"{path.name}: cannot be read ({error.strerror})") from error
    if len(content) > FILE_BYTES_MAX:
        raise CatalogError(f"{path.name}: larger than {FILE_BYTES_MAX} bytes")
    try:
        return tomllib.loads(content.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise CatalogError(f"{path.name}: not UTF-8 text (byte {error.start})") from error
    except tomllib.TOMLDecodeError as error:
        raise CatalogError(f"{path.name}: not valid TOML: {error}") from error
    except RecursionError as error:  # tomllib nests one call per nested array or table
        raise CatalogError(f"{path.name}: not valid TOML: nested too deeply") from error


def _entries(
    path: Path, table: str, others: Iterable[str] = (), content: dict[str, Any] | None = None
) -> list[dict[str, Any]]:
    """The `[[table]]` entries of the file (of its `content`, when already read); a top-level
    key other than `table` and `others` is refused (a misspelt `[[unit_typ]]` entry would
    otherwise be dropped)."""
    content = _read(path) if content is None else content
    refuse_unknown_fields(f"{path.name}: top level", content, {table, *others})
    entries = content.get(table)
    if not isinstance(entries, list) or not entries:
        raise CatalogError(f"{path.name}: expected one or more [[{table}]] entries")
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise CatalogError(
                f"{path.name}: entry {index + 1}: expected a [[{table}]] table, not {_shown(entry)}"
            )
    return entries


def _text(path: Path, index: int, entry: dict[str, Any], field: str, required: bool = True) -> str:
    value = entry.get(field)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{path.name}: entry {index + 1}: '{field}' must be a non-empty string")
    return value


def refuse_unknown_fields(where: str, table: dict[str, Any], known: Iterable[str]) -> None:
    """CatalogError naming `where` (the file and entry) and each field of `table` not in `known`.

    A misspelt field would otherwise be dropped without a word: `validty_years` (no expiry),
    `total_year_max` (the default total instead of the one written), a stray `rate` on a buffer
    that withholds nothing. Every catalog loader refuses them through this one check."""
    fields = frozenset(known)
    unknown = sorted(set(table) - fields, key=str)
    if unknown:
        raise CatalogError(
            f"{where}: unknown field(s) {', '.join(map(_shown, unknown))}; "
            f"the fields are {', '.join(sorted(fields))}"
        )


def _unique(path: Path, codes: list[str]) -> None:
    seen: set[str] = set()
    for code in codes:
        if code in seen:
            raise CatalogError(f"{path.name}: code '{code}' appears more than once")
        seen.add(code)


def _load_entries(directory: Path, section: str) -> dict[str, Any]:
    """The entries of `{section}.toml` by code, each field as written (validated as a whole)."""
    spec = ENTRY_SECTIONS[section]
    path = directory / f"{section}.toml"
    entries = _entries(path, spec.table)
    codes = [_text(path, i, entry, spec.toml_code) for i, entry in enumerate(entries)]
    _unique(path, codes)
    known = {
        spec.toml_code if name == spec.code_field else name for name in _field_names(spec.kind)
    }
    for index, entry in enumerate(entries):
        refuse_unknown_fields(f"{path.name}: entry {index + 1} ({codes[index]})", entry, known)
    return {code: spec.of_toml(entry) for code, entry in zip(codes, entries, strict=True)}


def _country_codes(path: Path) -> Any:
    """The codes of countries.toml, each once and officially assigned (the rest of their form
    is checked with the catalog)."""
    content = _read(path)
    refuse_unknown_fields(f"{path.name}: top level", content, {"codes"})
    codes = content.get("codes")
    if isinstance(codes, list) and all(isinstance(code, str) for code in codes):
        _unique(path, codes)  # as a set, a code written twice would not show
        user_assigned = [c for c in codes if USER_ASSIGNED_COUNTRY_CODE_PATTERN.fullmatch(c)]
        if user_assigned:
            raise CatalogError(
                f"{path.name}: {', '.join(map(_shown, user_assigned))}: user-assigned, not "
                f"officially assigned ISO 3166-1 alpha-2 code(s); they name no country"
            )
    return _as_set(codes)


def load_catalog(directory: Path = DATA_DIR) -> Catalog:
    """Read every catalog file in `directory`; CatalogError names the file and entry at fault."""
    sections = {section: _load_entries(directory, section) for section in ENTRY_SECTIONS}
    countries = _country_codes(directory / "countries.toml")
    try:
        return Catalog(**sections, countries=countries)
    except InvalidCatalogError as error:
        raise CatalogError(described(error.problems, in_files=True)) from None
