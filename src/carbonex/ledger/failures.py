"""Stable check codes, in precedence order, and the failure values refused commands carry."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from carbonex.text import shortened


class Code(StrEnum):
    """Declaration order is precedence order: a refusal lists its failures in this order."""

    E_BATCH_TOO_LARGE = "E_BATCH_TOO_LARGE"
    E_BATCH_EMPTY = "E_BATCH_EMPTY"
    E_COMMAND_ID_REUSED = "E_COMMAND_ID_REUSED"
    E_INVALID_COMMAND = "E_INVALID_COMMAND"
    E_TEXT_CHARACTER_NOT_ALLOWED = "E_TEXT_CHARACTER_NOT_ALLOWED"
    E_UNKNOWN_UNIT_TYPE = "E_UNKNOWN_UNIT_TYPE"
    E_UNKNOWN_REGISTRY = "E_UNKNOWN_REGISTRY"
    E_QUANTITY_NOT_POSITIVE_INTEGER = "E_QUANTITY_NOT_POSITIVE_INTEGER"
    E_QUANTITY_TOO_LARGE = "E_QUANTITY_TOO_LARGE"
    E_INVALID_SERIAL_RANGE = "E_INVALID_SERIAL_RANGE"
    E_INVALID_ATTRIBUTES = "E_INVALID_ATTRIBUTES"
    E_INVALID_ACCOUNT_ID = "E_INVALID_ACCOUNT_ID"
    E_UNKNOWN_ACCOUNT_KIND = "E_UNKNOWN_ACCOUNT_KIND"
    E_ACCOUNT_EXISTS = "E_ACCOUNT_EXISTS"
    E_UNKNOWN_ACCOUNT = "E_UNKNOWN_ACCOUNT"
    E_ACCOUNT_CLOSED = "E_ACCOUNT_CLOSED"
    E_ACCOUNT_FROZEN = "E_ACCOUNT_FROZEN"
    E_ACCOUNT_NOT_FROZEN = "E_ACCOUNT_NOT_FROZEN"
    E_SAME_SOURCE_AND_TARGET = "E_SAME_SOURCE_AND_TARGET"
    E_ACCOUNT_KIND_NOT_PERMITTED = "E_ACCOUNT_KIND_NOT_PERMITTED"
    E_ACCOUNT_KIND_CANNOT_HOLD_UNIT_TYPE = "E_ACCOUNT_KIND_CANNOT_HOLD_UNIT_TYPE"
    E_UNKNOWN_CONVERSION_RULE = "E_UNKNOWN_CONVERSION_RULE"
    E_UNKNOWN_HOLD = "E_UNKNOWN_HOLD"
    E_HOLD_EXISTS = "E_HOLD_EXISTS"
    E_HOLD_NOT_PENDING = "E_HOLD_NOT_PENDING"
    E_SERIAL_RANGE_OVERLAPS = "E_SERIAL_RANGE_OVERLAPS"
    E_SERIAL_SPACE_FULL = "E_SERIAL_SPACE_FULL"
    E_RETIRED_UNITS_CANNOT_MOVE = "E_RETIRED_UNITS_CANNOT_MOVE"
    E_CANCELLED_UNITS_CANNOT_MOVE = "E_CANCELLED_UNITS_CANNOT_MOVE"
    E_SURRENDERED_UNITS_CANNOT_MOVE = "E_SURRENDERED_UNITS_CANNOT_MOVE"
    E_EXPIRED_UNITS_CANNOT_MOVE = "E_EXPIRED_UNITS_CANNOT_MOVE"
    E_CONVERTED_UNITS_CANNOT_MOVE = "E_CONVERTED_UNITS_CANNOT_MOVE"
    E_UNITS_NOT_HELD = "E_UNITS_NOT_HELD"
    E_UNITS_ON_HOLD = "E_UNITS_ON_HOLD"
    E_VALIDITY_PERIOD_PASSED = "E_VALIDITY_PERIOD_PASSED"
    E_VALIDITY_PERIOD_NOT_PASSED = "E_VALIDITY_PERIOD_NOT_PASSED"
    E_CONVERSION_NOT_ALLOWED = "E_CONVERSION_NOT_ALLOWED"
    E_ACCOUNT_NOT_EMPTY = "E_ACCOUNT_NOT_EMPTY"
    E_BATCH_COMMAND_REFUSED = "E_BATCH_COMMAND_REFUSED"


PRECEDENCE = {code: position for position, code in enumerate(Code)}

FINAL_STATE_CODES = {
    "retired": Code.E_RETIRED_UNITS_CANNOT_MOVE,
    "cancelled": Code.E_CANCELLED_UNITS_CANNOT_MOVE,
    "surrendered": Code.E_SURRENDERED_UNITS_CANNOT_MOVE,
    "expired": Code.E_EXPIRED_UNITS_CANNOT_MOVE,
    "converted": Code.E_CONVERTED_UNITS_CANNOT_MOVE,
}


@dataclass(frozen=True, slots=True)
class Failure:
    code: Code
    message: str
    ids: tuple[str, ...] = ()

    def to_record(self) -> dict[str, object]:
        return {"code": self.code.value, "message": self.message, "ids": list(self.ids)}

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Failure:
        return cls(Code(record["code"]), record["message"], tuple(record["ids"]))


def unknown(code: Code, what: str, value: object) -> Failure:
    """A value the ledger does not know (an account, a hold, a unit type...), as the caller gave
    it: any length and type, so quoted shortened (no known value is that long)."""
    shown = shortened(str(value))
    return Failure(code, f"unknown {what} '{shown}'", (shown,))


def in_precedence_order(failures: list[Failure]) -> tuple[Failure, ...]:
    return tuple(sorted(failures, key=lambda failure: PRECEDENCE[failure.code]))
