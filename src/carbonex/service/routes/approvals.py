"""The approval queue: pending four-eyes requests, approved or rejected by a second person."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from carbonex.ledger import Accepted, Refused, Transaction, command_from_record
from carbonex.projects.events import request_of
from carbonex.service import approvals, audit, commands, inclusion_approvals, issuance_approvals
from carbonex.service.approvals import Approval
from carbonex.service.deps import DEFAULT_PAGE_SIZE, Limit, Service, ServiceDep, UserDep, WriterDep
from carbonex.service.identity import Principal
from carbonex.service.problems import Problem, denied, not_found
from carbonex.store import SqlStore

router = APIRouter(prefix="/approvals", tags=["approvals"])
ApprovalId = Annotated[str, Path(min_length=1, max_length=160)]


@router.get("")
async def list_pending(
    service: ServiceDep,
    principal: UserDep,
    limit: Limit = DEFAULT_PAGE_SIZE,
    after: Annotated[str, Query(max_length=160)] = "",
) -> list[dict[str, Any]]:
    """Pending approvals you requested, may decide, or may see (a page shorter than `limit`
    is the last one). `you_may_decide`: you may reject it; `you_may_approve`: you may approve it
    now too (false for a stale issuance, or one whose report you submitted or verified)."""
    catalog = service.projects.catalog

    def visible(store: SqlStore) -> tuple[list[Approval], dict[str, Problem]]:
        found = approvals.pending_visible(store, principal, limit, after)
        return found, issuance_approvals.approve_refusals(store, catalog, principal, found)

    found, refusals = service.ledger.read(visible)
    return [approval.to_record() | _offered(principal, approval, refusals) for approval in found]


def _offered(
    principal: Principal, approval: Approval, refusals: dict[str, Problem]
) -> dict[str, bool]:
    decides = approvals.may_decide(principal, approval)
    return {
        "you_may_decide": decides,
        "you_may_approve": decides and approval.approval_id not in refusals,
    }


def _decidable(
    tx: Transaction, approval_id: str, principal: Principal, decision: str
) -> Approval | dict[str, Any]:
    """The approval to decide, or the answer already given when the same person sends the
    same decision again (a retry: nothing new happens)."""
    approval = approvals.load(tx.store, approval_id)
    if approval is None or not approvals.may_see(principal, approval):
        raise not_found(f"approval {approval_id}")
    if approval.status == decision and approval.decided_by == principal.user_id:
        answer: dict[str, Any] = {"approval_id": approval_id, "status": decision}
        return answer | ({"outcome": approval.outcome} if decision == "approved" else {})
    if approval.status != "pending":
        raise Problem(409, "E_APPROVAL_DECIDED", f"approval {approval_id} is {approval.status}")
    if not approvals.may_decide(principal, approval):
        raise denied("a second authorized person must decide; not the requester")
    return approval


def _execute(
    service: Service, tx: Transaction, principal: Principal, approval: Approval
) -> dict[str, Any]:
    """Run the approved request in this transaction; a refusal raises (nothing is kept)."""
    if approval.kind == approvals.PROJECT_ACTION:
        catalog = service.projects.catalog
        refusal = issuance_approvals.approval_refusal(
            tx.store, catalog, approval, principal.user_id
        )
        if refusal is not None:
            raise refusal
        request = request_of(approval.payload["request"])
        outcome = service.projects.act_within(tx, approval.payload["request_id"], request)
        if not outcome.accepted:
            raise commands.failures_problem(outcome.failures)
        detail = {"requested_by": approval.requested_by, "event_seq": outcome.event_seq}
        audit.record(tx.store, tx.now, principal, "approve_issuance", request.project_id, detail)
        return outcome.to_record()
    if approval.kind == approvals.INCLUSION_AGGREGATION:
        return inclusion_approvals.run_approved(service, tx, principal, approval)
    result = commands.execute_in(tx, principal, command_from_record(approval.payload))
    if isinstance(result, Refused):
        raise commands.refusal_problem(result)
    return commands.accepted_record(result) if isinstance(result, Accepted) else {}


@router.post("/{approval_id}/approve")
async def approve(
    approval_id: ApprovalId, service: ServiceDep, principal: WriterDep
) -> dict[str, Any]:
    """Approve as the second person: the request runs now, in the same commit. Approving
    again returns the first answer."""

    def work(tx: Transaction) -> tuple[dict[str, Any], bool]:
        approval = _decidable(tx, approval_id, principal, "approved")
        if isinstance(approval, dict):
            return approval, False
        outcome = _execute(service, tx, principal, approval)
        approvals.decide(tx.store, approval_id, "approved", principal, tx.now, outcome)
        return {"approval_id": approval_id, "status": "approved", "outcome": outcome}, True

    return service.ledger.transact(work)


@router.post("/{approval_id}/reject")
async def reject(
    approval_id: ApprovalId, service: ServiceDep, principal: WriterDep
) -> dict[str, Any]:
    """Reject: the request never runs. Rejecting again returns the first answer."""

    def work(tx: Transaction) -> tuple[dict[str, Any], bool]:
        approval = _decidable(tx, approval_id, principal, "rejected")
        if isinstance(approval, dict):
            return approval, False
        approvals.decide(tx.store, approval_id, "rejected", principal, tx.now, {})
        audit.record(tx.store, tx.now, principal, "reject_approval", approval_id, {})
        return {"approval_id": approval_id, "status": "rejected"}, True

    return service.ledger.transact(work)
