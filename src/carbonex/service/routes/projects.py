"""Projects: public to read; created by the proponent's representatives; each step of the cycle
taken by the role it belongs to. Approving an issuance waits for a second standard
administrator."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, Field, StrictInt

from carbonex.ledger import Transaction
from carbonex.projects.events import ProjectRequest
from carbonex.projects.lifecycle import TRANSITIONS, Action
from carbonex.projects.lifecycle import Role as ProjectRole
from carbonex.projects.outcomes import ProjectOutcome
from carbonex.projects.registry import ProjectParticulars
from carbonex.service import approvals, audit, commands, idempotency, issuance_approvals
from carbonex.service.deps import (
    DEFAULT_PAGE_SIZE,
    IdempotencyKey,
    Limit,
    ServiceDep,
    WriterDep,
    command_id,
)
from carbonex.service.idempotency import Use
from carbonex.service.identity import Principal, Role
from carbonex.service.problems import Problem, denied, not_found
from carbonex.store import SqlStore

router = APIRouter(prefix="/projects", tags=["projects"])
ProjectId = Annotated[str, Path(min_length=1, max_length=64)]
PROJECT_PATH = "/{project_id:path}"
"""A project id may hold "/" (the registry's PROJECT_ID_PATTERN allows it), so its routes take
the rest of the path: "VCS/77" is reached as /projects/VCS/77 and /projects/VCS%2F77 alike (the
server decodes the path before routing)."""
DOCUMENTS_PER_ACTION_MAX = 50
ROLE_OF_ACTION = {action: role for (_state, action), (_to, role) in TRANSITIONS.items()}


class NewProject(BaseModel):
    project_id: str = Field(min_length=1, max_length=64)
    standard: str = Field(min_length=1, max_length=32, examples=["VCS"])
    category: str = Field(default="avoidance", max_length=16)
    name: str = Field(min_length=1, max_length=500)
    host_country: str = Field(min_length=2, max_length=2)
    methodology: str = Field(max_length=500)
    proponent_account_id: str = Field(min_length=1, max_length=64)
    location: str = Field(default="", max_length=500)
    other_registrations: list[str] = Field(default_factory=list, max_length=20)
    risk_rating: str | None = Field(default=None, max_length=20)


class Document(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    sha256: str = Field(pattern="^[0-9a-f]{64}$")


class Period(BaseModel):
    start: dt.date
    end: dt.date


class ProjectActionIn(BaseModel):
    action: Action
    documents: list[Document] = Field(default_factory=list, max_length=DOCUMENTS_PER_ACTION_MAX)
    period: Period | None = None
    quantity_t: StrictInt | None = Field(default=None, ge=1, le=10**15)
    registration: str | None = Field(default=None, max_length=64)
    inputs: (
        dict[Annotated[str, Field(max_length=64)], Annotated[str, Field(max_length=64)]] | None
    ) = Field(
        default=None, max_length=32, description="Monitored data for the methodology's calculator."
    )


def _outcome(outcome: ProjectOutcome) -> dict[str, Any]:
    if not outcome.accepted:
        raise commands.failures_problem(outcome.failures)
    return outcome.to_record()


@router.get("")
async def list_projects(
    service: ServiceDep,
    limit: Limit = DEFAULT_PAGE_SIZE,
    after: Annotated[str, Query(max_length=64)] = "",
) -> list[dict[str, Any]]:
    """Projects in id order (public)."""
    return service.projects.projects(limit, after)


@router.get(PROJECT_PATH)
async def show_project(project_id: ProjectId, service: ServiceDep) -> dict[str, Any]:
    """A project with its monitoring reports and full, hash-chained history (public)."""
    record = service.projects.project(project_id)
    if record is None:
        raise not_found(f"project {project_id}")
    return record


@router.post("", status_code=201)
async def create_project(
    body: NewProject, key: IdempotencyKey, service: ServiceDep, principal: WriterDep
) -> dict[str, Any]:
    """Create a project in draft, for an account you represent."""
    if not principal.represents(body.proponent_account_id):
        raise denied(f"you do not represent account {body.proponent_account_id}")
    particulars = ProjectParticulars(
        body.project_id, body.standard, body.category, body.name, body.host_country.upper(),
        body.methodology, body.proponent_account_id, body.location,
        tuple(body.other_registrations), body.risk_rating,
    )  # fmt: skip
    request_id = command_id(principal, key)

    def work(tx: Transaction) -> tuple[ProjectOutcome | Problem, bool]:
        reused = idempotency.other_use(tx.store, request_id, Use.PROJECT_ACTION)
        if reused is not None:
            return reused, False
        outcome = service.projects.create(request_id, particulars, principal.user_id)
        if outcome.accepted and not outcome.duplicate:
            detail = {"event_seq": outcome.event_seq}
            audit.record(tx.store, tx.now, principal, "create_project", body.project_id, detail)
        return outcome, outcome.accepted

    return _outcome(commands.transact(service, work))


def _authorize(principal: Principal, action: Action, project: dict[str, Any]) -> ProjectRole:
    role = ROLE_OF_ACTION[action]
    allowed = {
        ProjectRole.PROPONENT: principal.represents(project["proponent_account_id"]),
        ProjectRole.VVB: principal.has(Role.VERIFICATION_BODY),
        ProjectRole.ADMINISTRATOR: principal.has(Role.STANDARD_ADMINISTRATOR),
    }[role]
    if not allowed:
        raise denied(f"'{action}' is for the {role}")
    return role


@router.post(PROJECT_PATH + "/actions", status_code=201, responses=approvals.PENDING_RESPONSE)
async def act(
    project_id: ProjectId,
    body: ProjectActionIn,
    key: IdempotencyKey,
    response: Response,
    service: ServiceDep,
    principal: WriterDep,
) -> dict[str, Any]:
    """One step of the project cycle, by the role it belongs to."""
    project = service.projects.project(project_id)
    if project is None:
        raise not_found(f"project {project_id}")
    role = _authorize(principal, body.action, project)
    period = (body.period.start.isoformat(), body.period.end.isoformat()) if body.period else None
    request = ProjectRequest(
        project_id, body.action.value, principal.user_id, role.value,
        tuple((d.name, d.sha256) for d in body.documents), period, body.quantity_t,
        body.registration, {"inputs": body.inputs} if body.inputs is not None else None,
    )  # fmt: skip
    request_id = command_id(principal, key)
    if body.action is Action.APPROVE_ISSUANCE and service.policy.four_eyes_issuance:
        response.status_code = 202
        return _pending_issuance(service, principal, request_id, request)

    def work(tx: Transaction) -> tuple[ProjectOutcome | Problem, bool]:
        reused = idempotency.other_use(tx.store, request_id, Use.PROJECT_ACTION)
        if reused is not None:
            return reused, False
        outcome = service.projects.act_within(tx, request_id, request)
        if outcome.accepted and not outcome.duplicate:
            audit.record(tx.store, tx.now, principal, body.action.value, project_id,
                         {"event_seq": outcome.event_seq})  # fmt: skip
        return outcome, outcome.accepted and not outcome.duplicate

    return _outcome(commands.transact(service, work))


def _pending_issuance(
    service: ServiceDep, principal: Principal, request_id: str, request: ProjectRequest
) -> dict[str, Any]:
    """Record the approval as pending (checked against the project now), naming the verified
    report it is for, so that it can never issue another; the same key again returns the
    recorded one, whatever the project's state has become since."""
    asked = {"request_id": request_id, "request": request.to_record()}

    def recorded(store: SqlStore) -> approvals.Approval | Problem | None:
        reused = idempotency.other_use(store, request_id, Use.APPROVAL)
        return reused if reused is not None else approvals.load(store, request_id)

    existing = service.ledger.read(recorded, read_models=False)
    if isinstance(existing, Problem):
        raise existing
    approval = existing or _queue_issuance(service, principal, request_id, request, asked)
    if {name: approval.payload.get(name) for name in asked} != asked:
        raise idempotency.key_reused()
    return {"pending_approval": approval.to_record()}


def _queue_issuance(
    service: ServiceDep,
    principal: Principal,
    request_id: str,
    request: ProjectRequest,
    asked: dict[str, Any],
) -> approvals.Approval:
    """Queue a new issuance approval for the report the project now awaits a decision on."""
    failures = service.projects.preview(request)
    report = None
    if not failures:
        report = service.ledger.read(
            lambda store: issuance_approvals.open_verified_report(store, request.project_id)
        )
    if report is None:  # refused, or the report was decided since the preview
        raise commands.failures_problem(failures or service.projects.preview(request))
    summary = (
        f"approve the verified issuance of project {request.project_id}: "
        f"{issuance_approvals.describe(report)}"
    )
    payload = asked | {issuance_approvals.REPORT_KEY: report}
    pending = approvals.PendingRequest(request_id, approvals.PROJECT_ACTION, payload, summary)
    return commands.queue_approval(
        service, principal, pending, "request_approve_issuance", request.project_id
    )
