"""Load and validate the project-cycle reference data: standards, labels, GWPs, methodologies and
issuance deductions (`standards.toml`, `labels.toml`, `gwp.toml`, `methodologies.toml`,
`issuance_rules.toml`).

Rates are decimal strings in TOML (never floats, which cannot hold 0.05 exactly) and load as
`Decimal`. A malformed file raises `CatalogError` naming the file, the entry and the field.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from carbonex.catalog.loader import (
    DATA_DIR,
    AccountKind,
    Catalog,
    CatalogError,
    _entries,
    _read,
    _text,
    _unique,
    load_catalog,
    refuse_unknown_fields,
)

CATEGORIES = frozenset({"avoidance", "removal"})
BUFFER_KINDS = frozenset({"none", "fixed", "risk_rating", "not_encoded"})
ROUNDINGS = frozenset({"up", "down"})
LABEL_KINDS = frozenset({"quality", "eligibility", "co_benefit"})
SHARE_OF_PROCEEDS = "share_of_proceeds"
OMGE = "omge"
DEDUCTION_CODES = frozenset({SHARE_OF_PROCEEDS, OMGE})
"""The deductions at issuance Carbonex splits (`projects.deductions`): another code in
issuance_rules.toml would load and then fail every approval."""
TRANSFER_RECEIPT = "receive"
CANCELLED_RECEIPT = "receive_cancelled"
"""The account-kind actions a deduction account needs: issuance moves a deduction there by
transfer, or cancels it there when the deduction's `cancel` is true (projects.issuance)."""
ISSUANCE_ACCOUNT_KIND = "issuance"
BUFFER_POOL_ACCOUNT_KIND = "buffer_pool"
"""The account kinds a standard's programme accounts are found by (projects.programme): its
issuance account and its buffer pool, in the registry of its unit type."""
ISSUANCE_ACCOUNT_ACTIONS = frozenset({"issue_into", "send"})
"""A verified issuance is issued into the issuance account, which sends the proponent's share,
each deduction moved by transfer and the buffer on (projects.issuance); it also cancels each
deduction whose `cancel` is true (ISSUANCE_CANCEL_ACTION)."""
ISSUANCE_CANCEL_ACTION = "cancel"
BUFFER_POOL_ACTIONS = frozenset({TRANSFER_RECEIPT, "cancel"})
"""The buffer pool receives a standard's buffer by transfer and cancels the tonnes a reversal
loses (projects.programme.reverse)."""


@dataclass(frozen=True, slots=True)
class CalculatorNeeds:
    """What a methodology calculator (projects.calculation) reads from the catalog and from a
    monitoring report."""

    inputs: frozenset[str]
    """Every monitored value it reads: a methodology may require only these."""
    inputs_without_default: frozenset[str]
    """The values it cannot run without: every methodology using it requires these."""
    defaults: frozenset[str] = frozenset()
    """The [methodology.defaults] values it reads: a methodology using it gives exactly these."""
    gases: frozenset[str] = frozenset()
    """The gases whose GWP it reads, from the report the project's standard names (gwp_set)."""


CALCULATOR_NEEDS = {
    "grid_electricity": CalculatorNeeds(
        inputs=frozenset(
            {"net_electricity_mwh", "grid_emission_factor_t_per_mwh"}
            | {"project_emissions_t", "leakage_emissions_t"}
        ),
        inputs_without_default=frozenset({"net_electricity_mwh", "grid_emission_factor_t_per_mwh"}),
    ),
    "methane_destruction": CalculatorNeeds(
        inputs=frozenset(
            {"methane_to_flare_t", "flare_type", "methane_to_electricity_t"}
            | {"methane_baseline_destroyed_t", "electricity_consumed_mwh"}
            | {"grid_emission_factor_t_per_mwh", "measured_flare_efficiency"}
        ),
        inputs_without_default=frozenset({"methane_to_flare_t", "flare_type"}),
        defaults=frozenset(
            {"flare_efficiency_open", "flare_efficiency_enclosed", "oxidation_top_layer"}
        ),
        gases=frozenset({"CH4"}),
    ),
    "afforestation": CalculatorNeeds(
        inputs=frozenset(
            {"project_carbon_stock_change_t", "project_emissions_t"}
            | {"baseline_carbon_stock_change_t", "leakage_t", "uncertainty"}
        ),
        inputs_without_default=frozenset({"project_carbon_stock_change_t"}),
        defaults=frozenset({"uncertainty_allowed"}),
    ),
}
"""Each calculator's needs, checked when the catalog loads: without them a monitoring report
fails as if its data were at fault (a test runs each calculator on exactly these, and holds
`inputs` and `inputs_without_default` equal to the calculator's parameters)."""
GWP_SET_NOT_ENCODED = "not_encoded"
"""A standard whose GWP set no source read so far states: a calculation that reads a GWP under
it is refused (projects.calculation), as an issuance under a buffer not encoded is."""
CALCULATORS = frozenset(CALCULATOR_NEEDS)
SERIAL_FORMATS = frozenset({"verra", "gold_standard", "cdm", "ccer"})
"""The serial layouts Carbonex reads and writes: `carbonex.imports.serials` has `parse_<name>` and
`format_<name>` for each and for no other (a test holds the two equal; the catalog does not
import the importers, which import the ledger, which imports the catalog). A standard's
`serial_format` names one of them, or SERIAL_FORMAT_NOT_ENCODED."""
SERIAL_FORMAT_NOT_ENCODED = "not_encoded"
"""A standard whose serial layout no code reads yet: said so, as a buffer rule not encoded is."""
BUFFER_RATE_ABOVE = Decimal(0)
"""A buffer's rate (a fixed `rate`, a risk-rated `rate_min` and `rate_max`) lies above 0: a buffer
withholding nothing is kind `none`, and a risk-rated minimum of 0 would let a project rated 0
put nothing into the pool that insures every project's reversals (DOMAIN.md section 2: the
buffer pool holds the non-permanence risk)."""
BUFFER_RATE_BELOW = Decimal(1)
"""... and below 1: a buffer withholding a whole issuance leaves the proponent nothing (with the
deductions, `_withholdings_leave_the_proponent_a_share` holds the sum below 1 too)."""
# Sanity bounds on the years in a rule: a typo such as 1000 years is refused.
CREDITING_YEARS_MAX = 100
RULE_YEAR_MIN = 1990
RULE_YEAR_MAX = 2100
# The fields each table may hold: any other is refused (a misspelt one would be dropped).
STANDARD_FIELDS = frozenset(
    {"code", "name", "unit_type", "serial_format", "source", "crediting", "buffer"}
    | {"compliance_use", "gwp_set", "gwp_source"}
)
CREDITING_FIELDS = frozenset(
    {"category", "years_min", "years_max", "max_renewals", "total_years_max", "source"}
)
BUFFER_FIELDS = {
    "none": frozenset({"kind", "source"}),
    "not_encoded": frozenset({"kind", "source"}),
    "fixed": frozenset({"kind", "rate", "rounding", "source"}),
    "risk_rating": frozenset({"kind", "rate_min", "rate_max", "rounding", "source"}),
}
"""By buffer kind: a rate on a buffer that withholds nothing is refused, not ignored."""
COMPLIANCE_USE_FIELDS = frozenset(
    {"scheme", "limit_share", "limit_basis", "source", "first_year", "last_year"}
)
LABEL_FIELDS = frozenset({"code", "name", "kind", "source", "first_year", "last_year", "goals"})
GWP_REPORT_FIELDS = frozenset({"code", "name", "horizon_years", "source", "gwp"})
GWP_FILE_FIELDS = ("default", "default_source")
"""Top-level settings of gwp.toml beside its [[report]] entries."""
METHODOLOGY_FIELDS = frozenset(
    {"code", "title", "sector", "category", "calculator", "source", "defaults"}
    | {"defaults_source", "required_inputs", "required_inputs_source"}
)
PROGRAMME_FIELDS = frozenset({"standard", "deduction"})
DEDUCTION_FIELDS = frozenset({"code", "rate", "rounding", "account_kind", "cancel", "source"})


@dataclass(frozen=True, slots=True)
class CreditingOption:
    category: str
    years_min: int
    years_max: int
    max_renewals: int
    total_years_max: int
    source: str


@dataclass(frozen=True, slots=True)
class BufferRule:
    kind: str
    source: str
    rate: Decimal | None = None
    rate_min: Decimal | None = None
    rate_max: Decimal | None = None
    rounding: str = "up"


@dataclass(frozen=True, slots=True)
class ComplianceUse:
    scheme: str
    limit_share: Decimal
    limit_basis: str
    source: str
    first_year: int | None = None
    last_year: int | None = None


@dataclass(frozen=True, slots=True)
class Standard:
    code: str
    name: str
    unit_type: str
    serial_format: str
    source: str
    crediting: tuple[CreditingOption, ...]
    buffer: BufferRule
    compliance_use: tuple[ComplianceUse, ...]
    gwp_set: str = GWP_SET_NOT_ENCODED
    """The gwp.toml report its calculations convert gases with, or GWP_SET_NOT_ENCODED."""
    gwp_source: str = ""

    def crediting_options(self, category: str) -> tuple[CreditingOption, ...]:
        return tuple(option for option in self.crediting if option.category == category)


@dataclass(frozen=True, slots=True)
class Label:
    code: str
    name: str
    kind: str
    source: str
    first_year: int | None = None
    last_year: int | None = None


@dataclass(frozen=True, slots=True)
class GwpSet:
    code: str
    name: str
    horizon_years: int
    values: dict[str, Decimal]
    source: str


@dataclass(frozen=True, slots=True)
class GwpTable:
    default: str
    default_source: str
    reports: dict[str, GwpSet]

    def gwp(self, gas: str, report: str | None = None) -> Decimal:
        """The GWP of `gas` in `report` (the Paris default when None); KeyError if absent."""
        return self.reports[report or self.default].values[gas]


@dataclass(frozen=True, slots=True)
class Methodology:
    code: str
    title: str
    sector: str
    category: str
    calculator: str
    source: str
    defaults: dict[str, Decimal]
    defaults_source: str = ""
    required_inputs: frozenset[str] = frozenset()
    """Monitored values a report must give: omitted, the calculator's default of 0 would credit
    tonnes the data never showed (projects.calculation refuses E_CALCULATION_INPUT_MISSING)."""
    required_inputs_source: str = ""


@dataclass(frozen=True, slots=True)
class Deduction:
    code: str
    rate: Decimal
    rounding: str
    account_kind: str
    cancel: bool
    source: str


@dataclass(frozen=True, slots=True)
class ProjectCatalog:
    standards: dict[str, Standard]
    labels: dict[str, Label]
    gwp: GwpTable
    methodologies: dict[str, Methodology]
    deductions: dict[str, tuple[Deduction, ...]]


def _where(path: Path, index: int, code: str = "") -> str:
    named = f" ('{code}')" if code else ""
    return f"{path.name}: entry {index + 1}{named}"


def _fraction(where: str, table: dict[str, Any], field: str) -> Decimal:
    """A rate in [0, 1] written as a decimal string."""
    value = table.get(field)
    if not isinstance(value, str):
        raise CatalogError(f"{where}: '{field}' must be a decimal string such as \"0.05\"")
    try:
        rate = Decimal(value)
    except InvalidOperation as error:
        raise CatalogError(f"{where}: '{field}' is not a decimal: {value!r}") from error
    if not rate.is_finite() or not Decimal(0) <= rate <= Decimal(1):
        raise CatalogError(f"{where}: '{field}' must lie between 0 and 1, got {value}")
    return rate


def _int(where: str, table: dict[str, Any], field: str, low: int, high: int) -> int:
    value = table.get(field)
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise CatalogError(f"{where}: '{field}' must be an integer from {low} to {high}")
    return value


def _optional_year(where: str, table: dict[str, Any], field: str) -> int | None:
    if table.get(field) is None:
        return None
    return _int(where, table, field, RULE_YEAR_MIN, RULE_YEAR_MAX)


def _choice(where: str, table: dict[str, Any], field: str, allowed: frozenset[str]) -> str:
    value = table.get(field)
    if value not in allowed:
        raise CatalogError(f"{where}: '{field}' must be one of {sorted(allowed)}, got {value!r}")
    return str(value)


def _string(where: str, table: dict[str, Any], field: str) -> str:
    value = table.get(field)
    if not isinstance(value, str) or not value.strip():
        raise CatalogError(f"{where}: '{field}' must be a non-empty string")
    return value


def _year_range(where: str, first: int | None, last: int | None) -> None:
    if first is not None and last is not None and last < first:
        raise CatalogError(f"{where}: 'last_year' {last} is before 'first_year' {first}")


def _crediting_option(where: str, raw: dict[str, Any]) -> CreditingOption:
    refuse_unknown_fields(where, raw, CREDITING_FIELDS)
    years_min = _int(where, raw, "years_min", 1, CREDITING_YEARS_MAX)
    years_max = _int(where, raw, "years_max", years_min, CREDITING_YEARS_MAX)
    renewals = _int(where, raw, "max_renewals", 0, CREDITING_YEARS_MAX)
    total = raw.get("total_years_max", years_max * (1 + renewals))
    total = _int(where, {"total_years_max": total}, "total_years_max", years_max, 10**4)
    return CreditingOption(
        category=_choice(where, raw, "category", CATEGORIES),
        years_min=years_min,
        years_max=years_max,
        max_renewals=renewals,
        total_years_max=total,
        source=_string(where, raw, "source"),
    )


def _buffer_rate(where: str, raw: dict[str, Any], field: str) -> Decimal:
    rate = _fraction(where, raw, field)
    if not BUFFER_RATE_ABOVE < rate < BUFFER_RATE_BELOW:
        raise CatalogError(
            f"{where}: '{field}' must lie above {BUFFER_RATE_ABOVE} and below "
            f"{BUFFER_RATE_BELOW}, got {rate} (a buffer withholding nothing is kind 'none')"
        )
    return rate


def _buffer_rule(where: str, raw: Any) -> BufferRule:
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: a [standard.buffer] table is required")
    where = f"{where} buffer"
    kind = _choice(where, raw, "kind", BUFFER_KINDS)
    refuse_unknown_fields(f"{where} (kind {kind})", raw, BUFFER_FIELDS[kind])
    source = _string(where, raw, "source")
    if kind == "fixed":
        rounding = _choice(where, raw, "rounding", ROUNDINGS)
        return BufferRule(kind, source, rate=_buffer_rate(where, raw, "rate"), rounding=rounding)
    if kind == "risk_rating":
        low, high = _buffer_rate(where, raw, "rate_min"), _buffer_rate(where, raw, "rate_max")
        if high < low:
            raise CatalogError(f"{where}: 'rate_max' {high} is below 'rate_min' {low}")
        rounding = _choice(where, raw, "rounding", ROUNDINGS)
        return BufferRule(kind, source, rate_min=low, rate_max=high, rounding=rounding)
    return BufferRule(kind, source)


def _compliance_use(where: str, raw: dict[str, Any]) -> ComplianceUse:
    refuse_unknown_fields(where, raw, COMPLIANCE_USE_FIELDS)
    first, last = _optional_year(where, raw, "first_year"), _optional_year(where, raw, "last_year")
    _year_range(where, first, last)
    return ComplianceUse(
        scheme=_string(where, raw, "scheme"),
        limit_share=_fraction(where, raw, "limit_share"),
        limit_basis=_string(where, raw, "limit_basis"),
        source=_string(where, raw, "source"),
        first_year=first,
        last_year=last,
    )


def _sub_list(where: str, entry: dict[str, Any], field: str) -> list[dict[str, Any]]:
    value = entry.get(field, [])
    if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
        raise CatalogError(f"{where}: '{field}' must be a list of tables")
    return value


def _standard(path: Path, index: int, entry: dict[str, Any], unit_types: set[str]) -> Standard:
    code = _text(path, index, entry, "code")
    where = _where(path, index, code)
    refuse_unknown_fields(where, entry, STANDARD_FIELDS)
    unit_type = _string(where, entry, "unit_type")
    if unit_type not in unit_types:
        raise CatalogError(f"{where}: unknown unit type '{unit_type}' (not in unit_types.toml)")
    serial_format = _choice(
        where, entry, "serial_format", SERIAL_FORMATS | {SERIAL_FORMAT_NOT_ENCODED}
    )
    crediting = _sub_list(where, entry, "crediting")
    uses = _sub_list(where, entry, "compliance_use")
    return Standard(
        code=code,
        name=_string(where, entry, "name"),
        unit_type=unit_type,
        serial_format=serial_format,
        source=_string(where, entry, "source"),
        crediting=tuple(
            _crediting_option(f"{where} crediting {n + 1}", raw) for n, raw in enumerate(crediting)
        ),
        buffer=_buffer_rule(where, entry.get("buffer")),
        compliance_use=tuple(
            _compliance_use(f"{where} compliance_use {n + 1}", raw) for n, raw in enumerate(uses)
        ),
        gwp_set=_string(where, entry, "gwp_set"),
        gwp_source=_string(where, entry, "gwp_source"),
    )


def load_standards(directory: Path, unit_types: set[str]) -> dict[str, Standard]:
    path = directory / "standards.toml"
    standards = [
        _standard(path, i, entry, unit_types) for i, entry in enumerate(_entries(path, "standard"))
    ]
    _unique(path, [s.code for s in standards])
    return {s.code: s for s in standards}


def _labels_of(path: Path, index: int, entry: dict[str, Any]) -> list[Label]:
    code = _text(path, index, entry, "code")
    where = _where(path, index, code)
    refuse_unknown_fields(where, entry, LABEL_FIELDS)
    first, last = (
        _optional_year(where, entry, "first_year"),
        _optional_year(where, entry, "last_year"),
    )
    _year_range(where, first, last)
    name, source = _string(where, entry, "name"), _string(where, entry, "source")
    kind = _choice(where, entry, "kind", LABEL_KINDS)
    if entry.get("goals") is None:
        return [Label(code, name, kind, source, first, last)]
    goals = _int(where, entry, "goals", 1, 100)
    return [
        Label(f"{code}-{goal}", f"{name} {goal}", kind, source, first, last)
        for goal in range(1, goals + 1)
    ]


def load_labels(directory: Path) -> dict[str, Label]:
    path = directory / "labels.toml"
    labels = [
        label
        for i, entry in enumerate(_entries(path, "label"))
        for label in _labels_of(path, i, entry)
    ]
    _unique(path, [label.code for label in labels])
    return {label.code: label for label in labels}


def _gwp_values(where: str, raw: Any) -> dict[str, Decimal]:
    if not isinstance(raw, dict) or not raw:
        raise CatalogError(f'{where}: a [report.gwp] table of gas = "value" is required')
    values = {}
    for gas, value in raw.items():
        try:
            number = Decimal(value) if isinstance(value, str) else None
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number <= 0:
            raise CatalogError(f"{where}: GWP of '{gas}' must be a positive decimal string")
        values[gas] = number
    if values.get("CO2") != Decimal(1):
        raise CatalogError(f"{where}: the GWP of CO2 must be 1 (it is the reference gas)")
    return values


def load_gwp(directory: Path) -> GwpTable:
    path = directory / "gwp.toml"
    top = _read(path)
    entries = _entries(path, "report", GWP_FILE_FIELDS, top)
    reports = {}
    for i, entry in enumerate(entries):
        code = _text(path, i, entry, "code")
        where = _where(path, i, code)
        refuse_unknown_fields(where, entry, GWP_REPORT_FIELDS)
        reports[code] = GwpSet(
            code=code,
            name=_string(where, entry, "name"),
            horizon_years=_int(where, entry, "horizon_years", 1, 1000),
            values=_gwp_values(where, entry.get("gwp")),
            source=_string(where, entry, "source"),
        )
    _unique(path, [_text(path, i, e, "code") for i, e in enumerate(entries)])
    default = _string(path.name, top, "default")
    if default not in reports:
        raise CatalogError(f"{path.name}: 'default' names unknown report '{default}'")
    return GwpTable(default, _string(path.name, top, "default_source"), reports)


def _methodology(path: Path, index: int, entry: dict[str, Any]) -> Methodology:
    code = _text(path, index, entry, "code")
    where = _where(path, index, code)
    refuse_unknown_fields(where, entry, METHODOLOGY_FIELDS)
    calculator = _choice(where, entry, "calculator", CALCULATORS)
    raw_defaults = entry.get("defaults", {})
    if not isinstance(raw_defaults, dict):
        raise CatalogError(f"{where}: 'defaults' must be a table")
    needed = CALCULATOR_NEEDS[calculator].defaults
    refuse_unknown_fields(f"{where} defaults (calculator {calculator})", raw_defaults, needed)
    missing = sorted(needed - set(raw_defaults))
    if missing:
        raise CatalogError(
            f"{where}: [methodology.defaults] lacks {', '.join(map(repr, missing))}, which "
            f"calculator '{calculator}' reads"
        )
    defaults = {name: _fraction(where, raw_defaults, name) for name in raw_defaults}
    if defaults and not entry.get("defaults_source"):
        raise CatalogError(f"{where}: 'defaults' need a 'defaults_source'")
    return Methodology(
        code=code,
        title=_string(where, entry, "title"),
        sector=_string(where, entry, "sector"),
        category=_choice(where, entry, "category", CATEGORIES),
        calculator=calculator,
        source=_string(where, entry, "source"),
        defaults=defaults,
        defaults_source=str(entry.get("defaults_source", "")),
        required_inputs=_required_inputs(where, entry, calculator),
        required_inputs_source=_string(where, entry, "required_inputs_source"),
    )


def _required_inputs(where: str, entry: dict[str, Any], calculator: str) -> frozenset[str]:
    """The monitored values a methodology requires: names its calculator reads, at least those
    it cannot run without. A name it does not read would be demanded of every report and then
    ignored; one it cannot run without, left out, would fail as if the data were malformed."""
    raw = entry.get("required_inputs")
    if not isinstance(raw, list) or not all(isinstance(name, str) for name in raw):
        raise CatalogError(f"{where}: 'required_inputs' must be a list of input names")
    if len(set(raw)) != len(raw):
        raise CatalogError(f"{where}: 'required_inputs' names an input more than once")
    needs = CALCULATOR_NEEDS[calculator]
    unread = sorted(set(raw) - needs.inputs)
    if unread:
        raise CatalogError(
            f"{where}: 'required_inputs' names {', '.join(map(repr, unread))}, which calculator "
            f"'{calculator}' does not read (it reads {', '.join(sorted(needs.inputs))})"
        )
    lacking = sorted(needs.inputs_without_default - set(raw))
    if lacking:
        raise CatalogError(
            f"{where}: 'required_inputs' lacks {', '.join(map(repr, lacking))}, without which "
            f"calculator '{calculator}' cannot run"
        )
    return frozenset(raw)


def load_methodologies(directory: Path) -> dict[str, Methodology]:
    path = directory / "methodologies.toml"
    methodologies = [_methodology(path, i, e) for i, e in enumerate(_entries(path, "methodology"))]
    _unique(path, [m.code for m in methodologies])
    return {m.code: m for m in methodologies}


def _deduction(where: str, raw: dict[str, Any], base: Catalog, unit_type: str) -> Deduction:
    """A deduction the issuance of `unit_type` units can make: a code Carbonex splits, into an
    account kind that may hold the units and receive them as the deduction moves them."""
    refuse_unknown_fields(where, raw, DEDUCTION_FIELDS)
    code = _choice(where, raw, "code", DEDUCTION_CODES)
    kind_code = _string(where, raw, "account_kind")
    kind = base.account_kinds.get(kind_code)
    if kind is None:
        raise CatalogError(
            f"{where}: unknown account kind '{kind_code}' (not in account_kinds.toml)"
        )
    cancel = raw.get("cancel")
    if not isinstance(cancel, bool):
        raise CatalogError(f"{where}: 'cancel' must be true or false")
    _deduction_account_fits(where, kind, cancel, base.unit_types[unit_type].market)
    return Deduction(
        code=code,
        rate=_fraction(where, raw, "rate"),
        rounding=_choice(where, raw, "rounding", ROUNDINGS),
        account_kind=kind_code,
        cancel=cancel,
        source=_string(where, raw, "source"),
    )


def _deduction_account_fits(where: str, kind: AccountKind, cancel: bool, market: str) -> None:
    action = CANCELLED_RECEIPT if cancel else TRANSFER_RECEIPT
    if not kind.may(action):
        how = "cancelled ('cancel = true')" if cancel else "by transfer ('cancel = false')"
        raise CatalogError(
            f"{where}: account kind '{kind.code}' may not receive units {how}: it lacks the "
            f"action '{action}' in account_kinds.toml"
        )
    if market not in kind.markets:
        raise CatalogError(
            f"{where}: account kind '{kind.code}' may not hold the standard's {market} units "
            f"(its markets in account_kinds.toml)"
        )


def buffer_rate_max(rule: BufferRule) -> Decimal:
    """The largest share of an issuance the buffer rule withholds (none when not encoded: such
    a standard's issuance is refused)."""
    if rule.kind == "fixed" and rule.rate is not None:
        return rule.rate
    if rule.kind == "risk_rating" and rule.rate_max is not None:
        return rule.rate_max
    return Decimal(0)


def _withholdings_leave_the_proponent_a_share(
    standards: dict[str, Standard], rules: dict[str, tuple[Deduction, ...]]
) -> None:
    """The buffer at its largest and the deductions together withhold less than an issuance."""
    for code, standard in standards.items():
        buffer_max = buffer_rate_max(standard.buffer)
        deducted = sum((d.rate for d in rules.get(code, ())), Decimal(0))
        if buffer_max + deducted >= 1:
            raise CatalogError(
                f"standards.toml and issuance_rules.toml: standard '{code}': the buffer (up to "
                f"{buffer_max}) and the deductions ({deducted}) can withhold 100% or more of an "
                f"issuance, leaving the proponent nothing"
            )


def load_deductions(
    directory: Path, standards: dict[str, Standard], base: Catalog
) -> dict[str, tuple[Deduction, ...]]:
    path = directory / "issuance_rules.toml"
    rules: dict[str, tuple[Deduction, ...]] = {}
    for i, entry in enumerate(_entries(path, "programme")):
        standard = _text(path, i, entry, "standard")
        where = _where(path, i, standard)
        refuse_unknown_fields(where, entry, PROGRAMME_FIELDS)
        if standard not in standards:
            raise CatalogError(f"{where}: unknown standard '{standard}' (not in standards.toml)")
        if standard in rules:
            raise CatalogError(f"{where}: standard '{standard}' appears more than once")
        raw = _sub_list(where, entry, "deduction")
        unit_type = standards[standard].unit_type
        deductions = tuple(
            _deduction(f"{where} deduction {n + 1}", r, base, unit_type) for n, r in enumerate(raw)
        )
        _unique(path, [d.code for d in deductions])
        if sum(d.rate for d in deductions) >= 1:
            raise CatalogError(f"{where}: deduction rates add up to 100% or more")
        rules[standard] = deductions
    _withholdings_leave_the_proponent_a_share(standards, rules)
    return rules


def _conversions_name_known_standards_and_labels(
    base: Catalog, standards: dict[str, Standard], labels: dict[str, Label]
) -> None:
    """What a conversion writes on the units it makes names a standard and labels the project
    cycle's files hold; a standard it sets issues the unit type it makes."""
    for code, rule in base.conversions.items():
        where = f"conversions.toml: conversion '{code}'"
        standard = standards.get(rule.set_standard or "")
        if rule.set_standard is not None and standard is None:
            raise CatalogError(
                f"{where}: 'set_standard' names unknown standard {rule.set_standard!r} (a code "
                f"in standards.toml: {', '.join(sorted(standards))})"
            )
        if standard is not None and standard.unit_type != rule.to_unit_type:
            raise CatalogError(
                f"{where}: 'set_standard' {standard.code} issues {standard.unit_type}, not the "
                f"{rule.to_unit_type} the conversion makes"
            )
        unknown = [label for label in rule.add_labels if label not in labels]
        if unknown:
            raise CatalogError(
                f"{where}: 'add_labels' names unknown label(s) {', '.join(map(repr, unknown))} "
                f"(not in labels.toml)"
            )


def _shortfall(kind: AccountKind | None, actions: frozenset[str], market: str) -> str | None:
    """What keeps an account of `kind` from holding `market` units and taking `actions`."""
    if kind is None:
        return "is missing"
    lacking = sorted(action for action in actions if not kind.may(action))
    if lacking:
        return f"lacks the action(s) {', '.join(map(repr, lacking))}"
    if market not in kind.markets:
        return f"may not hold {market} units"
    return None


def _programme_account_fits(
    base: Catalog, kind_code: str, actions: frozenset[str], standard: Standard, role: str
) -> None:
    market = base.unit_types[standard.unit_type].market
    why = _shortfall(base.account_kinds.get(kind_code), actions, market)
    if why is not None:
        raise CatalogError(
            f"account_kinds.toml: account kind '{kind_code}' {why}; standard '{standard.code}' "
            f"(standards.toml) needs one as its {role} (projects.programme)"
        )


def _programme_accounts_fit(
    base: Catalog, standards: dict[str, Standard], rules: dict[str, tuple[Deduction, ...]]
) -> None:
    """Each standard's issuance account, and the buffer pool of one whose buffer withholds, are
    of account kinds that may take what issuance and reversals do with them."""
    for code, standard in standards.items():
        cancels = any(deduction.cancel for deduction in rules.get(code, ()))
        needs = ISSUANCE_ACCOUNT_ACTIONS | ({ISSUANCE_CANCEL_ACTION} if cancels else frozenset())
        _programme_account_fits(base, ISSUANCE_ACCOUNT_KIND, needs, standard, "issuance account")
        if buffer_rate_max(standard.buffer) > 0:
            _programme_account_fits(
                base, BUFFER_POOL_ACCOUNT_KIND, BUFFER_POOL_ACTIONS, standard, "buffer pool"
            )


def _standards_name_known_gwp_sets(catalog: ProjectCatalog) -> None:
    """Each standard's gwp_set is a report of gwp.toml (or not_encoded): an unknown one would
    fail every methane calculation under the standard as if the data were at fault."""
    reports = sorted(catalog.gwp.reports)
    for code, standard in catalog.standards.items():
        if standard.gwp_set not in {*reports, GWP_SET_NOT_ENCODED}:
            raise CatalogError(
                f"standards.toml: standard '{code}': 'gwp_set' names unknown report "
                f"{standard.gwp_set!r} (a code in gwp.toml: {', '.join(reports)}, or "
                f"{GWP_SET_NOT_ENCODED!r})"
            )


def _gwp_covers_the_calculators(catalog: ProjectCatalog) -> None:
    """The default report and every report a standard names hold each gas a calculator reads:
    any methodology may serve a project under any standard."""
    named = {catalog.gwp.default: "the default"} | {
        standard.gwp_set: f"the gwp_set of standard '{code}' in standards.toml"
        for code, standard in sorted(catalog.standards.items())
        if standard.gwp_set != GWP_SET_NOT_ENCODED
    }
    for report, role in named.items():
        values = catalog.gwp.reports[report].values
        for code, methodology in catalog.methodologies.items():
            missing = sorted(CALCULATOR_NEEDS[methodology.calculator].gases - set(values))
            if missing:
                raise CatalogError(
                    f"gwp.toml: report '{report}' ({role}) lacks the GWP of {', '.join(missing)}, "
                    f"which methodology '{code}' (methodologies.toml, calculator "
                    f"'{methodology.calculator}') reads"
                )


def load_project_catalog(directory: Path = DATA_DIR) -> ProjectCatalog:
    """Read the project-cycle files in `directory` (and the base catalog they refer to), every
    reference between them resolving: a conversion's standard and labels, a deduction's account
    kind, the account kinds of a standard's issuance account and buffer pool, the gases and
    defaults a methodology's calculator reads."""
    base = load_catalog(directory)
    standards = load_standards(directory, set(base.unit_types))
    catalog = ProjectCatalog(
        standards=standards,
        labels=load_labels(directory),
        gwp=load_gwp(directory),
        methodologies=load_methodologies(directory),
        deductions=load_deductions(directory, standards, base),
    )
    # References across files the base catalog (digested into the journal) does not hold.
    _conversions_name_known_standards_and_labels(base, catalog.standards, catalog.labels)
    _programme_accounts_fit(base, catalog.standards, catalog.deductions)
    _standards_name_known_gwp_sets(catalog)
    _gwp_covers_the_calculators(catalog)
    return catalog


def load_catalog_with_references(directory: Path = DATA_DIR) -> Catalog:
    """The catalog of `directory`'s files (`load_catalog`), the references it makes into the
    project cycle's files there resolving: the standard and labels a conversion writes on the
    units it makes are in standards.toml and labels.toml, as the project catalog requires. A
    catalog a ledger kept, or one given with `--catalog`, is not held to today's project files."""
    base = load_catalog(directory)
    standards = load_standards(directory, set(base.unit_types))
    _conversions_name_known_standards_and_labels(base, standards, load_labels(directory))
    return base


@functools.cache
def default_project_catalog() -> ProjectCatalog:
    """The project-cycle catalog shipped with Carbonex, loaded once per process."""
    return load_project_catalog(DATA_DIR)
