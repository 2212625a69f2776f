"""Outcomes are values: a command is accepted (with its journal entry) or refused (with codes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from carbonex.ledger.effects import Effect
from carbonex.ledger.failures import Failure


class Accepted(NamedTuple):
    command_id: str
    seq: int
    entry_hash: str
    effects: Sequence[Effect]
    duplicate: bool = False

    @property
    def accepted(self) -> bool:
        return True

    def to_record(self) -> dict[str, Any]:
        return {
            "accepted": True,
            "command_id": self.command_id,
            "seq": self.seq,
            "entry_hash": self.entry_hash,
            "duplicate": self.duplicate,
            "effects": [list(effect) for effect in self.effects],
        }


@dataclass(frozen=True, slots=True)
class Refused:
    command_id: str
    failures: tuple[Failure, ...]
    accepted = False

    @property
    def codes(self) -> list[str]:
        return [failure.code.value for failure in self.failures]

    def to_record(self) -> dict[str, Any]:
        return {
            "accepted": False,
            "command_id": self.command_id,
            "failures": [failure.to_record() for failure in self.failures],
        }


Outcome = Accepted | Refused


def outcome_from_record(record: dict[str, Any]) -> Outcome:
    """The outcome `to_record` wrote (effects come back as tuples, as the ledger makes them)."""
    if record["accepted"]:
        effects = [tuple(effect) for effect in record["effects"]]
        return Accepted(
            record["command_id"], record["seq"], record["entry_hash"], effects, record["duplicate"]
        )
    failures = tuple(Failure.from_record(failure) for failure in record["failures"])
    return Refused(record["command_id"], failures)
