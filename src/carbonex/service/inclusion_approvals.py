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

from carbonex.inclusion.results import Aggregated, Refusal
from carbonex.inclusion.service import AggregationRequest, InclusionRegistry
from carbonex.ledger import Transaction
from carbonex.service import approvals, audit, commands, idempotency
from carbonex.service.deps import Service
from carbonex.service.idempotency import Use
from carbonex.service.identity import Principal
from carbonex.service.problems import Problem

AGGREGATE_ACTION = "aggregate_inclusion_points"
"""The audit action of an aggregation run (at approval, or at once without four eyes)."""
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
    service: Service, principal: Principal, request_id: str, request: AggregationRequest
) -> Aggregated:
    """Without four eyes on issuance: aggregate at once, audited in the same commit; a key
    naming another request, and the registry's refusal, raise."""

    def work(tx: Transaction) -> tuple[Aggregated | Refusal | Problem, bool]:
        reused = idempotency.other_use(tx.store, request_id, None)
        if reused is not None:
            return reused, False
        result = aggregate(service, request)
        if isinstance(result, Aggregated):
            audit.record(tx.store, tx.now, principal, AGGREGATE_ACTION, request.aggregation_id, {})
        return result, isinstance(result, Aggregated)

    done = service.ledger.transact(work)
    if isinstance(done, Problem):
        raise done
    if isinstance(done, Refusal):
        raise commands.failures_problem(done.failures)
    return done


def run_approved(
    service: Service, tx: Transaction, principal: Principal, approval: approvals.Approval
) -> dict[str, Any]:
    """Within the approving transaction: run the aggregation and audit it as the approver's;
    a refusal raises (nothing is kept, the approval stays pending)."""
    request = request_of(approval.payload)
    result = aggregate(service, request)
    if isinstance(result, Refusal):
        raise commands.failures_problem(result.failures)
    detail = {"requested_by": approval.requested_by, "journal_seq": result.journal_seq}
    audit.record(tx.store, tx.now, principal, AGGREGATE_ACTION, request.aggregation_id, detail)
    outcome: dict[str, Any] = result.to_record()
    return outcome
