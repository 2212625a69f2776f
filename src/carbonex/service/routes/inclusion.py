"""Carbon inclusion: actions recorded by platforms (account holders, registry administrators),
reviewed by verification bodies, aggregated into units in an aggregator's account by a registry
administrator once a second one approves (`inclusion_approvals`). Points and contributions are
public: people check them by their person id."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, BeforeValidator, Field, StrictBool

from carbonex.inclusion.results import Aggregated, Refusal
from carbonex.inclusion.service import AggregationRequest, InclusionRegistry
from carbonex.ledger import Transaction
from carbonex.service import approvals, audit, commands, inclusion_approvals
from carbonex.service.deps import (
    DEFAULT_PAGE_SIZE,
    IdempotencyKey,
    Limit,
    Service,
    ServiceDep,
    WriterDep,
    command_id,
)
from carbonex.service.identity import Principal, Role
from carbonex.service.problems import denied, not_found

router = APIRouter(prefix="/inclusion", tags=["carbon inclusion"])
Id = Annotated[str, Field(min_length=1, max_length=128)]
ACTIONS_PER_REVIEW_MAX = 1_000
DECIMAL_TEXT_PATTERN = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def plain_decimal(value: Any) -> Any:
    """A decimal as JSON carries one: a number, or a string of ASCII digits with an optional
    fraction. Python's Decimal also reads "١٢" (Arabic-Indic digits) as 12, " 5 " and "1E+5";
    pydantic refuses true itself."""
    if isinstance(value, str) and not DECIMAL_TEXT_PATTERN.fullmatch(value):
        raise ValueError('a JSON number or a string of ASCII digits, such as "12.5"')
    return value


Quantity = Annotated[
    Decimal, BeforeValidator(plain_decimal), Field(gt=0, max_digits=24, decimal_places=6)
]


class ActionIn(BaseModel):
    action_id: Id
    person_id: Id
    action_type: str = Field(min_length=1, max_length=64, examples=["transit_trip_km"])
    quantity: Quantity
    day: dt.date


class ReviewIn(BaseModel):
    action_ids: list[Id] = Field(min_length=1, max_length=ACTIONS_PER_REVIEW_MAX)
    reject: StrictBool = False


class AggregationIn(BaseModel):
    aggregation_id: Id
    aggregator_account_id: str = Field(min_length=1, max_length=64)
    period_start: dt.date
    period_end: dt.date
    project_id: Id
    host_country: str = Field(min_length=2, max_length=2)


def _audited(
    service: Service, principal: Principal, action: str, target: str, run: Any
) -> dict[str, Any]:
    """Run an inclusion call inside one transaction with its audit row; refusals raise."""

    def work(tx: Transaction) -> tuple[Any, bool]:
        result = run(InclusionRegistry(service.ledger))
        if isinstance(result, Refusal):
            return result, False
        audit.record(tx.store, tx.now, principal, action, target, {})
        return result, True

    result = service.ledger.transact(work)
    if isinstance(result, Refusal):
        raise commands.failures_problem(result.failures)
    record: dict[str, Any] = result.to_record()
    return record


@router.post("/actions", status_code=201)
async def record_action(
    body: ActionIn, service: ServiceDep, principal: WriterDep
) -> dict[str, Any]:
    """Record a low-carbon action (its points count once verified). The action id is the
    idempotency key."""
    if not principal.has(Role.ACCOUNT_HOLDER, Role.REGISTRY_ADMINISTRATOR):
        raise denied("carbon-inclusion platforms (account holders) and registry administrators")

    def run(registry: InclusionRegistry) -> Any:
        return registry.record(
            body.action_id, body.person_id, body.action_type, body.quantity, body.day
        )

    return _audited(service, principal, "record_inclusion_action", body.action_id, run)


@router.post("/reviews")
async def review(body: ReviewIn, service: ServiceDep, principal: WriterDep) -> dict[str, Any]:
    """Verify (or reject) recorded actions, all or nothing."""
    if not principal.has(Role.VERIFICATION_BODY):
        raise denied("validation and verification bodies only")
    verb = "reject" if body.reject else "verify"
    return _audited(
        service, principal, f"{verb}_inclusion_actions", ",".join(body.action_ids)[:500],
        lambda registry: getattr(registry, verb)(body.action_ids, principal.user_id),
    )  # fmt: skip


@router.post("/aggregations", status_code=202, responses=approvals.EXECUTED_RESPONSE)
async def aggregate(
    body: AggregationIn,
    key: IdempotencyKey,
    response: Response,
    service: ServiceDep,
    principal: WriterDep,
) -> dict[str, Any]:
    """Issue whole units for the period's verified points into the aggregator's account: an
    issuance of units from every platform's verified points, so the registry's to make, as
    direct issuance is (an account holder aggregated them into their own account), and held to
    four eyes as it is: 202 with the pending approval a second registry administrator decides.
    An aggregation made before with the same content answers 201 with its first result."""
    if not principal.has(Role.REGISTRY_ADMINISTRATOR):
        raise denied("registry administrators only: an aggregation issues units")
    request = AggregationRequest(
        body.aggregation_id, body.aggregator_account_id, body.period_start, body.period_end,
        body.project_id, body.host_country.upper(),
    )  # fmt: skip
    if not service.policy.four_eyes_issuance:
        response.status_code = 201
        done = inclusion_approvals.aggregate_now(service, principal, key, request)
        return done.to_record()
    found = inclusion_approvals.request_aggregation(
        service, principal, command_id(principal, key), request
    )
    if isinstance(found, Aggregated):  # made before: nothing to approve
        response.status_code = 201
        return found.to_record()
    return {"pending_approval": found.to_record()}


@router.get("/people/{person_id}/points")
async def points(
    person_id: Annotated[str, Path(min_length=1, max_length=128)], service: ServiceDep
) -> dict[str, Any]:
    """A person's points: available, pending and converted (public)."""
    balance: dict[str, Any] = InclusionRegistry(service.ledger).points(person_id).to_record()
    return balance


@router.get("/aggregations/{aggregation_id}")
async def aggregation(
    aggregation_id: Annotated[str, Path(min_length=1, max_length=128)],
    service: ServiceDep,
    limit: Limit = DEFAULT_PAGE_SIZE,
    after_person_id: Annotated[str, Query(max_length=128)] = "",
) -> dict[str, Any]:
    """An aggregation and a page of its contributions by person (public)."""
    registry = InclusionRegistry(service.ledger)
    found = registry.aggregation(aggregation_id)
    if found is None:
        raise not_found(f"aggregation {aggregation_id}")
    found["contributions"] = registry.contributions(aggregation_id, limit, after_person_id)
    return found
