"""What project requests come back with: an outcome, or failures with stable codes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from carbonex.projects.lifecycle import Project


@dataclass(frozen=True, slots=True)
class ProjectFailure:
    code: str
    message: str

    def to_record(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


@dataclass(frozen=True, slots=True)
class ProjectOutcome:
    request_id: str
    project_id: str
    event_seq: int | None = None
    state: str | None = None
    outcome: Mapping[str, Any] = field(default_factory=dict)
    failures: tuple[ProjectFailure, ...] = ()
    duplicate: bool = False

    @property
    def accepted(self) -> bool:
        return not self.failures

    @property
    def codes(self) -> list[str]:
        return [failure.code for failure in self.failures]

    def to_record(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "request_id": self.request_id,
            "project_id": self.project_id,
            "event_seq": self.event_seq,
            "state": self.state,
            "outcome": dict(self.outcome),
            "failures": [failure.to_record() for failure in self.failures],
            "duplicate": self.duplicate,
        }


Decision = tuple[list[ProjectFailure], Project | None, dict[str, Any]]
"""Failures, or the project after the request and what the request caused."""


def fail(code: str, message: str) -> list[ProjectFailure]:
    return [ProjectFailure(code, message)]
