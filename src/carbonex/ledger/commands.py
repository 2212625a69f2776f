"""Ledger commands: what a client asks the ledger to do.

Every command carries a client-chosen `command_id`; resubmitting it returns the first result.
`to_record` gives the canonical content (hashed for idempotency and written to the journal);
`command_from_record` reads it back, refusing malformed input with `CommandFormatError`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, ClassVar

from carbonex.ledger.model import UnitAttributes
from carbonex.text import iso_date, shortened


class CommandFormatError(ValueError):
    """A command record is missing a field or has one of the wrong type."""


@dataclass(frozen=True, slots=True)
class SerialRange:
    first_serial: int
    last_serial: int


@dataclass(frozen=True, slots=True)
class Selection:
    """Which units a command acts on: a quantity (lowest serials first, optionally filtered) or
    explicit serial ranges, always within one unit type (and registry, default the type's)."""

    unit_type: str
    quantity: int | None = None
    serial_ranges: tuple[SerialRange, ...] = ()
    registry: str | None = None
    vintage_year: int | None = None
    project_id: str | None = None
    label: str | None = None

    def to_record(self) -> dict[str, Any]:
        return {
            "unit_type": self.unit_type,
            "quantity": self.quantity,
            "serial_ranges": [[r.first_serial, r.last_serial] for r in self.serial_ranges],
            "registry": self.registry,
            "vintage_year": self.vintage_year,
            "project_id": self.project_id,
            "label": self.label,
        }

    @property
    def has_filters(self) -> bool:
        return (
            self.vintage_year is not None or self.project_id is not None or self.label is not None
        )


@dataclass(frozen=True, slots=True)
class Command:
    kind: ClassVar[str] = ""
    command_id: str

    def to_record(self) -> dict[str, Any]:
        names, values_of, encoded = _record_plan(type(self))
        record: dict[str, Any] = dict(zip(names, values_of(self), strict=True))
        record["kind"] = self.kind
        for name in encoded:
            record[name] = _encode(record[name])
        return record


_FIELD_NAMES: dict[type, tuple[str, ...]] = {}
_RECORD_PLANS: dict[type, tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]], tuple[str, ...]]]
_RECORD_PLANS = {}
_ENCODED_TYPES = ("Selection", "UnitAttributes", "date")
"""Fields whose declared type names one of these hold records or dates, encoded by `_encode`."""


def _field_names(command_type: type) -> tuple[str, ...]:
    """The command's fields (ClassVars such as `kind` are not fields), computed once per type."""
    names = _FIELD_NAMES.get(command_type)
    if names is None:
        names = _FIELD_NAMES[command_type] = tuple(f.name for f in dataclasses.fields(command_type))
    return names


def _record_plan(
    command_type: type,
) -> tuple[tuple[str, ...], Callable[[Any], tuple[Any, ...]], tuple[str, ...]]:
    """Per command type, computed once: its field names, a getter of all their values at once,
    and the fields whose values are encoded (nested records and dates)."""
    plan = _RECORD_PLANS.get(command_type)
    if plan is None:
        fields = dataclasses.fields(command_type)
        names = tuple(f.name for f in fields)
        getter = attrgetter(*names)
        values_of = getter if len(names) > 1 else lambda command: (getter(command),)
        encoded = tuple(
            f.name for f in fields if any(name in str(f.type) for name in _ENCODED_TYPES)
        )
        plan = _RECORD_PLANS[command_type] = (names, values_of, encoded)
    return plan


def _encode(value: Any) -> Any:
    if isinstance(value, Selection | UnitAttributes):
        return value.to_record()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


@dataclass(frozen=True, slots=True)
class OpenAccount(Command):
    kind: ClassVar[str] = "open_account"
    account_id: str
    account_kind: str
    holder: str
    registry: str = "CARBONEX"


@dataclass(frozen=True, slots=True)
class CloseAccount(Command):
    kind: ClassVar[str] = "close_account"
    account_id: str


@dataclass(frozen=True, slots=True)
class FreezeAccount(Command):
    kind: ClassVar[str] = "freeze_account"
    account_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class UnfreezeAccount(Command):
    kind: ClassVar[str] = "unfreeze_account"
    account_id: str
    reason: str


@dataclass(frozen=True, slots=True)
class Issue(Command):
    kind: ClassVar[str] = "issue"
    account_id: str
    quantity: int
    attributes: UnitAttributes
    registry: str | None = None
    first_serial: int | None = None


@dataclass(frozen=True, slots=True)
class Transfer(Command):
    kind: ClassVar[str] = "transfer"
    source_account_id: str
    target_account_id: str
    selection: Selection


@dataclass(frozen=True, slots=True)
class Retire(Command):
    kind: ClassVar[str] = "retire"
    account_id: str
    selection: Selection
    beneficiary: str
    purpose: str
    claim_period_start: dt.date | None = None
    claim_period_end: dt.date | None = None
    into_account_id: str | None = None


@dataclass(frozen=True, slots=True)
class Cancel(Command):
    kind: ClassVar[str] = "cancel"
    account_id: str
    selection: Selection
    reason: str
    into_account_id: str | None = None


@dataclass(frozen=True, slots=True)
class Surrender(Command):
    kind: ClassVar[str] = "surrender"
    account_id: str
    selection: Selection
    compliance_period: str
    into_account_id: str | None = None


@dataclass(frozen=True, slots=True)
class Expire(Command):
    kind: ClassVar[str] = "expire"
    account_id: str
    selection: Selection


@dataclass(frozen=True, slots=True)
class PlaceHold(Command):
    kind: ClassVar[str] = "hold"
    account_id: str
    selection: Selection
    purpose: str
    hold_id: str = ""

    @property
    def effective_hold_id(self) -> str:
        return self.hold_id or self.command_id


@dataclass(frozen=True, slots=True)
class ReleaseHold(Command):
    kind: ClassVar[str] = "release"
    hold_id: str


CONSUME_ACTIONS = ("transfer", "retire", "cancel", "surrender")


@dataclass(frozen=True, slots=True)
class ConsumeHold(Command):
    """Second phase of a hold: the held units are transferred, retired, cancelled or surrendered.
    `details` carries the action's fields (beneficiary, purpose, reason, compliance_period)."""

    kind: ClassVar[str] = "consume"
    hold_id: str
    action: str
    target_account_id: str | None = None
    details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Convert(Command):
    kind: ClassVar[str] = "convert"
    account_id: str
    selection: Selection
    rule_id: str


COMMAND_TYPES: dict[str, type[Command]] = {
    cls.kind: cls
    for cls in (
        OpenAccount,
        CloseAccount,
        FreezeAccount,
        UnfreezeAccount,
        Issue,
        Transfer,
        Retire,
        Cancel,
        Surrender,
        Expire,
        PlaceHold,
        ReleaseHold,
        ConsumeHold,
        Convert,
    )
}


def _require(record: dict[str, Any], name: str, kinds: type | tuple[type, ...]) -> Any:
    value = record.get(name)
    if not isinstance(value, kinds) or isinstance(value, bool):
        raise CommandFormatError(f"field '{name}' is missing or has the wrong type")
    return value


def _optional(record: dict[str, Any], name: str, kinds: type | tuple[type, ...]) -> Any:
    value = record.get(name)
    if value is None:
        return None
    if not isinstance(value, kinds) or isinstance(value, bool):
        raise CommandFormatError(f"field '{name}' has the wrong type")
    return value


def _date(record: dict[str, Any], name: str, required: bool) -> dt.date | None:
    value = _require(record, name, str) if required else _optional(record, name, str)
    if value is None:
        return None
    try:
        return iso_date(value)  # exactly YYYY-MM-DD: not the ISO week or basic forms
    except ValueError as error:
        shown = shortened(value)
        raise CommandFormatError(
            f"field '{name}' is not an ISO date (YYYY-MM-DD): {shown!r}"
        ) from error


def selection_from_record(record: Any) -> Selection:
    if not isinstance(record, dict):
        raise CommandFormatError("field 'selection' must be an object")
    ranges_raw = record.get("serial_ranges") or []
    if not isinstance(ranges_raw, list):
        raise CommandFormatError("field 'serial_ranges' must be a list of [first, last] pairs")
    ranges = []
    for pair in ranges_raw:
        if (
            not isinstance(pair, list | tuple)
            or len(pair) != 2
            or not all(isinstance(x, int) and not isinstance(x, bool) for x in pair)
        ):
            raise CommandFormatError("each serial range must be a [first, last] pair of integers")
        ranges.append(SerialRange(pair[0], pair[1]))
    return Selection(
        unit_type=_require(record, "unit_type", str),
        quantity=_optional(record, "quantity", int),
        serial_ranges=tuple(ranges),
        registry=_optional(record, "registry", str),
        vintage_year=_optional(record, "vintage_year", int),
        project_id=_optional(record, "project_id", str),
        label=_optional(record, "label", str),
    )


def attributes_from_record(record: Any) -> UnitAttributes:
    if not isinstance(record, dict):
        raise CommandFormatError("field 'attributes' must be an object")
    labels = record.get("labels", [])
    if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
        raise CommandFormatError("field 'labels' must be a list of strings")
    return UnitAttributes(
        unit_type=_require(record, "unit_type", str),
        standard=_require(record, "standard", str),
        project_id=_require(record, "project_id", str),
        vintage_start=_date(record, "vintage_start", True),  # type: ignore[arg-type]
        vintage_end=_date(record, "vintage_end", True),  # type: ignore[arg-type]
        host_country=_require(record, "host_country", str),
        methodology=_optional(record, "methodology", str) or "",
        category=_optional(record, "category", str) or "avoidance",
        labels=tuple(labels),
        authorization=_optional(record, "authorization", str) or "",
        valid_until=_date(record, "valid_until", False),
    )


def holds_unencodable_text(value: Any) -> bool:
    """Whether any text in `value` (nested dicts, keys included, lists and tuples) cannot be
    encoded as UTF-8: a lone surrogate, which Python's JSON reader accepts from a `\\ud800`
    escape but neither the journal nor a database can hold. Walked without recursion: JSON may
    nest deeper than Python's recursion limit."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            try:
                item.encode()
            except UnicodeEncodeError:
                return True
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple):
            pending.extend(item)
    return False


def command_from_record(record: Any) -> Command:
    """Build a command from its record (as `to_record` writes it, or as a client sends it)."""
    if not isinstance(record, dict):
        raise CommandFormatError("a command must be a JSON object")
    for name, value in record.items():
        if holds_unencodable_text(name) or holds_unencodable_text(value):
            raise CommandFormatError(f"field {name!r} holds text that is not valid Unicode")
    kind = record.get("kind")
    command_type = COMMAND_TYPES.get(kind) if isinstance(kind, str) else None
    if command_type is None:
        raise CommandFormatError(f"unknown command kind {kind!r}; known: {sorted(COMMAND_TYPES)}")
    unknown = sorted(set(record) - {"kind", *_field_names(command_type)})
    if unknown:
        raise CommandFormatError(f"{kind}: unknown field(s) {unknown}")
    missing = [
        spec.name
        for spec in dataclasses.fields(command_type)
        if spec.name not in record
        and spec.default is dataclasses.MISSING
        and spec.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise CommandFormatError(f"{kind}: missing field(s) {missing}")
    values: dict[str, Any] = {}
    for spec in dataclasses.fields(command_type):
        name = spec.name
        if name not in record:
            continue
        raw = record[name]
        if name == "selection":
            values[name] = selection_from_record(raw)
        elif name == "attributes":
            values[name] = attributes_from_record(raw)
        elif name in ("claim_period_start", "claim_period_end"):
            values[name] = _date(record, name, False)
        elif name == "details":
            if not isinstance(raw, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in raw.items()
            ):
                raise CommandFormatError("field 'details' must map strings to strings")
            values[name] = dict(raw)
        else:
            values[name] = _scalar(name, raw, str(spec.type))
    try:
        return command_type(**values)
    except TypeError as error:
        raise CommandFormatError(f"{kind}: {error}") from error


def _scalar(name: str, raw: Any, type_text: str) -> Any:
    if raw is None:
        if "None" in type_text:
            return None
        raise CommandFormatError(f"field '{name}' must not be null")
    expected: type = int if type_text.startswith("int") else str
    if not isinstance(raw, expected) or isinstance(raw, bool):
        raise CommandFormatError(f"field '{name}' must be of type {expected.__name__}")
    return raw
