"""An account's page: holdings, statement, and for its representatives the transfer and retire
forms. The forms run the API's own transfer and retirement (same checks, four-eyes rule for
large transfers, audit); a refusal shows its stable codes and changes nothing."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from carbonex.service.deps import Service, ServiceDep
from carbonex.service.pages import reads
from carbonex.service.pages.common import (
    Notice,
    PageError,
    SignedInDep,
    Viewer,
    idempotency_key,
    invalid_notice,
    kept_values,
    optional,
    problem_notice,
    render,
    signed_form,
    text,
)
from carbonex.service.problems import Problem
from carbonex.service.routes import units

router = APIRouter(prefix="/accounts")
AccountId = Annotated[str, Path(min_length=1, max_length=64)]
Seq = Annotated[int | None, Query(ge=0, le=2**63 - 1)]
STATEMENT_LINES = 25
NUMBER_SEPARATORS = str.maketrans("", "", ", _")


def _statement(
    service: Service, account_id: str, after_seq: int | None, after_position: int | None
) -> dict[str, Any]:
    """The latest movements (newest first), or a page from `after_seq` (oldest first)."""
    if after_seq is None:
        lines = reads.recent_movements(service.ledger, account_id, STATEMENT_LINES)
        return {"statement": lines, "statement_latest": True, "statement_next": None}
    lines = service.ledger.statement(account_id, STATEMENT_LINES, after_seq, after_position)
    following = lines[-1] if len(lines) == STATEMENT_LINES else None
    return {"statement": lines, "statement_latest": False, "statement_next": following}


def account_context(
    service: Service,
    viewer: Viewer,
    account_id: str,
    after_seq: int | None = None,
    after_position: int | None = None,
) -> dict[str, Any]:
    if not viewer.principal.may_read_account(account_id):
        raise PageError(403, "E_FORBIDDEN", f"You do not represent account {account_id}.")
    account = service.ledger.account(account_id)
    if account is None:
        raise PageError(404, "E_NOT_FOUND", f"There is no account {account_id}.")
    holdings = service.ledger.holdings(account_id)
    active = [h for h in holdings if h["state"] == "active" and not h["on_hold"]]
    return {
        "account": account,
        "holdings": holdings,
        "units_held": reads.quantities_by_metric(service.ledger, active),
        "unit_types": sorted({h["unit_type"] for h in active}),
        "projects": sorted({h["project_id"] for h in active}),
        "may_instruct": viewer.principal.represents(account_id) and account["status"] == "open",
        "four_eyes_min": service.policy.four_eyes_transfer_quantity_min,
        "nav": "dashboard",
    } | _statement(service, account_id, after_seq, after_position)


def _page(
    request: Request,
    service: Service,
    viewer: Viewer,
    account_id: str,
    notice: Notice | None = None,
    status_code: int = 200,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    context = account_context(service, viewer, account_id)
    context |= {"notice": notice, "values": values or {}}
    return render(request, viewer, "account.html", context, status_code)


@router.get("/{account_id}")
async def account_page(
    account_id: AccountId,
    request: Request,
    service: ServiceDep,
    viewer: SignedInDep,
    after_seq: Seq = None,
    after_position: Seq = None,
) -> HTMLResponse:
    context = account_context(service, viewer, account_id, after_seq, after_position)
    return render(request, viewer, "account.html", context | {"values": {}})


def _whole_number(value: str | None) -> int | str | None:
    """A form's text as the number the API's strict fields take; anything but ASCII digits is
    left as text, for the API's validation to refuse."""
    return int(value) if value and value.isascii() and value.isdigit() else value


def _units(form: FormData) -> dict[str, Any]:
    quantity = text(form, "quantity").translate(NUMBER_SEPARATORS)
    return {
        "unit_type": text(form, "unit_type"),
        "quantity": _whole_number(quantity or None),
        "vintage_year": _whole_number(optional(form, "vintage_year")),
        "project_id": optional(form, "project_id"),
    }


def _accepted_notice(what: str, result: dict[str, Any]) -> Notice:
    again = " (this form was already sent: nothing new was applied)" if result["duplicate"] else ""
    line = {"code": "ACCEPTED", "message": f"Journal entry #{result['seq']}{again}."}
    return Notice("success", f"{what} accepted", [line])


def _pending_notice(result: dict[str, Any]) -> Notice:
    pending = result["pending_approval"]
    message = (
        f"{pending['summary']}: waits for a second authorized person to approve it "
        f"(approval {pending['approval_id']})."
    )
    return Notice("pending", "Pending approval", [{"code": "PENDING_APPROVAL", "message": message}])


async def _transfer(
    service: Service, viewer: Viewer, account_id: str, form: FormData
) -> dict[str, Any]:
    body = units.TransferIn.model_validate(
        _units(form) | {"from_account_id": account_id, "to_account_id": text(form, "to_account_id")}
    )
    key = idempotency_key(form)
    return await units.transfer(body, key, Response(), service, viewer.principal)


async def _retire(
    service: Service, viewer: Viewer, account_id: str, form: FormData
) -> dict[str, Any]:
    body = units.RetirementIn.model_validate(
        _units(form)
        | {
            "account_id": account_id,
            "beneficiary": text(form, "beneficiary"),
            "purpose": text(form, "purpose"),
            "claim_period_start": optional(form, "claim_period_start"),
            "claim_period_end": optional(form, "claim_period_end"),
        }
    )
    return await units.retire(body, idempotency_key(form), service, viewer.principal)


Instruction = Callable[[Service, Viewer, str, FormData], Awaitable[dict[str, Any]]]


async def _instruct(
    request: Request,
    service: Service,
    viewer: Viewer,
    account_id: str,
    instruction: Instruction,
    notice_of: Callable[[dict[str, Any]], Notice],
) -> HTMLResponse:
    """Check the form's CSRF token, run the instruction, show the account with its outcome."""
    form = await signed_form(request, viewer)
    try:
        result = await instruction(service, viewer, account_id, form)
    except ValidationError as error:
        notice, status = invalid_notice(error), 422
    except Problem as problem:
        notice, status = problem_notice(problem), problem.status
    else:
        return _page(request, service, viewer, account_id, notice_of(result))
    return _page(request, service, viewer, account_id, notice, status, kept_values(form))


def _transfer_notice(result: dict[str, Any]) -> Notice:
    if "pending_approval" in result:
        return _pending_notice(result)
    return _accepted_notice("Transfer", result)


@router.post("/{account_id}/transfer")
async def transfer(
    account_id: AccountId, request: Request, service: ServiceDep, viewer: SignedInDep
) -> HTMLResponse:
    """Transfer from this account; at or above the four-eyes quantity it waits for approval."""
    return await _instruct(request, service, viewer, account_id, _transfer, _transfer_notice)


@router.post("/{account_id}/retire")
async def retire(
    account_id: AccountId, request: Request, service: ServiceDep, viewer: SignedInDep
) -> HTMLResponse:
    """Retire units from this account for a beneficiary: final and public."""
    return await _instruct(
        request, service, viewer, account_id, _retire,
        lambda result: _accepted_notice("Retirement", result),
    )  # fmt: skip
