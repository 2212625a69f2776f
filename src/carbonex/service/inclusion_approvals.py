"""A carbon-inclusion aggregation issues units, so it waits for a second registry administrator,
as a direct issuance does.

The request is tried when it is made (and rolled back), so that one the registry would refuse
now is refused at once, and recorded as a pending approval naming the aggregation's fields. A
second registry administrator's approval runs it, as the requester asked it, against the points
verified by then, in the transaction that records the decision: a refusal then (nothing left to
issue, say) records nothing and leaves the approval pending. The aggregation id keeps its own
idempotency: an aggregation already made with the same content is answered with its first
result, and waits for nobody, since it issues nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from carbonex.inclusion import tables
from carbonex.inclusion.results import Aggregated, Refusal
from carbonex.inclusion.service import AggregationRequest, InclusionRegistry
from carbonex.ledger import Transaction
from carbonex.service import approvals, audit, commands, idempotency
from carbonex.service.deps import Service
from carbonex.service.idempotency import Use
from carbonex.service.identity import Principal
from carbonex.service.problems import Problem
from carbonex.store import SqlStore

AGGREGATE_ACTION = idempotency.AGGREGATE_INCLUSION_POINTS
"""The audit action of an aggregation run (at approval, or at once without four eyes, when
its audit row keeps the request's idempotency key)."""
REQUEST_ACTION = f"request_{AGGREGATE_ACTION}"


def payload_of(request: AggregationRequest) -> dict[str, Any]:
    """The aggregation request's fields, as the approval stores them (dates as ISO text)."""
    return {
        "aggregation_id": request.aggregation_id,
        "aggregator_account_id": request.aggregator_account_id,
        "period_start": request.period_start.isoformat(),
        "period_end": request.period_end.isoformat(),
        "project_id": request.project_id,
        "host_country": request.host_country,
    }


def request_of(payload: dict[str, Any]) -> AggregationRequest:
    return AggregationRequest(
        str(payload["aggregation_id"]),
        str(payload["aggregator_account_id"]),
        dt.date.fromisoformat(str(payload["period_start"])),
        dt.date.fromisoformat(str(payload["period_end"])),
        str(payload["project_id"]),
        str(payload["host_country"]),
    )


def summary_of(request: AggregationRequest, tried: Aggregated) -> str:
    """What the approver reads: the units are those the points verified at request time make;
    approval issues what the points verified by then make."""
    return (
        f"aggregate verified carbon-inclusion points of {request.period_start} to "
        f"{request.period_end} (end excluded) into {request.aggregator_account_id}: "
        f"{tried.units} {tried.unit_type} when requested, project {request.project_id}, "
        f"{request.host_country}, aggregation {request.aggregation_id}"
    )


def aggregate(service: Service, request: AggregationRequest) -> Aggregated | Refusal:
    """Run the aggregation; within a transaction, it joins it."""
    return InclusionRegistry(service.ledger).aggregate(
        request.aggregation_id, request.aggregator_account_id, request.period_start,
        request.period_end, project_id=request.project_id, host_country=request.host_country,
    )  # fmt: skip


def request_aggregation(
    service: Service, principal: Principal, approval_id: str, request: AggregationRequest
) -> approvals.Approval | Aggregated:
    """The pending approval of the aggregation (new, or the one this key recorded before), or
    the aggregation itself when it was made before with the same content. Refusals raise."""
    payload = payload_of(request)

    def trial(tx: Transaction) -> tuple[approvals.Approval | Aggregated | Refusal | Problem, bool]:
        reused = idempotency.other_use(tx.store, approval_id, Use.APPROVAL)
        if reused is not None:
            return reused, False
        recorded = approvals.load(tx.store, approval_id)
        return recorded or aggregate(service, request), False  # never kept

    found = service.ledger.transact(trial)
    if isinstance(found, Problem):
        raise found
    if isinstance(found, Refusal):
        raise commands.failures_problem(found.failures)
    if isinstance(found, Aggregated) and not found.duplicate:
        kind = approvals.INCLUSION_AGGREGATION
        pending = approvals.PendingRequest(approval_id, kind, payload, summary_of(request, found))
        found = commands.queue_approval(
            service, principal, pending, REQUEST_ACTION, request.aggregation_id
        )
    if isinstance(found, approvals.Approval) and (
        found.kind != approvals.INCLUSION_AGGREGATION
        or found.payload != payload
        or found.requested_by != principal.user_id
    ):
        raise idempotency.key_reused()
    return found


def aggregate_now(
    service: Service, principal: Principal, key: str, request: AggregationRequest
) -> Aggregated:
    """Without four eyes on issuance: aggregate at once, audited in the same commit with the
    idempotency key (no approval keeps it): the same key again answers the first result, and
    is refused with another request, as a key naming another kind of request is; the
    registry's refusal raises."""
    payload = payload_of(request)

    def work(tx: Transaction) -> tuple[Aggregated | Refusal | Problem, bool]:
        earlier = idempotency.audited_use(tx.store, principal, (AGGREGATE_ACTION,), key)
        if isinstance(earlier, idempotency.Audited) and earlier.detail.get("request") != payload:
            return idempotency.key_reused(), False
        if isinstance(earlier, Problem):
            return earlier, False
        result = aggregate(service, request)
        made = isinstance(result, Aggregated) and not result.duplicate
        if made:
            detail = {"idempotency_key": key, "request": payload}
            audit.record(tx.store, tx.now, principal, AGGREGATE_ACTION, request.aggregation_id,
                         detail)  # fmt: skip
        return result, made

    done = service.ledger.transact(work)
    if isinstance(done, Problem):
        raise done
    if isinstance(done, Refusal):
        raise commands.failures_problem(done.failures)
    return done


def made_already(store: SqlStore, approval: approvals.Approval) -> Problem | None:
    """The refusal to approve an aggregation approval whose aggregation id was used already (by
    another approval of the same request, or at once): approving it would issue nothing and
    record the first aggregation's outcome as its own. None for any other approval."""
    if approval.kind != approvals.INCLUSION_AGGREGATION:
        return None
    aggregation_id = str(approval.payload["aggregation_id"])
    found = tables.aggregation(store, aggregation_id)
    if found is None:
        return None
    detail = (
        f"approval {approval.approval_id} is for aggregation {aggregation_id}, made already "
        f"(journal entry #{found[1]['journal_seq']}): approving it would issue nothing; "
        "reject it"
    )
    return approvals.stale(detail)


def run_approved(
    service: Service, tx: Transaction, principal: Principal, approval: approvals.Approval
) -> dict[str, Any]:
    """Within the approving transaction: run the aggregation and audit it as the approver's;
    a refusal raises (nothing is kept, the approval stays pending), as does an aggregation
    made already (`made_already`)."""
    stale = made_already(tx.store, approval)
    if stale is not None:
        raise stale
    request = request_of(approval.payload)
    result = aggregate(service, request)
    if isinstance(result, Refusal):
        raise commands.failures_problem(result.failures)
    detail = {"requested_by": approval.requested_by, "journal_seq": result.journal_seq}
    audit.record(tx.store, tx.now, principal, AGGREGATE_ACTION, request.aggregation_id, detail)
    outcome: dict[str, Any] = result.to_record()
    return outcome
