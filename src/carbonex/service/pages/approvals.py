"""The approval queue: pending four-eyes requests you may see, with approve and reject buttons
for those a second authorized person may decide. Deciding runs the API's own approval."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request
from fastapi.responses import HTMLResponse

from carbonex.catalog.standards import ProjectCatalog
from carbonex.service import approvals, issuance_approvals
from carbonex.service.deps import Service, ServiceDep
from carbonex.service.identity import Principal
from carbonex.service.pages.common import (
    Notice,
    SignedInDep,
    Viewer,
    problem_notice,
    render,
    signed_form,
)
from carbonex.service.problems import Problem
from carbonex.service.routes import approvals as approvals_api
from carbonex.store import SqlStore

router = APIRouter(prefix="/approvals")
ApprovalId = Annotated[str, Path(min_length=1, max_length=160)]
APPROVALS_SHOWN_MAX = 200
"""Pending approvals the page lists at most (those the viewer may see, in id order): a page
of a few hundred rows stays readable and quick; past it, a note says the list is cut."""
Decision = Callable[[str, Service, Principal], Awaitable[dict[str, Any]]]


def _row(
    principal: Principal, approval: approvals.Approval, refused: Problem | None
) -> dict[str, Any]:
    payload = approval.payload
    selection = payload.get("selection") or {}
    return {
        "approval": approval,
        "may_decide": approvals.may_decide(principal, approval),
        # Why approving would be refused (the approver verified the report, or it is stale):
        # no approve button then, only the reason; rejecting stays theirs to do.
        "approve_refused": refused.failures[0] if refused and refused.failures else None,
        "own": approval.requested_by == principal.user_id,
        "command_kind": payload.get("kind", approval.kind),
        "quantity": selection.get("quantity", payload.get("quantity")),
        "unit_type": selection.get("unit_type"),
    }


def _visible(
    store: SqlStore, catalog: ProjectCatalog, principal: Principal
) -> tuple[list[approvals.Approval], dict[str, Problem]]:
    """The pending approvals shown (one more: whether the list is cut), and why the principal
    may not approve those they may decide but not approve, read in one transaction."""
    found = approvals.pending_visible(store, principal, APPROVALS_SHOWN_MAX + 1)
    shown = found[:APPROVALS_SHOWN_MAX]
    return found, issuance_approvals.approve_refusals(store, catalog, principal, shown)


def _page(
    request: Request,
    service: Service,
    viewer: Viewer,
    notice: Notice | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    principal = viewer.principal
    # One more than shown: whether the viewer's own list is cut. The queue is read as the API
    # reads it, page after page until enough visible ones are found, since the first page of
    # the whole registry's queue may hold none the viewer may see.
    found, refusals = service.ledger.read(
        lambda store: _visible(store, service.projects.catalog, principal)
    )
    rows = [_row(principal, a, refusals.get(a.approval_id)) for a in found[:APPROVALS_SHOWN_MAX]]
    context = {
        "rows": rows,
        "notice": notice,
        "nav": "approvals",
        "shown_max": APPROVALS_SHOWN_MAX,
        "cut": len(found) > APPROVALS_SHOWN_MAX,
    }
    return render(request, viewer, "approvals.html", context, status_code)


@router.get("")
async def queue(request: Request, service: ServiceDep, viewer: SignedInDep) -> HTMLResponse:
    return _page(request, service, viewer)


def _decided_notice(approval_id: str, result: dict[str, Any]) -> Notice:
    outcome = result.get("outcome") or {}
    if "seq" in outcome:
        ran = f"; it ran as journal entry #{outcome['seq']}"
    elif "journal_seq" in outcome:  # an aggregation: its issue's entry
        ran = f"; it ran as journal entry #{outcome['journal_seq']}"
    elif "event_seq" in outcome:
        ran = f"; it ran as project event #{outcome['event_seq']}"
    else:
        ran = ""
    line = {"code": "DECIDED", "message": f"Approval {approval_id} {result['status']}{ran}."}
    return Notice("success", f"Request {result['status']}", [line])


async def _decide(
    request: Request,
    service: Service,
    viewer: Viewer,
    approval_id: str,
    decision: Decision,
) -> HTMLResponse:
    await signed_form(request, viewer)
    try:
        result = await decision(approval_id, service, viewer.principal)
    except Problem as problem:
        notice = problem_notice(problem, "Not decided")
        return _page(request, service, viewer, notice, problem.status)
    return _page(request, service, viewer, _decided_notice(approval_id, result))


@router.post("/{approval_id}/approve")
async def approve(
    approval_id: ApprovalId, request: Request, service: ServiceDep, viewer: SignedInDep
) -> HTMLResponse:
    """Approve as the second person: the request runs now (or stays pending if refused)."""
    return await _decide(request, service, viewer, approval_id, approvals_api.approve)


@router.post("/{approval_id}/reject")
async def reject(
    approval_id: ApprovalId, request: Request, service: ServiceDep, viewer: SignedInDep
) -> HTMLResponse:
    return await _decide(request, service, viewer, approval_id, approvals_api.reject)
