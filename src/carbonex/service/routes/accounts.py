"""Accounts: list, open, show, holdings, statement, freeze and unfreeze.

Registry administrators, auditors and national authorities see every account; anybody else
sees only the accounts they represent. Opening, freezing and unfreezing are for registry
administrators."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from carbonex.ledger import FreezeAccount, OpenAccount, Transaction, UnfreezeAccount
from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX
from carbonex.service import audit, commands, idempotency, identity
from carbonex.service.deps import (
    DEFAULT_PAGE_SIZE,
    IdempotencyKey,
    Limit,
    ServiceDep,
    UserDep,
    WriterDep,
    command_id,
)
from carbonex.service.identity import READ_EVERYTHING, IdentityError, Principal, Role
from carbonex.service.problems import Problem, denied, not_found

router = APIRouter(prefix="/accounts", tags=["accounts"])
AccountId = Annotated[str, Path(min_length=1, max_length=64)]
ADD_REPRESENTATIVE = idempotency.ADD_REPRESENTATIVE


class NewAccount(BaseModel):
    account_id: str = Field(min_length=1, max_length=64)
    kind: str = Field(min_length=1, max_length=32, examples=["company_holding"])
    holder: str = Field(min_length=1, max_length=1000)
    registry: str = Field(default="CARBONEX", min_length=1, max_length=32)


class Reason(BaseModel):
    reason: str = Field(min_length=1, max_length=1000)


def _readable(principal: Principal, account_id: str) -> None:
    if not principal.may_read_account(account_id):
        raise denied(f"you do not represent account {account_id}")


def _administrator(principal: Principal) -> None:
    if not principal.has(Role.REGISTRY_ADMINISTRATOR):
        raise denied("registry administrators only")


@router.get("")
async def list_accounts(
    service: ServiceDep,
    principal: UserDep,
    limit: Limit = DEFAULT_PAGE_SIZE,
    after: Annotated[str, Query(max_length=64)] = "",
) -> list[dict[str, Any]]:
    """Accounts in id order, after `after`; only those you may read."""
    if principal.has(*READ_EVERYTHING):
        return service.ledger.accounts(limit, after)
    ids = sorted(a for a in principal.accounts if a > after)[:limit]
    found = (service.ledger.account(account_id) for account_id in ids)
    return [account for account in found if account is not None]


@router.post("", status_code=201)
async def open_account(
    body: NewAccount, key: IdempotencyKey, service: ServiceDep, principal: WriterDep
) -> dict[str, Any]:
    _administrator(principal)
    command = OpenAccount(
        command_id(principal, key), body.account_id, body.kind, body.holder, body.registry
    )
    return commands.accepted_record(commands.run(service, principal, command))


@router.get("/{account_id}")
async def show_account(
    account_id: AccountId, service: ServiceDep, principal: UserDep
) -> dict[str, Any]:
    _readable(principal, account_id)
    account = service.ledger.account(account_id)
    if account is None:
        raise not_found(f"account {account_id}")
    return account


@router.get("/{account_id}/holdings")
async def holdings(
    account_id: AccountId, service: ServiceDep, principal: UserDep
) -> list[dict[str, Any]]:
    """What the account holds, grouped by unit type, project, vintage and state."""
    _readable(principal, account_id)
    return service.ledger.holdings(account_id)


@router.get("/{account_id}/statement")
async def statement(
    account_id: AccountId,
    service: ServiceDep,
    principal: UserDep,
    limit: Limit = DEFAULT_PAGE_SIZE,
    after_seq: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    after_position: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
) -> list[dict[str, Any]]:
    """Movements in and out of the account, oldest first, after journal entry `after_seq`
    (or, with `after_position`, after that line of the entry: one entry may move more ranges
    than a page holds, so the next page starts after the last line's seq and position)."""
    _readable(principal, account_id)
    return service.ledger.statement(account_id, limit, after_seq, after_position)


def _status_change(
    account_id: str,
    freeze: bool,
    body: Reason,
    key: str,
    service: ServiceDep,
    principal: Principal,
) -> dict[str, Any]:
    _administrator(principal)
    kind = FreezeAccount if freeze else UnfreezeAccount
    command = kind(command_id(principal, key), account_id, body.reason)
    return commands.accepted_record(commands.run(service, principal, command))


@router.post("/{account_id}/freeze")
async def freeze(
    account_id: AccountId,
    body: Reason,
    key: IdempotencyKey,
    service: ServiceDep,
    principal: WriterDep,
) -> dict[str, Any]:
    return _status_change(account_id, True, body, key, service, principal)


@router.post("/{account_id}/unfreeze")
async def unfreeze(
    account_id: AccountId,
    body: Reason,
    key: IdempotencyKey,
    service: ServiceDep,
    principal: WriterDep,
) -> dict[str, Any]:
    return _status_change(account_id, False, body, key, service, principal)


class Representative(BaseModel):
    user_id: str = Field(min_length=1, max_length=64)


@router.get("/{account_id}/representatives")
async def representatives(
    account_id: AccountId, service: ServiceDep, principal: UserDep
) -> list[str]:
    """Who may give instructions for the account."""
    _readable(principal, account_id)
    rows = service.ledger.read(
        lambda store: store.query(
            "SELECT user_id FROM account_representatives WHERE account_id = ? "
            "ORDER BY user_id LIMIT ?",
            (account_id, QUERY_PAGE_SIZE_MAX),
        )
    )
    return [str(row[0]) for row in rows]


@router.post("/{account_id}/representatives", status_code=201)
async def add_representative(
    account_id: AccountId,
    body: Representative,
    key: IdempotencyKey,
    service: ServiceDep,
    principal: WriterDep,
) -> dict[str, str]:
    """Authorize a user to act for the account (registry administrators). Naming a
    representative again changes nothing and writes no second audit entry; the same key again
    returns the first outcome, and with another user or account is refused."""
    _administrator(principal)

    def work(tx: Transaction) -> tuple[IdentityError | Problem | None, bool]:
        earlier = idempotency.audited_use(tx.store, principal, (ADD_REPRESENTATIVE,), key)
        if isinstance(earlier, idempotency.Audited):
            same = (earlier.target, earlier.detail.get("user_id")) == (account_id, body.user_id)
            return (None if same else idempotency.key_reused()), False
        if earlier is not None:
            return earlier, False
        if tx.store.query_one(
            "SELECT 1 FROM account_representatives WHERE user_id = ? AND account_id = ?",
            (body.user_id, account_id),
        ):
            return None, False
        try:
            identity.add_representative(tx.store, body.user_id, account_id)
        except IdentityError as error:
            return error, False
        detail = {"user_id": body.user_id, "idempotency_key": key}
        audit.record(tx.store, tx.now, principal, ADD_REPRESENTATIVE, account_id, detail)
        return None, True

    error = commands.transact(service, work)
    if error is not None:
        raise Problem(404 if error.code == "E_ACCOUNT_UNKNOWN" else 422, error.code, str(error))
    return {"account_id": account_id, "user_id": body.user_id}
