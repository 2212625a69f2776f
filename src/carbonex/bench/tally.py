"""Counting what happened to submitted commands: accepted, expected refusals, failures."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from carbonex.bench.common import Bar, Deadline
from carbonex.bench.workload import is_business_refusal
from carbonex.ledger import Command, Ledger, Outcome, Refused

FAILURE_TEXT_LENGTH_MAX = 300


@dataclass(slots=True)
class Tally:
    commands: int = 0
    accepted: int = 0
    business_refused: int = 0
    failed: int = 0
    seconds: float = 0.0
    first_failure: str = ""

    def count(self, outcome: Outcome) -> None:
        self.commands += 1
        if not isinstance(outcome, Refused):
            self.accepted += 1
        elif is_business_refusal(outcome):
            self.business_refused += 1
        else:
            self.fail(repr(outcome))

    def fail(self, description: str, commands: int = 1) -> None:
        """`commands` commands failed: an exception, or a refusal the workload cannot cause."""
        self.failed += commands
        if not self.first_failure:
            self.first_failure = description[:FAILURE_TEXT_LENGTH_MAX]

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Tally:
        return cls(**record)


def submit_counted(
    ledger: Ledger, commands: Sequence[Command], per_commit: int, deadline: Deadline, bar: Bar
) -> Tally:
    """Submit `commands`, `per_commit` per commit (1: `submit`, more: `submit_many`), until done
    or the deadline passes; tally every outcome. Exceptions are counted, not raised. The time
    includes projecting the read models up to the last entry: the work is not done before."""
    tally = Tally()
    started = time.perf_counter()
    for start in range(0, len(commands), per_commit):
        group = commands[start : start + per_commit]
        _submit_group(ledger, group, tally)
        bar.advance(len(group))
        if deadline.expired:
            break
    try:
        ledger.project()
    except Exception as error:  # measured and reported: a benchmark must finish
        tally.fail(f"projecting: {type(error).__name__}: {error}", 0)
    tally.seconds = time.perf_counter() - started
    return tally


def _submit_group(ledger: Ledger, group: Sequence[Command], tally: Tally) -> None:
    try:
        if len(group) == 1:
            tally.count(ledger.submit(group[0]))
            return
        for outcome in ledger.submit_many(group):
            tally.count(outcome)
    except Exception as error:  # measured and reported: a benchmark must finish
        tally.commands += len(group)
        tally.fail(f"{type(error).__name__}: {error}", len(group))
