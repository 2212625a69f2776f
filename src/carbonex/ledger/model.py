"""The ledger's values: accounts, unit attributes, serial blocks, issuances and holds.

Plain frozen dataclasses, standard library only. A block is a run of consecutive serials in one
serial space that share every attribute, one account and one state; its quantity is
`last_serial - first_serial + 1`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

import orjson


class BlockState(StrEnum):
    ACTIVE = "active"
    RETIRED = "retired"
    CANCELLED = "cancelled"
    SURRENDERED = "surrendered"
    EXPIRED = "expired"
    CONVERTED = "converted"


FINAL_STATES = frozenset(state.value for state in BlockState if state is not BlockState.ACTIVE)


class AccountStatus(StrEnum):
    OPEN = "open"
    FROZEN = "frozen"
    CLOSED = "closed"


class HoldStatus(StrEnum):
    PENDING = "pending"
    RELEASED = "released"
    CONSUMED = "consumed"


CATEGORIES = frozenset({"avoidance", "removal"})


def serial_space_of(registry: str, unit_type: str) -> str:
    """Serials are unique within a registry and unit type (DOMAIN.md section 2)."""
    return f"{registry}/{unit_type}"


@dataclass(frozen=True, slots=True)
class Account:
    account_id: str
    registry: str
    kind: str
    holder: str
    status: str = AccountStatus.OPEN.value


def _day_text(day: Any) -> Any:
    """A date as YYYY-MM-DD; any other value a Python caller gave as it is, for the issue's
    checks to refuse (E_INVALID_ATTRIBUTES) rather than the record to raise."""
    return day.isoformat() if isinstance(day, dt.date) else day


@dataclass(frozen=True, slots=True)
class UnitAttributes:
    """Everything a block's serials share apart from their numbers and holder."""

    unit_type: str
    standard: str
    project_id: str
    vintage_start: dt.date
    vintage_end: dt.date
    host_country: str
    methodology: str = ""
    category: str = "avoidance"
    labels: tuple[str, ...] = ()
    authorization: str = ""
    valid_until: dt.date | None = None

    def to_record(self) -> dict[str, Any]:
        return {
            "unit_type": self.unit_type,
            "standard": self.standard,
            "project_id": self.project_id,
            "vintage_start": _day_text(self.vintage_start),
            "vintage_end": _day_text(self.vintage_end),
            "host_country": self.host_country,
            "methodology": self.methodology,
            "category": self.category,
            "labels": list(self.labels) if isinstance(self.labels, tuple | list) else self.labels,
            "authorization": self.authorization,
            "valid_until": _day_text(self.valid_until) if self.valid_until else None,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> UnitAttributes:
        valid_until = record.get("valid_until")
        return cls(
            unit_type=record["unit_type"],
            standard=record["standard"],
            project_id=record["project_id"],
            vintage_start=dt.date.fromisoformat(record["vintage_start"]),
            vintage_end=dt.date.fromisoformat(record["vintage_end"]),
            host_country=record["host_country"],
            methodology=record.get("methodology", ""),
            category=record.get("category", "avoidance"),
            labels=tuple(record.get("labels", ())),
            authorization=record.get("authorization", ""),
            valid_until=dt.date.fromisoformat(valid_until) if valid_until else None,
        )

    @property
    def attributes_id(self) -> str:
        """Content address: equal attributes share one id, so blocks can point at it."""
        encoded = orjson.dumps(self.to_record(), option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(encoded).hexdigest()[:24]

    def covers_year(self, year: int) -> bool:
        return self.vintage_start.year <= year <= self.vintage_end.year


class Block(NamedTuple):
    """A named tuple, not a frozen dataclass: the write path builds several per command, and a
    tuple is built about four times faster."""

    block_id: int
    issuance_id: int
    serial_space: str
    first_serial: int
    last_serial: int
    account_id: str
    state: str
    attributes_id: str
    hold_id: str | None = None

    @property
    def quantity(self) -> int:
        return self.last_serial - self.first_serial + 1

    @property
    def sort_key(self) -> tuple[str, int]:
        return (self.serial_space, self.first_serial)

    def with_range(self, first_serial: int, last_serial: int, block_id: int) -> Block:
        return Block(
            block_id,
            self.issuance_id,
            self.serial_space,
            first_serial,
            last_serial,
            self.account_id,
            self.state,
            self.attributes_id,
            self.hold_id,
        )

    def placed(self, account_id: str, state: str, hold_id: str | None) -> Block:
        return Block(
            self.block_id,
            self.issuance_id,
            self.serial_space,
            self.first_serial,
            self.last_serial,
            account_id,
            state,
            self.attributes_id,
            hold_id,
        )


@dataclass(frozen=True, slots=True)
class Issuance:
    issuance_id: int
    serial_space: str
    first_serial: int
    last_serial: int
    attributes_id: str
    account_id: str
    lineage: str | None = None

    @property
    def quantity(self) -> int:
        return self.last_serial - self.first_serial + 1


@dataclass(frozen=True, slots=True)
class Hold:
    hold_id: str
    account_id: str
    quantity: int
    status: str
    purpose: str
