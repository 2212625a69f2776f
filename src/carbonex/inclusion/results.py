"""What the carbon-inclusion service returns: values, each with the JSON form the CLI prints."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from carbonex.inclusion.rules import Failure, decimal_text, points_text


@dataclass(frozen=True, slots=True)
class Refusal:
    """Nothing changed; `failures` are in the precedence order of `rules.Code`."""

    request_id: str
    failures: tuple[Failure, ...]
    accepted: ClassVar[bool] = False

    @property
    def codes(self) -> list[str]:
        return [failure.code.value for failure in self.failures]

    def to_record(self) -> dict[str, Any]:
        return {
            "accepted": False,
            "request_id": self.request_id,
            "failures": [failure.to_record() for failure in self.failures],
        }


@dataclass(frozen=True, slots=True)
class Recorded:
    action_id: str
    person_id: str
    action_type: str
    quantity: Decimal
    day: dt.date
    points_milli: int
    status: str
    duplicate: bool = False
    """True when the action id had been recorded before with the same content."""
    accepted: ClassVar[bool] = True

    def to_record(self) -> dict[str, Any]:
        return {
            "accepted": True,
            "action_id": self.action_id,
            "person_id": self.person_id,
            "action_type": self.action_type,
            "quantity": decimal_text(self.quantity),
            "day": self.day.isoformat(),
            "points": points_text(self.points_milli),
            "points_milli": self.points_milli,
            "status": self.status,
            "duplicate": self.duplicate,
        }


@dataclass(frozen=True, slots=True)
class Reviewed:
    """Actions a verifier marked `status`; `unchanged` already had it (or, when verifying,
    were aggregated already)."""

    status: str
    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    accepted: ClassVar[bool] = True

    def to_record(self) -> dict[str, Any]:
        return {
            "accepted": True,
            "status": self.status,
            "changed": list(self.changed),
            "unchanged": list(self.unchanged),
        }


@dataclass(frozen=True, slots=True)
class Aggregated:
    aggregation_id: str
    aggregator_account_id: str
    period_start: dt.date
    period_end: dt.date
    """Exclusive: the period is [period_start, period_end)."""
    unit_type: str
    project_id: str
    host_country: str
    units: int
    points_per_unit: int
    points_used_milli: int
    people: int
    actions: int
    command_id: str
    journal_seq: int
    entry_hash: str
    serial_space: str
    first_serial: int
    last_serial: int
    aggregated_at: str
    duplicate: bool = False
    """True when the aggregation id had been used before for the same request."""
    accepted: ClassVar[bool] = True

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"accepted": True}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            record[field.name] = value.isoformat() if isinstance(value, dt.date) else value
        record["points_used"] = points_text(self.points_used_milli)
        return record


@dataclass(frozen=True, slots=True)
class PointsBalance:
    """A person's points: `available` = verified and not yet converted (their verified actions
    not yet aggregated, plus what they carried over from earlier aggregations)."""

    person_id: str
    verified_milli: int
    carried_milli: int
    pending_milli: int
    """Recorded, awaiting verification (not yet available)."""
    converted_milli: int
    """Used by aggregations so far, i.e. turned into issued units."""

    @property
    def available_milli(self) -> int:
        return self.verified_milli + self.carried_milli

    def to_record(self) -> dict[str, Any]:
        return {
            "person_id": self.person_id,
            "available": points_text(self.available_milli),
            "available_milli": self.available_milli,
            "verified_milli": self.verified_milli,
            "carried_milli": self.carried_milli,
            "pending": points_text(self.pending_milli),
            "pending_milli": self.pending_milli,
            "converted": points_text(self.converted_milli),
            "converted_milli": self.converted_milli,
        }


Result = Recorded | Reviewed | Aggregated | Refusal
