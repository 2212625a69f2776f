"""Moving units: transfers, retirements (with beneficiary) and direct issuance.

Transfers and retirements are instructions of an account's representatives; a transfer of at
least the policy's quantity, and every direct issuance, waits for a second person (202 with the
pending approval). The same Idempotency-Key again returns the first outcome."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Response
from pydantic import BaseModel, Field, StrictInt

from carbonex.ledger import (
    Command,
    Issue,
    Refused,
    Retire,
    Selection,
    SerialRange,
    Transaction,
    Transfer,
    UnitAttributes,
)
from carbonex.ledger.limits import QUANTITY_MAX, SERIAL_MAX
from carbonex.ledger.model import CATEGORIES
from carbonex.service import approvals, commands, idempotency
from carbonex.service.deps import IdempotencyKey, Service, ServiceDep, WriterDep, command_id
from carbonex.service.idempotency import Use
from carbonex.service.identity import Principal, Role
from carbonex.service.problems import Problem, denied

router = APIRouter(tags=["units"])
SERIAL_RANGES_PER_REQUEST_MAX = 1_000
Text = Annotated[str, Field(min_length=1, max_length=1000)]
Id = Annotated[str, Field(min_length=1, max_length=64)]
Serial = Annotated[StrictInt, Field(ge=1, le=SERIAL_MAX)]
"""Numbers are JSON numbers (StrictInt): lax validation reads true as 1 and "5" as 5."""


class Units(BaseModel):
    """Which units: a quantity (lowest serials first, optionally filtered) or serial ranges."""

    unit_type: str = Field(min_length=1, max_length=32, examples=["VCU"])
    quantity: StrictInt | None = Field(default=None, ge=1, le=QUANTITY_MAX)
    serial_ranges: list[tuple[Serial, Serial]] = Field(
        default_factory=list, max_length=SERIAL_RANGES_PER_REQUEST_MAX
    )
    vintage_year: StrictInt | None = Field(default=None, ge=1900, le=2200)
    project_id: str | None = Field(default=None, max_length=200)

    def selection(self) -> Selection:
        return Selection(
            self.unit_type,
            quantity=self.quantity,
            serial_ranges=tuple(SerialRange(first, last) for first, last in self.serial_ranges),
            vintage_year=self.vintage_year,
            project_id=self.project_id,
        )


class TransferIn(Units):
    from_account_id: Id
    to_account_id: Id


class RetirementIn(Units):
    account_id: Id
    beneficiary: Text
    purpose: Text
    claim_period_start: dt.date | None = None
    claim_period_end: dt.date | None = None


class IssuanceIn(BaseModel):
    account_id: Id
    quantity: StrictInt = Field(ge=1, le=QUANTITY_MAX)
    unit_type: str = Field(min_length=1, max_length=32)
    standard: Text
    project_id: Text
    vintage_start: dt.date
    vintage_end: dt.date
    host_country: str = Field(min_length=2, max_length=2)
    methodology: str = Field(default="", max_length=1000)
    category: str = Field(default="avoidance", pattern="^(" + "|".join(sorted(CATEGORIES)) + ")$")


def _pending(
    service: Service,
    principal: Principal,
    command: Command,
    account_id: str | None,
    response: Response,
) -> dict[str, Any]:
    """Record the command as a pending approval (202), or return the one already recorded.
    A new request is first tried on the ledger and rolled back, so that one the ledger would
    refuse now is refused at once instead of waiting for a second person in vain."""
    payload = command.to_record()

    def trial(tx: Transaction) -> tuple[approvals.Approval | Refused | Problem | None, bool]:
        reused = idempotency.other_use(tx.store, command.command_id, Use.APPROVAL)
        if reused is not None:
            return reused, False
        approval = approvals.load(tx.store, command.command_id)
        if approval is not None:
            return approval, False
        outcome = tx.submit(command)
        return (outcome if isinstance(outcome, Refused) else None), False

    found = commands.transact(service, trial)  # never kept
    if isinstance(found, Refused):
        raise commands.refusal_problem(found)

    pending = approvals.PendingRequest(
        command.command_id, approvals.LEDGER_COMMAND, payload, approvals.summary_of(command),
        account_id,
    )  # fmt: skip
    approval = found or commands.queue_approval(
        service, principal, pending, f"request_{command.kind}", command.command_id
    )
    if approval.payload != payload or approval.requested_by != principal.user_id:
        raise idempotency.key_reused()
    response.status_code = 202
    return {"pending_approval": approval.to_record()}


@router.post("/transfers", status_code=201, responses=approvals.PENDING_RESPONSE)
async def transfer(
    body: TransferIn,
    key: IdempotencyKey,
    response: Response,
    service: ServiceDep,
    principal: WriterDep,
) -> dict[str, Any]:
    """Transfer units between accounts (from an account you represent)."""
    if not principal.represents(body.from_account_id):
        raise denied(f"you do not represent account {body.from_account_id}")
    command = Transfer(
        command_id(principal, key), body.from_account_id, body.to_account_id, body.selection()
    )
    if approvals.transfer_needs_second_person(service.policy, command):
        return _pending(service, principal, command, body.from_account_id, response)
    return commands.accepted_record(commands.run(service, principal, command))


@router.post("/retirements", status_code=201)
async def retire(
    body: RetirementIn, key: IdempotencyKey, service: ServiceDep, principal: WriterDep
) -> dict[str, Any]:
    """Retire units for a beneficiary: a claim, final and public."""
    if not principal.represents(body.account_id):
        raise denied(f"you do not represent account {body.account_id}")
    command = Retire(
        command_id(principal, key), body.account_id, body.selection(), body.beneficiary,
        body.purpose, body.claim_period_start, body.claim_period_end,
    )  # fmt: skip
    return commands.accepted_record(commands.run(service, principal, command))


@router.post("/issuances", status_code=202, responses=approvals.EXECUTED_RESPONSE)
async def issue(
    body: IssuanceIn,
    key: IdempotencyKey,
    response: Response,
    service: ServiceDep,
    principal: WriterDep,
) -> dict[str, Any]:
    """Issue units directly (registry administrators); waits for a second administrator."""
    if not principal.has(Role.REGISTRY_ADMINISTRATOR):
        raise denied("registry administrators only")
    attributes = UnitAttributes(
        body.unit_type, body.standard, body.project_id, body.vintage_start, body.vintage_end,
        body.host_country, body.methodology, body.category,
    )  # fmt: skip
    command = Issue(command_id(principal, key), body.account_id, body.quantity, attributes)
    if service.policy.four_eyes_issuance:
        return _pending(service, principal, command, None, response)
    response.status_code = 201
    return commands.accepted_record(commands.run(service, principal, command))
