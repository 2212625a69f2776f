"""The project cycle as a pure state machine.

draft -> listed -> validated -> registered -> (monitored -> verified -> registered)* and then
completed, withdrawn, deregistered or transitioned (e.g. a CDM activity moving to the Article 6.4
mechanism). `transition` never raises for an expected refusal: it returns either the new
`Project` (history extended by one event, never rewritten) or every failure it found, in the
precedence order of `Code`.

Periods are half-open date ranges [start, end): a period ending 2025-01-01 and one starting
2025-01-01 do not overlap, so monitoring periods can follow each other without a gap.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from carbonex.catalog.standards import CreditingOption, Standard
from carbonex.dates import years_after
from carbonex.ledger.limits import period_window_problem
from carbonex.text import same_person

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


class State(enum.StrEnum):
    DRAFT = "draft"
    LISTED = "listed"
    VALIDATED = "validated"
    REGISTERED = "registered"
    MONITORED = "monitored"  # a monitoring report awaits verification
    VERIFIED = "verified"  # verified, awaiting the administrator's issuance decision
    COMPLETED = "completed"
    WITHDRAWN = "withdrawn"
    DEREGISTERED = "deregistered"
    TRANSITIONED = "transitioned"


class Role(enum.StrEnum):
    PROPONENT = "project_proponent"
    VVB = "validation_verification_body"
    ADMINISTRATOR = "standard_administrator"


class Action(enum.StrEnum):
    LIST = "list"
    VALIDATE = "validate"
    REGISTER = "register"
    RENEW_CREDITING = "renew_crediting_period"
    SUBMIT_MONITORING = "submit_monitoring_report"
    VERIFY = "verify"
    APPROVE_ISSUANCE = "approve_issuance"
    REJECT_MONITORING = "reject_monitoring_report"
    RECORD_EVIDENCE = "record_cross_registry_evidence"
    RECORD_REVERSAL = "record_reversal"
    COMPLETE = "complete"
    WITHDRAW = "withdraw"
    DEREGISTER = "deregister"
    TRANSITION = "transition"


class Code(enum.StrEnum):
    """Failure codes, in precedence order."""

    E_ILLEGAL_TRANSITION = "E_ILLEGAL_TRANSITION"
    E_ROLE_NOT_PERMITTED = "E_ROLE_NOT_PERMITTED"
    E_ACTOR_MISSING = "E_ACTOR_MISSING"
    E_ACTOR_NOT_INDEPENDENT = "E_ACTOR_NOT_INDEPENDENT"
    E_TIME_BEFORE_LAST_EVENT = "E_TIME_BEFORE_LAST_EVENT"
    E_REGISTRATION_MISSING = "E_REGISTRATION_MISSING"
    E_REGISTRATION_UNKNOWN = "E_REGISTRATION_UNKNOWN"
    E_DOCUMENT_MISSING = "E_DOCUMENT_MISSING"
    E_DOCUMENT_NAME_EMPTY = "E_DOCUMENT_NAME_EMPTY"
    E_DOCUMENT_HASH_INVALID = "E_DOCUMENT_HASH_INVALID"
    E_PERIOD_MISSING = "E_PERIOD_MISSING"
    E_PERIOD_INVALID = "E_PERIOD_INVALID"
    E_PERIOD_NOT_EXPECTED = "E_PERIOD_NOT_EXPECTED"
    E_CREDITING_RULE_NOT_ENCODED = "E_CREDITING_RULE_NOT_ENCODED"
    E_CREDITING_PERIOD_LENGTH_NOT_ALLOWED = "E_CREDITING_PERIOD_LENGTH_NOT_ALLOWED"
    E_CREDITING_PERIOD_NOT_CONTIGUOUS = "E_CREDITING_PERIOD_NOT_CONTIGUOUS"
    E_CREDITING_RENEWALS_EXHAUSTED = "E_CREDITING_RENEWALS_EXHAUSTED"
    E_MONITORING_PERIOD_OUTSIDE_CREDITING = "E_MONITORING_PERIOD_OUTSIDE_CREDITING"
    E_MONITORING_PERIOD_OVERLAPS = "E_MONITORING_PERIOD_OVERLAPS"
    E_MONITORING_PERIOD_NOT_ENDED = "E_MONITORING_PERIOD_NOT_ENDED"
    E_QUANTITY_MISSING = "E_QUANTITY_MISSING"
    E_QUANTITY_INVALID = "E_QUANTITY_INVALID"
    E_QUANTITY_NOT_EXPECTED = "E_QUANTITY_NOT_EXPECTED"
    E_VERIFIED_EXCEEDS_CLAIMED = "E_VERIFIED_EXCEEDS_CLAIMED"
    E_CROSS_REGISTRY_EVIDENCE_MISSING = "E_CROSS_REGISTRY_EVIDENCE_MISSING"


PRECEDENCE = {code: index for index, code in enumerate(Code)}

# (from state, action) -> (to state, the one role allowed to take it).
TRANSITIONS: dict[tuple[State, Action], tuple[State, Role]] = {
    (State.DRAFT, Action.LIST): (State.LISTED, Role.PROPONENT),
    (State.LISTED, Action.VALIDATE): (State.VALIDATED, Role.VVB),
    (State.VALIDATED, Action.REGISTER): (State.REGISTERED, Role.ADMINISTRATOR),
    (State.REGISTERED, Action.RENEW_CREDITING): (State.REGISTERED, Role.ADMINISTRATOR),
    (State.REGISTERED, Action.SUBMIT_MONITORING): (State.MONITORED, Role.PROPONENT),
    (State.MONITORED, Action.VERIFY): (State.VERIFIED, Role.VVB),
    (State.MONITORED, Action.REJECT_MONITORING): (State.REGISTERED, Role.VVB),
    (State.VERIFIED, Action.APPROVE_ISSUANCE): (State.REGISTERED, Role.ADMINISTRATOR),
    (State.REGISTERED, Action.COMPLETE): (State.COMPLETED, Role.ADMINISTRATOR),
    (State.DRAFT, Action.WITHDRAW): (State.WITHDRAWN, Role.PROPONENT),
    (State.LISTED, Action.WITHDRAW): (State.WITHDRAWN, Role.PROPONENT),
    (State.VALIDATED, Action.WITHDRAW): (State.WITHDRAWN, Role.PROPONENT),
    (State.REGISTERED, Action.DEREGISTER): (State.DEREGISTERED, Role.ADMINISTRATOR),
    (State.MONITORED, Action.DEREGISTER): (State.DEREGISTERED, Role.ADMINISTRATOR),
    (State.VERIFIED, Action.DEREGISTER): (State.DEREGISTERED, Role.ADMINISTRATOR),
    (State.REGISTERED, Action.TRANSITION): (State.TRANSITIONED, Role.ADMINISTRATOR),
}
# Evidence from another registry may arrive at any point before the issuance it unlocks.
for _state in (State.REGISTERED, State.MONITORED, State.VERIFIED):
    TRANSITIONS[(_state, Action.RECORD_EVIDENCE)] = (_state, Role.ADMINISTRATOR)
# A reversal (fire, pest, leakage found later) can be reported for as long as units are out:
# in every state a project can reach after registration, deregistered and transitioned included
# (its issued units stay in circulation whatever becomes of the project).
REVERSAL_STATES = (
    State.REGISTERED,
    State.MONITORED,
    State.VERIFIED,
    State.COMPLETED,
    State.DEREGISTERED,
    State.TRANSITIONED,
)
for _state in REVERSAL_STATES:
    TRANSITIONS[(_state, Action.RECORD_REVERSAL)] = (_state, Role.ADMINISTRATOR)
# Each of these actions files evidence: a PDD, a validation, monitoring or verification report.
NEEDS_DOCUMENTS = frozenset(
    {
        Action.LIST,
        Action.VALIDATE,
        Action.REGISTER,
        Action.SUBMIT_MONITORING,
        Action.VERIFY,
        Action.REJECT_MONITORING,
        Action.RECORD_EVIDENCE,
        Action.RECORD_REVERSAL,
    }
)
NEEDS_PERIOD = frozenset(
    {
        Action.REGISTER,
        Action.RENEW_CREDITING,
        Action.SUBMIT_MONITORING,
        Action.RECORD_EVIDENCE,
    }
)
# Claimed (monitoring report), verified (verification) and reversed quantities, whole tonnes.
NEEDS_QUANTITY = frozenset({Action.SUBMIT_MONITORING, Action.VERIFY, Action.RECORD_REVERSAL})
QUANTITY_MAX_T = 10**15


@dataclass(frozen=True, slots=True)
class Period:
    start: dt.date  # inclusive
    end: dt.date  # exclusive

    def overlaps(self, other: Period) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class Document:
    name: str
    sha256: str


@dataclass(frozen=True, slots=True)
class Event:
    action: Action
    actor: str
    role: Role
    at: dt.datetime
    from_state: State
    to_state: State
    documents: tuple[Document, ...]
    period: Period | None
    quantity_t: int | None = None
    registration: str | None = None  # RECORD_EVIDENCE: which other registration it covers


@dataclass(frozen=True, slots=True)
class Project:
    project_id: str
    standard: Standard
    category: str  # avoidance | removal: selects the standard's crediting options
    state: State = State.DRAFT
    crediting_periods: tuple[Period, ...] = ()
    crediting_option: CreditingOption | None = None
    monitoring_periods: tuple[Period, ...] = ()
    history: tuple[Event, ...] = ()
    other_registrations: tuple[str, ...] = ()
    """The same activity's ids in other standards or registries ("CDM:1234"): each needs
    evidence of cancellation or transfer-out there, covering the period, before issuance here."""
    evidence: tuple[Event, ...] = ()
    created_by: str = ""
    """Who created the project (its first event, outside `history`): its proponent, as who
    listed it or submitted its reports is, and so never its validator or verifier."""

    def open_report(self) -> tuple[Event | None, Event | None]:
        """The monitoring report of the current cycle and its verification, if any."""
        if self.state not in (State.MONITORED, State.VERIFIED):
            return None, None
        submitted = next(e for e in reversed(self.history) if e.action is Action.SUBMIT_MONITORING)
        verified = self.history[-1] if self.history[-1].action is Action.VERIFY else None
        if verified is None and self.state is State.VERIFIED:
            verified = next(e for e in reversed(self.history) if e.action is Action.VERIFY)
        return submitted, verified


@dataclass(frozen=True, slots=True)
class Failure:
    code: Code
    message: str


@dataclass(frozen=True, slots=True)
class Result:
    project: Project | None
    failures: tuple[Failure, ...] = ()

    @property
    def accepted(self) -> bool:
        return self.project is not None


def _failure(code: Code, message: str) -> list[Failure]:
    return [Failure(code, message)]


def check_monitoring_period(existing: Sequence[Period], new: Period) -> list[Failure]:
    """Double issuance guard (DOMAIN.md section 3): a project's monitoring periods never overlap."""
    clashes = [period for period in existing if period.overlaps(new)]
    if not clashes:
        return []
    spans = ", ".join(f"{p.start}..{p.end}" for p in clashes)
    return _failure(Code.E_MONITORING_PERIOD_OVERLAPS, f"overlaps monitoring period(s) {spans}")


def _at_most_years(start: dt.date, end: dt.date, years: int) -> bool:
    """`end` comes no later than `years` after `start`. A limit past the calendar's last day
    holds every date there is; one before its first day holds none."""
    limit = years_after(start, years)
    if limit is None:
        return years > 0
    return end <= limit


def _at_least_years(start: dt.date, end: dt.date, years: int) -> bool:
    """`end` comes no earlier than `years` after `start`: no date reaches a limit past the
    calendar's last day; every date is past one before its first day."""
    limit = years_after(start, years)
    if limit is None:
        return years < 0
    return limit <= end


def _fits(option: CreditingOption, period: Period) -> bool:
    start, end = period.start, period.end
    return _at_least_years(start, end, option.years_min) and _at_most_years(
        start, end, option.years_max
    )


def check_crediting_period(
    standard: Standard, category: str, period: Period
) -> tuple[CreditingOption | None, list[Failure]]:
    """The first of the standard's options for `category` that a first crediting period fits."""
    options = standard.crediting_options(category)
    if not options:
        return None, _failure(
            Code.E_CREDITING_RULE_NOT_ENCODED, f"{standard.code} has no {category} crediting rule"
        )
    for option in options:
        if _fits(option, period):
            return option, []
    return None, _failure(
        Code.E_CREDITING_PERIOD_LENGTH_NOT_ALLOWED,
        f"{period.start}..{period.end} fits no {standard.code} {category} crediting option",
    )


def _check_recorded_option(
    option: CreditingOption, category: str, period: Period
) -> tuple[CreditingOption | None, list[Failure]]:
    """The crediting option a registration recorded, if the period it registered fits it."""
    if option.category == category and _fits(option, period):
        return option, []
    return None, _failure(
        Code.E_CREDITING_PERIOD_LENGTH_NOT_ALLOWED,
        f"{period.start}..{period.end} does not fit the {category} crediting option recorded",
    )


def check_renewal(project: Project, period: Period) -> list[Failure]:
    """A renewed period follows the last one, fits the chosen option, within its renewals."""
    option, periods = project.crediting_option, project.crediting_periods
    if option is None or not periods:
        return _failure(Code.E_CREDITING_RULE_NOT_ENCODED, "no crediting period to renew")
    failures: list[Failure] = []
    if period.start != periods[-1].end:
        failures += _failure(
            Code.E_CREDITING_PERIOD_NOT_CONTIGUOUS, f"must start on {periods[-1].end}"
        )
    within_total = _at_most_years(periods[0].start, period.end, option.total_years_max)
    if not _fits(option, period) or not within_total:
        failures += _failure(Code.E_CREDITING_PERIOD_LENGTH_NOT_ALLOWED, "renewal length")
    if len(periods) > option.max_renewals:
        failures += _failure(
            Code.E_CREDITING_RENEWALS_EXHAUSTED, f"at most {option.max_renewals} renewals"
        )
    return failures


def _check_monitoring(
    project: Project, period: Period, at: dt.datetime, admission: bool
) -> list[Failure]:
    failures: list[Failure] = []
    periods = project.crediting_periods
    if not periods or period.start < periods[0].start or period.end > periods[-1].end:
        failures += _failure(
            Code.E_MONITORING_PERIOD_OUTSIDE_CREDITING, "outside the crediting period"
        )
    failures += check_monitoring_period(project.monitoring_periods, period)
    if admission and period.end > at.date():  # half-open: its last day, end - 1, has passed
        failures += _failure(
            Code.E_MONITORING_PERIOD_NOT_ENDED,
            f"a report covers reductions that happened: the period ends {period.end}, "
            f"after {at.date()}",
        )
    return failures


def _check_documents(action: Action, documents: Sequence[Document]) -> list[Failure]:
    failures: list[Failure] = []
    if action in NEEDS_DOCUMENTS and not documents:
        failures += _failure(Code.E_DOCUMENT_MISSING, f"'{action}' needs at least one document")
    for document in documents:
        if not document.name.strip():
            failures += _failure(Code.E_DOCUMENT_NAME_EMPTY, "a document has no name")
        if not SHA256_HEX.match(document.sha256):
            failures += _failure(
                Code.E_DOCUMENT_HASH_INVALID,
                f"'{document.name}': SHA-256 must be 64 lower-case hex digits",
            )
    return failures


def _check_move(project: Project, action: Action, role: Role) -> list[Failure]:
    move = TRANSITIONS.get((project.state, action))
    if move is None:
        return _failure(Code.E_ILLEGAL_TRANSITION, f"no '{action}' from '{project.state}'")
    if move[1] != role:
        return _failure(Code.E_ROLE_NOT_PERMITTED, f"'{action}' is for the {move[1]}")
    return []


def _check_actor(
    project: Project, action: Action, actor: str, at: dt.datetime, admission: bool
) -> list[Failure]:
    failures: list[Failure] = []
    if not actor.strip():
        failures += _failure(Code.E_ACTOR_MISSING, "the actor must be named")
    if admission:
        failures += check_independence(project, action, actor)
    if project.history and at < project.history[-1].at:
        failures += _failure(Code.E_TIME_BEFORE_LAST_EVENT, f"{at} is before the last event")
    return failures


INDEPENDENT_OF_PROPONENT = frozenset(
    {
        Action.VALIDATE,
        Action.VERIFY,
        Action.REJECT_MONITORING,
        Action.REGISTER,
        Action.RENEW_CREDITING,
        Action.RECORD_EVIDENCE,
        Action.APPROVE_ISSUANCE,
    }
)
"""Third-party validation and verification (DOMAIN.md section 1) and the standard's decisions
in the project's favour (registering it, renewing its crediting, accepting evidence that unlocks
an issuance, approving one): by no one who acted as the project's proponent. Ending a project or
recording its reversal is not in its favour and stays open to a proponent holding the role."""
INDEPENDENT_OF_REPORT = frozenset(
    {Action.VERIFY, Action.REJECT_MONITORING, Action.APPROVE_ISSUANCE}
)
"""Who verifies or rejects a report did not submit it; who approves its issuance did neither."""


def _proponents(project: Project) -> set[str]:
    """Everyone who acted as the project's proponent: created or listed it, submitted a report."""
    people = {same_person(e.actor) for e in project.history if e.role is Role.PROPONENT}
    if project.created_by.strip():
        people.add(same_person(project.created_by))
    return people


def _conflicts(project: Project, action: Action, person: str) -> list[str]:
    """What `person` already did that bars them from taking `action` on the project."""
    conflicts: list[str] = []
    if action in INDEPENDENT_OF_PROPONENT and person in _proponents(project):
        conflicts.append("as the project's proponent")
    if action is Action.REGISTER and any(
        e.action is Action.VALIDATE and same_person(e.actor) == person for e in project.history
    ):
        conflicts.append("as its validator")
    if action in INDEPENDENT_OF_REPORT:
        submitted, verified = project.open_report()
        roles = [
            e.role.value
            for e in (submitted, verified)
            if e is not None and same_person(e.actor) == person
        ]
        if roles:
            conflicts.append(f"on this report as {' and '.join(roles)}")
    return conflicts


def check_independence(project: Project, action: Action, actor: str) -> list[Failure]:
    """Third-party validation and verification: the proponent (who created or listed the
    project or submitted a report) neither validates, verifies nor rejects, nor registers,
    renews, records evidence for or approves an issuance of the project; who validated does
    not register; who verifies a report did not submit it, and who approves its issuance did
    neither (a person holding several roles still acts once); names are one person whatever
    their case (`same_person`). An admission rule: histories recorded before it replay
    unchanged. Public: the service holds the second person who approves a waiting issuance to
    the same rule."""
    conflicts = _conflicts(project, action, same_person(actor))
    if not conflicts:
        return []
    return _failure(
        Code.E_ACTOR_NOT_INDEPENDENT,
        f"'{actor}' already acted {', and '.join(conflicts)}; '{action}' needs another person",
    )


def _check_period(
    project: Project,
    action: Action,
    period: Period | None,
    at: dt.datetime,
    admission: bool,
    recorded_option: CreditingOption | None,
) -> tuple[CreditingOption | None, list[Failure]]:
    if action not in NEEDS_PERIOD:
        # A stray period would be recorded on the event and mislead a reader of the history.
        if period is None:
            return None, []
        return None, _failure(Code.E_PERIOD_NOT_EXPECTED, f"'{action}' takes no period")
    if period is None:
        return None, _failure(Code.E_PERIOD_MISSING, f"'{action}' needs a period")
    if period.end <= period.start:
        return None, _failure(Code.E_PERIOD_INVALID, "a period must end after it starts")
    window_problem = period_window_problem(period.start, period.end) if admission else None
    if window_problem is not None:  # its units could never be issued
        return None, _failure(Code.E_PERIOD_INVALID, window_problem)
    if action is Action.REGISTER and recorded_option is not None:
        return _check_recorded_option(recorded_option, project.category, period)
    if action is Action.REGISTER:
        return check_crediting_period(project.standard, project.category, period)
    if action is Action.RENEW_CREDITING:
        return None, check_renewal(project, period)
    if action is Action.RECORD_EVIDENCE:
        return None, []
    return None, _check_monitoring(project, period, at, admission)


def _check_quantity(project: Project, action: Action, quantity_t: int | None) -> list[Failure]:
    if action not in NEEDS_QUANTITY:
        if quantity_t is None:
            return []
        return _failure(Code.E_QUANTITY_NOT_EXPECTED, f"'{action}' takes no quantity")
    if quantity_t is None:
        return _failure(Code.E_QUANTITY_MISSING, f"'{action}' needs a quantity in tonnes")
    if isinstance(quantity_t, bool) or not isinstance(quantity_t, int):
        return _failure(Code.E_QUANTITY_INVALID, "a quantity is a whole number of tonnes")
    if not 1 <= quantity_t <= QUANTITY_MAX_T:
        return _failure(Code.E_QUANTITY_INVALID, f"a quantity lies in 1..{QUANTITY_MAX_T}")
    submitted, _ = project.open_report()
    if action is Action.VERIFY and submitted is not None:
        claimed_t = submitted.quantity_t or 0
        if quantity_t > claimed_t:
            return _failure(
                Code.E_VERIFIED_EXCEEDS_CLAIMED,
                f"verified {quantity_t} t exceeds the {claimed_t} t the report claims",
            )
    return []


def _check_registration(
    project: Project, action: Action, registration: str | None
) -> list[Failure]:
    if action is not Action.RECORD_EVIDENCE:
        if registration is None:
            return []
        return _failure(Code.E_REGISTRATION_UNKNOWN, f"'{action}' takes no registration")
    if not registration:
        return _failure(Code.E_REGISTRATION_MISSING, "name the other registration it covers")
    if registration not in project.other_registrations:
        return _failure(
            Code.E_REGISTRATION_UNKNOWN, f"'{registration}' is not one of the project's"
        )
    return []


def check_cross_registry_evidence(project: Project) -> list[Failure]:
    """Before issuance: every other registration has evidence (cancellation or transfer-out
    there) covering the whole monitoring period to be issued (DOMAIN.md section 3)."""
    submitted, _ = project.open_report()
    if submitted is None or submitted.period is None:
        return []
    wanted = submitted.period
    missing = [
        registration
        for registration in project.other_registrations
        if not any(
            event.registration == registration
            and event.period is not None
            and event.period.start <= wanted.start
            and wanted.end <= event.period.end
            for event in project.evidence
        )
    ]
    if not missing:
        return []
    return _failure(
        Code.E_CROSS_REGISTRY_EVIDENCE_MISSING,
        f"no evidence of cancellation or transfer-out covering {wanted.start}..{wanted.end} "
        f"in {', '.join(missing)}",
    )


def transition(
    project: Project,
    action: Action,
    actor: str,
    role: Role,
    at: dt.datetime,
    documents: Sequence[tuple[str, str]] = (),
    period: Period | None = None,
    quantity_t: int | None = None,
    registration: str | None = None,
    admission: bool = True,
    recorded_option: CreditingOption | None = None,
) -> Result:
    """Apply `action` by `actor` acting as `role` at `at`, with documents (name, sha256 hex).

    `admission=False` leaves out the rules that only admit new requests (an independent actor,
    a monitoring period that has ended, periods within the 1900-2200 vintage window): replaying
    a recorded history applies the rules that shape the project, so a history accepted before
    an admission rule was added still replays. `recorded_option`: the crediting option a
    registration recorded when it was admitted, which it keeps whatever the standard's options
    are today (a registration is checked against the standard only when it is made).

    `period` is the crediting period for register and renew_crediting_period, the monitoring
    period for submit_monitoring_report and the period evidence covers for
    record_cross_registry_evidence. `quantity_t` is the claimed quantity of a monitoring
    report, the verified quantity of a verification, or the tonnes a reversal lost."""
    docs = tuple(Document(name, sha256) for name, sha256 in documents)
    failures = _check_move(project, action, role)
    if not failures:  # the rest only means something for a legal move
        failures += _check_actor(project, action, actor, at, admission)
        failures += _check_registration(project, action, registration)
        failures += _check_documents(action, docs)
        option, period_failures = _check_period(
            project, action, period, at, admission, recorded_option
        )
        failures += period_failures + _check_quantity(project, action, quantity_t)
        if action is Action.APPROVE_ISSUANCE:
            failures += check_cross_registry_evidence(project)
    if failures:
        return Result(None, tuple(sorted(failures, key=lambda f: PRECEDENCE[f.code])))
    to_state = TRANSITIONS[(project.state, action)][0]
    event = Event(
        action, actor, role, at, project.state, to_state, docs, period, quantity_t, registration
    )
    return Result(_apply(project, event, option))


def _apply(project: Project, event: Event, option: CreditingOption | None) -> Project:
    updated = replace(project, state=event.to_state, history=(*project.history, event))
    if event.action is Action.REJECT_MONITORING:  # the period may be reported again
        return replace(updated, monitoring_periods=project.monitoring_periods[:-1])
    if event.action is Action.RECORD_EVIDENCE:
        return replace(updated, evidence=(*project.evidence, event))
    if event.period is None:  # only actions in NEEDS_PERIOD carry one
        return updated
    if event.action is Action.REGISTER:
        return replace(updated, crediting_periods=(event.period,), crediting_option=option)
    if event.action is Action.RENEW_CREDITING:
        return replace(updated, crediting_periods=(*project.crediting_periods, event.period))
    return replace(updated, monitoring_periods=(*project.monitoring_periods, event.period))
