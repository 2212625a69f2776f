"""Project events as stored: canonical JSON payloads in one SHA-256 hash chain.

Every project action the registry accepts becomes one row of `project_events`: its payload is the
canonical JSON (sorted keys) of what was asked (`request`) and what it caused (`outcome`), and its
hash chains it to the previous event of any project, exactly as the ledger's journal does. The
projects table and the monitoring reports are derived from these rows; `replay` rebuilds a
project by running every stored request through the pure state machine again, so a history that
the rules would not have accepted fails verification.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from carbonex.catalog.standards import CreditingOption, Standard
from carbonex.ledger.failures import Code as LedgerCode
from carbonex.ledger.journal import GENESIS_HASH, canonical, chain_hash, decode_payload
from carbonex.projects.lifecycle import Action, Period, Project, Result, Role, transition
from carbonex.projects.outcomes import ProjectFailure
from carbonex.text import refused_characters_in

CREATE = "create"
CREDITING_OPTION_KEY = "crediting_option"
"""A registration's outcome: the standard's crediting option the period was admitted under
(lengths, renewals), kept so that a later change of the standard's options does not change
what the project may renew."""
CREDITING_OPTION_INTEGERS = ("years_min", "years_max", "max_renewals", "total_years_max")


@dataclass(frozen=True, slots=True)
class ProjectRequest:
    """What a caller asked for: everything idempotency compares."""

    project_id: str
    action: str  # CREATE or a lifecycle Action value
    actor: str
    role: str
    documents: tuple[tuple[str, str], ...] = ()
    period: tuple[str, str] | None = None  # ISO dates, [start, end)
    quantity_t: int | None = None
    registration: str | None = None
    details: Mapping[str, Any] | None = None  # CREATE: the project's particulars

    def to_record(self) -> dict[str, Any]:
        return {
            "project_id": self.project_id,
            "action": self.action,
            "actor": self.actor,
            "role": self.role,
            "documents": [list(document) for document in self.documents],
            "period": list(self.period) if self.period else None,
            "quantity_t": self.quantity_t,
            "registration": self.registration,
            "details": dict(self.details) if self.details is not None else None,
        }

    @property
    def lifecycle_period(self) -> Period | None:
        if self.period is None:
            return None
        return Period(dt.date.fromisoformat(self.period[0]), dt.date.fromisoformat(self.period[1]))


def text_character_failures(request: ProjectRequest) -> list[ProjectFailure]:
    """A failure for each text of a new request (actor, documents' names, registration, a new
    project's particulars, a report's monitored data) holding a character free text may not
    hold (`carbonex.text.REFUSED_IN_TEXT`), naming its field and the character's code point.
    A rule that admits new requests: replay does not apply it, so a history recorded before it
    still verifies."""
    record = request.to_record()
    record["documents"] = [{"name": name, "sha256": sha256} for name, sha256 in request.documents]
    return [
        ProjectFailure(LedgerCode.E_TEXT_CHARACTER_NOT_ALLOWED.value, refused.describe(field))
        for field, refused in refused_characters_in(record)
    ]


def encode_event(
    event_seq: int,
    request_id: str,
    request: ProjectRequest,
    at: dt.datetime,
    outcome: Mapping[str, Any],
) -> bytes:
    return canonical(
        {
            "event_seq": event_seq,
            "request_id": request_id,
            "at": at.isoformat(),
            "request": request.to_record(),
            "outcome": dict(outcome),
        }
    )


def event_hash(previous_hash: str, payload: bytes) -> str:
    return chain_hash(previous_hash, payload)


def request_of(record: Mapping[str, Any]) -> ProjectRequest:
    period = record["period"]
    return ProjectRequest(
        project_id=record["project_id"],
        action=record["action"],
        actor=record["actor"],
        role=record["role"],
        documents=tuple((name, sha256) for name, sha256 in record["documents"]),
        period=(period[0], period[1]) if period else None,
        quantity_t=record["quantity_t"],
        registration=record["registration"],
        details=record["details"],
    )


def decode_event(payload: bytes) -> tuple[ProjectRequest, dt.datetime, dict[str, Any]]:
    record = decode_payload(payload)
    return request_of(record["request"]), dt.datetime.fromisoformat(record["at"]), record


def new_project(request: ProjectRequest, standard: Standard) -> Project:
    details = request.details or {}
    return Project(
        project_id=request.project_id,
        standard=standard,
        category=str(details["category"]),
        other_registrations=tuple(details.get("other_registrations", ())),
        created_by=request.actor,
    )


def crediting_option_record(option: CreditingOption) -> dict[str, Any]:
    return {
        "category": option.category,
        **{name: getattr(option, name) for name in CREDITING_OPTION_INTEGERS},
        "source": option.source,
    }


def recorded_crediting_option(outcome: Mapping[str, Any]) -> CreditingOption | None:
    """The crediting option a registration's outcome recorded (None before they were);
    ReplayError for a record that describes none."""
    raw = outcome.get(CREDITING_OPTION_KEY)
    if raw is None:
        return None
    names = {"category", "source", *CREDITING_OPTION_INTEGERS}
    if not isinstance(raw, dict) or set(raw) != names:
        raise ReplayError(f"a recorded crediting option is an object of {sorted(names)}")
    integers = {name: raw[name] for name in CREDITING_OPTION_INTEGERS}
    texts = (raw["category"], raw["source"])
    if not all(type(value) is int and value >= 0 for value in integers.values()) or not all(
        isinstance(text, str) for text in texts
    ):
        raise ReplayError("a recorded crediting option holds a value of the wrong type")
    return CreditingOption(category=raw["category"], source=raw["source"], **integers)


def apply_request(
    project: Project,
    request: ProjectRequest,
    at: dt.datetime,
    admission: bool = True,
    recorded_option: CreditingOption | None = None,
) -> Result:
    return transition(
        project,
        Action(request.action),
        request.actor,
        Role(request.role),
        at,
        request.documents,
        request.lifecycle_period,
        request.quantity_t,
        request.registration,
        admission,
        recorded_option,
    )


class ReplayError(ValueError):
    """A stored history that the rules refuse: the events table was altered or is corrupt."""


def replay(
    rows: Iterable[bytes], standards: Mapping[str, Standard]
) -> tuple[Project | None, list[dict[str, Any]]]:
    """The project its events describe, and the decoded events; ReplayError if they don't."""
    project: Project | None = None
    records: list[dict[str, Any]] = []
    for payload in rows:
        request, at, record = decode_event(payload)
        records.append(record)
        if request.action == CREATE:
            if project is not None:
                raise ReplayError(f"project {request.project_id} is created twice")
            standard = standards.get(str((request.details or {}).get("standard")))
            if standard is None:
                raise ReplayError(f"project {request.project_id}: unknown standard")
            project = new_project(request, standard)
            continue
        if project is None:
            raise ReplayError(f"project {request.project_id}: an event before its creation")
        # The rules that shape the project, not those that admitted the request when it was made.
        option = recorded_crediting_option(record["outcome"])
        result = apply_request(project, request, at, admission=False, recorded_option=option)
        if result.project is None:
            codes = ", ".join(failure.code for failure in result.failures)
            raise ReplayError(f"project {request.project_id}: stored '{request.action}' {codes}")
        project = result.project
    return project, records


def verify_event_chain(rows: Iterable[tuple[int, bytes, str, str]]) -> tuple[int, str | None]:
    """Walk (event_seq, payload, previous_hash, event_hash) in order; (count, first problem)."""
    previous, expected_seq, count = GENESIS_HASH, 1, 0
    for event_seq, payload, previous_hash, stored_hash in rows:
        if event_seq != expected_seq:
            return count, f"project event {expected_seq} is missing (found {event_seq})"
        if previous_hash != previous:
            return count, f"project event {event_seq}: previous hash does not match the chain"
        if chain_hash(previous_hash, bytes(payload)) != stored_hash:
            return count, f"project event {event_seq}: hash does not match its payload"
        if decode_payload(bytes(payload)).get("event_seq") != event_seq:
            return count, f"project event {event_seq}: payload names another sequence number"
        previous, expected_seq, count = stored_hash, expected_seq + 1, count + 1
    return count, None
