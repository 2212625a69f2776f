"""Carbon inclusion as pure rules: checking a recorded action, and planning an aggregation.

Points. An action of `quantity` units of activity avoids `quantity x factor_kg` kg CO2e (the
factor from `inclusion_factors.toml`) and earns that many kg divided by `kg_per_point` points
(1 point = 1 kg). Points are counted in whole milli-points, rounded down: an action never earns
more than it avoided.

Aggregation. The points available to an aggregation are, per person, the verified actions not
yet aggregated plus the points carried over from earlier aggregations. It issues
`units = floor(total / points_per_unit)` whole units and uses exactly
`units x points_per_unit` points. Each person contributes in proportion to what they have:
`floor(used x available / total)` milli-points, and the milli-points this leaves over go one each
to the people with the largest remainders of that division (ties: lowest person id first). So the
contributions add up to the used points exactly, nobody contributes more than they have, and the
result does not depend on the order people are given in. What a person does not contribute stays
theirs as carried points and joins the next aggregation.

Carried points and vintages. Carried points were earned before the end of the period of the
aggregation that left them over. They join an aggregation only when no aggregation before it had
a period ending after its own (`carried_points_join`): its units, whose vintage is its period,
then hold points earned in that period or before it, never after. An earlier period aggregated
late (or a part of a period aggregated after the whole) takes only its own actions' points, and
what it leaves over is added to what its people already carried.

`record_action` and `aggregate` never raise for an expected refusal: they return the
failures, in the precedence order of `Code`, or the result.
"""

from __future__ import annotations

import datetime as dt
import enum
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from carbonex.catalog.inclusion import DECIMALS_MAX, InclusionCatalog, decimal_places
from carbonex.dates import is_day, latest_day
from carbonex.text import refused_character, shortened

MILLI_PER_POINT = 1000
MICRO_PER_ACTIVITY_UNIT = 10**DECIMALS_MAX
"""Activity is stored in millionths of its unit, so a quantity may have six decimal places."""
ID_LENGTH_MAX = 100
"""Action, aggregation and person ids (an aggregation's ledger command id adds a prefix). A
refused value longer than this is carried in failures' `ids` and a refusal's request id cut to
this length, marked with an ellipsis (no id holds one): any value that could be an id is carried
whole, and none makes a refusal as long as itself. Messages quote values shorter still
(text.QUOTED_TEXT_LENGTH_MAX)."""
ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
TEXT_LENGTH_MAX = 200
MESSAGE_NUMBER_LENGTH_MAX = 24
"""Digits of a number quoted plain in a message, zeros up to the point included: any quantity a
daily cap allows (at most 1,000,000 with six decimal places, 13 digits) is quoted whole. Longer,
it is quoted in scientific notation to MESSAGE_SIGNIFICANT_DIGITS digits (1E+999999 would be a
million digits written out)."""
MESSAGE_SIGNIFICANT_DIGITS = 12


class Code(enum.StrEnum):
    """Failure codes, in precedence order."""

    E_ACTION_ID_REUSED = "E_ACTION_ID_REUSED"
    E_AGGREGATION_ID_REUSED = "E_AGGREGATION_ID_REUSED"
    E_TOO_MANY_ACTIONS = "E_TOO_MANY_ACTIONS"
    E_TOO_MANY_PEOPLE = "E_TOO_MANY_PEOPLE"
    E_ACTION_ID_INVALID = "E_ACTION_ID_INVALID"
    E_AGGREGATION_ID_INVALID = "E_AGGREGATION_ID_INVALID"
    E_PERSON_ID_INVALID = "E_PERSON_ID_INVALID"
    E_VERIFIER_INVALID = "E_VERIFIER_INVALID"
    E_TEXT_CHARACTER_NOT_ALLOWED = "E_TEXT_CHARACTER_NOT_ALLOWED"
    E_VERIFIER_NOT_INDEPENDENT = "E_VERIFIER_NOT_INDEPENDENT"
    E_UNKNOWN_ACTION_TYPE = "E_UNKNOWN_ACTION_TYPE"
    E_QUANTITY_INVALID = "E_QUANTITY_INVALID"
    E_QUANTITY_NOT_POSITIVE = "E_QUANTITY_NOT_POSITIVE"
    E_QUANTITY_TOO_PRECISE = "E_QUANTITY_TOO_PRECISE"
    E_DAY_INVALID = "E_DAY_INVALID"
    E_DAY_IN_FUTURE = "E_DAY_IN_FUTURE"
    E_DAY_TOO_OLD = "E_DAY_TOO_OLD"
    E_PERIOD_INVALID = "E_PERIOD_INVALID"
    E_OVER_DAILY_CAP = "E_OVER_DAILY_CAP"
    E_UNKNOWN_ACTION = "E_UNKNOWN_ACTION"
    E_ACTION_REJECTED = "E_ACTION_REJECTED"
    E_ACTION_ALREADY_AGGREGATED = "E_ACTION_ALREADY_AGGREGATED"
    E_NOTHING_TO_ISSUE = "E_NOTHING_TO_ISSUE"
    E_LEDGER_COMMAND_ID_TAKEN = "E_LEDGER_COMMAND_ID_TAKEN"
    E_LEDGER_REFUSED = "E_LEDGER_REFUSED"


PRECEDENCE = {code: index for index, code in enumerate(Code)}


class Status(enum.StrEnum):
    RECORDED = "recorded"
    VERIFIED = "verified"
    REJECTED = "rejected"
    AGGREGATED = "aggregated"


@dataclass(frozen=True, slots=True)
class Failure:
    code: Code
    message: str
    ids: tuple[str, ...] = ()

    def to_record(self) -> dict[str, object]:
        return {"code": self.code.value, "message": self.message, "ids": list(self.ids)}


@dataclass(frozen=True, slots=True)
class Action:
    action_id: str
    person_id: str
    action_type: str
    quantity: Decimal
    """Activity, in the action type's unit (passenger-km, kWh...)."""
    day: dt.date


@dataclass(frozen=True, slots=True)
class Earned:
    points_milli: int
    quantity_micro: int


@dataclass(frozen=True, slots=True)
class Contribution:
    person_id: str
    available_milli: int
    used_milli: int

    @property
    def carried_milli(self) -> int:
        return self.available_milli - self.used_milli


@dataclass(frozen=True, slots=True)
class Plan:
    units: int
    points_per_unit: int
    contributions: tuple[Contribution, ...]
    """One per person who had points available, in person-id order."""

    @property
    def used_milli(self) -> int:
        return self.units * self.points_per_unit * MILLI_PER_POINT


def in_precedence_order(failures: Iterable[Failure]) -> tuple[Failure, ...]:
    return tuple(sorted(failures, key=lambda failure: PRECEDENCE[failure.code]))


def carried_id(value: object) -> str:
    """A refused value as failures' `ids` and a refusal's request id hold it (ID_LENGTH_MAX)."""
    return shortened(str(value), ID_LENGTH_MAX)


def check_id(value: str, code: Code, name: str) -> list[Failure]:
    if isinstance(value, str) and len(value) <= ID_LENGTH_MAX and ID_PATTERN.fullmatch(value):
        return []
    message = (
        f"{name} {shortened(str(value))!r} must be 1-{ID_LENGTH_MAX} letters, digits or . _ : - , "
        "starting with a letter or digit"
    )
    return [Failure(code, message, (carried_id(value),))]


def check_text(value: str, code: Code, name: str) -> list[Failure]:
    """A non-empty text of at most TEXT_LENGTH_MAX characters, holding none that free text may
    not hold (`carbonex.text.REFUSED_IN_TEXT`)."""
    if not (isinstance(value, str) and value.strip() and len(value) <= TEXT_LENGTH_MAX):
        message = f"{name} must be a non-empty text of at most {TEXT_LENGTH_MAX} characters"
        return [Failure(code, message)]
    refused = refused_character(value)
    if refused is None:
        return []
    failure_ids = (name, refused.code_point_text)
    return [Failure(Code.E_TEXT_CHARACTER_NOT_ALLOWED, refused.describe(name), failure_ids)]


def to_micro(quantity: Decimal) -> int:
    """Activity in millionths of its unit; exact for a quantity of at most six decimal places."""
    micro = Fraction(quantity) * MICRO_PER_ACTIVITY_UNIT
    if micro.denominator != 1:
        raise ValueError(f"{quantity} has more than {DECIMALS_MAX} decimal places")
    return int(micro)


def quantity_of(micro: int) -> Decimal:
    """Activity from millionths of its unit, without trailing zeros (12.5, not 12.500000)."""
    return Decimal(decimal_text(Decimal(micro).scaleb(-DECIMALS_MAX)))


def decimal_text(value: Decimal) -> str:
    """Plain notation without trailing zeros: 12.500 -> "12.5", 1E+2 -> "100"."""
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def number_text(value: object) -> str:
    """A number for a message: plain when short ("12.5"), else in scientific notation
    ("1E+999999999", "1.23456789012E-30"); anything else (NaN, a value of another type) as its
    text, cut to MESSAGE_NUMBER_LENGTH_MAX characters."""
    if isinstance(value, Decimal) and value.is_finite():
        sign, digits, exponent = value.as_tuple()
        significant = "".join(map(str, digits)).rstrip("0")
        if not significant:
            return "0"
        last_place = int(exponent) + len(digits) - len(significant)
        if len(significant) + abs(last_place) <= MESSAGE_NUMBER_LENGTH_MAX:
            return decimal_text(Decimal(f"{'-' * sign}{significant}E{last_place}"))
        mantissa, _, power = format(value, f".{MESSAGE_SIGNIFICANT_DIGITS - 1}E").partition("E")
        return f"{mantissa.rstrip('0').rstrip('.')}E{power}"
    return shortened(str(value), MESSAGE_NUMBER_LENGTH_MAX)


def points_text(milli: int) -> str:
    """Milli-points as points: 12345 -> "12.345"."""
    return decimal_text(Decimal(milli).scaleb(-3))


def points_milli(catalog: InclusionCatalog, action_type: str, quantity: Decimal) -> int:
    """Milli-points earned by `quantity` of an action type, rounded down (exact arithmetic)."""
    factor_kg = catalog.action_types[action_type].factor_kg
    avoided_kg = Fraction(quantity) * Fraction(factor_kg)
    return math.floor(avoided_kg * MILLI_PER_POINT / Fraction(catalog.kg_per_point))


# -- recording -------------------------------------------------------------------------------------


def _check_quantity(quantity: Decimal) -> list[Failure]:
    if not isinstance(quantity, Decimal):  # a Python caller's int, float or text
        message = f"quantity must be a decimal.Decimal, got {type(quantity).__name__}"
        return [Failure(Code.E_QUANTITY_INVALID, message)]
    if not quantity.is_finite() or quantity <= 0:
        message = f"quantity must be above zero, got {number_text(quantity)}"
        return [Failure(Code.E_QUANTITY_NOT_POSITIVE, message)]
    if decimal_places(quantity) > DECIMALS_MAX:
        message = f"quantity {number_text(quantity)} has more than {DECIMALS_MAX} decimal places"
        return [Failure(Code.E_QUANTITY_TOO_PRECISE, message)]
    return []


def _check_day(catalog: InclusionCatalog, day: dt.date, now: dt.datetime) -> list[Failure]:
    if not is_day(day):
        # A time is no day (a datetime compares with no date); a text or a number is neither.
        message = f"the day must be a date (datetime.date), got {type(day).__name__}"
        return [Failure(Code.E_DAY_INVALID, message)]
    if day > latest_day(now):
        return [Failure(Code.E_DAY_IN_FUTURE, f"day {day} has not begun yet anywhere")]
    window_days = catalog.recording_window_days
    if (now.astimezone(dt.UTC).date() - day).days > window_days:
        message = f"day {day} is more than {window_days} days ago (the recording window)"
        return [Failure(Code.E_DAY_TOO_OLD, message)]
    return []


def check_shape(catalog: InclusionCatalog, action: Action, now: dt.datetime) -> list[Failure]:
    """Everything about an action that does not depend on what was recorded before."""
    failures = check_id(action.action_id, Code.E_ACTION_ID_INVALID, "action id")
    failures += check_id(action.person_id, Code.E_PERSON_ID_INVALID, "person id")
    if action.action_type not in catalog.action_types:
        known = ", ".join(sorted(catalog.action_types))
        message = f"unknown action type {shortened(str(action.action_type))!r} (known: {known})"
        ids = (carried_id(action.action_type),)
        failures.append(Failure(Code.E_UNKNOWN_ACTION_TYPE, message, ids))
    failures += _check_quantity(action.quantity)
    return failures + _check_day(catalog, action.day, now)


def record_action(
    catalog: InclusionCatalog,
    action: Action,
    now: dt.datetime,
    recorded_same_day: Decimal = Decimal(0),
) -> tuple[Failure, ...] | Earned:
    """Check an action to record and compute what it earns. `recorded_same_day` is the activity
    this person already recorded of this type on the action's day (rejected actions excluded):
    with the action it must stay within the type's daily cap, or the action is refused whole."""
    failures = check_shape(catalog, action, now)
    if failures:
        return in_precedence_order(failures)
    action_type = catalog.action_types[action.action_type]
    cap = action_type.daily_cap
    # The quantity alone is compared first, without arithmetic: a sum with a quantity such as
    # 1E+999999999 would overflow the decimal context. The sum is then exact (no rounding).
    over_cap = action.quantity > cap
    if over_cap or Fraction(recorded_same_day) + Fraction(action.quantity) > Fraction(cap):
        message = (
            f"{number_text(recorded_same_day)} {action_type.activity_unit} already recorded on "
            f"{action.day}; {number_text(action.quantity)} more would pass the daily cap of "
            f"{number_text(cap)}"
        )
        return (Failure(Code.E_OVER_DAILY_CAP, message, (action.action_type,)),)
    return Earned(
        points_milli(catalog, action.action_type, action.quantity),
        to_micro(action.quantity),
    )


# -- aggregating -----------------------------------------------------------------------------------


def points_by_person(
    actions: Iterable[tuple[str, int]], carried_milli: Mapping[str, int] | None = None
) -> dict[str, int]:
    """Milli-points available per person: (person id, milli-points) of each verified action not
    yet aggregated, plus what each person carried over from earlier aggregations."""
    available = dict(carried_milli or {})
    for person_id, milli in actions:
        available[person_id] = available.get(person_id, 0) + milli
    return available


def _shares(available: Mapping[str, int], used_milli: int) -> dict[str, int]:
    """Largest remainder: floor of each proportional share, then one more milli-point each to the
    largest remainders (ties: lowest person id) until the shares add up to `used_milli`."""
    total = sum(available.values())
    shares: dict[str, int] = {}
    remainders: list[tuple[int, str]] = []
    for person_id, milli in available.items():
        share, remainder = divmod(used_milli * milli, total)
        shares[person_id] = share
        remainders.append((-remainder, person_id))
    left_over = used_milli - sum(shares.values())
    for _, person_id in sorted(remainders)[:left_over]:
        shares[person_id] += 1
    return shares


def carried_points_join(period_end: dt.date, latest_period_end: dt.date | None) -> bool:
    """Whether carried points join an aggregation of a period ending on `period_end`, when the
    latest period end of the aggregations before it is `latest_period_end` (None: none before).
    Carried points were earned before that end: joining an aggregation that ends earlier would
    count them in a vintage that ended before they were earned."""
    return latest_period_end is None or latest_period_end <= period_end


def aggregate(
    available_milli: Mapping[str, int], points_per_unit: int
) -> tuple[Failure, ...] | Plan:
    """Whole units from the available points, and who contributes how many (see the module)."""
    if points_per_unit <= 0:
        raise ValueError(f"points_per_unit must be positive, got {points_per_unit}")
    if any(milli < 0 for milli in available_milli.values()):
        raise ValueError("available points must not be negative")
    total = sum(available_milli.values())
    unit_milli = points_per_unit * MILLI_PER_POINT
    units = total // unit_milli
    if units == 0:
        message = (
            f"{points_text(total)} points are available; one unit takes {points_per_unit:,} points"
        )
        return (Failure(Code.E_NOTHING_TO_ISSUE, message),)
    shares = _shares(available_milli, units * unit_milli)
    contributions = tuple(
        Contribution(person_id, available_milli[person_id], shares[person_id])
        for person_id in sorted(available_milli)
    )
    return Plan(units, points_per_unit, contributions)
