"""Signing in and out (cookie sessions), who am I, and API keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, Field

from carbonex.ledger import Transaction
from carbonex.service import audit, identity
from carbonex.service.deps import (
    SESSION_COOKIE,
    ServiceDep,
    SessionWriterDep,
    UserDep,
    WriterDep,
    session_required,
)
from carbonex.service.identity import IdentityError, Principal
from carbonex.service.problems import Problem, not_found

router = APIRouter(tags=["session"])


class SignIn(BaseModel):
    user_id: str = Field(min_length=1, max_length=identity.USER_ID_LENGTH_MAX)
    password: str = Field(min_length=1, max_length=identity.PASSWORD_LENGTH_MAX)


class NewApiKey(BaseModel):
    label: str = Field(default="", max_length=200)


def principal_record(principal: Principal) -> dict[str, Any]:
    return {
        "user_id": principal.user_id,
        "roles": sorted(principal.roles),
        "accounts": sorted(principal.accounts),
        "via": principal.via,
    }


def sign_in(service: ServiceDep, user_id: str, password: str) -> tuple[str, str]:
    """Check the password and open a session: (token, CSRF token). A failure is committed (it
    counts towards the lockout) and raised as a 401."""
    now = service.now()

    def work(tx: Transaction) -> tuple[tuple[str, str] | IdentityError, bool]:
        try:
            identity.check_password(tx.store, user_id, password, now, service.policy)
        except IdentityError as error:
            return error, True
        return identity.open_session(tx.store, user_id, now, service.policy), True

    result = service.ledger.transact(work)
    if isinstance(result, IdentityError):
        raise Problem(401, result.code, str(result))
    return result


def set_session_cookie(response: Response, service: ServiceDep, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=service.policy.session_lifetime_minutes * 60,
        httponly=True,
        secure=service.cookie_secure,
        samesite="lax",
        path="/",
    )


@router.post("/session", status_code=201)
async def open_session(body: SignIn, response: Response, service: ServiceDep) -> dict[str, Any]:
    """Sign in: sets an HttpOnly session cookie; send `csrf_token` as X-CSRF-Token on writes."""
    token, csrf_token = sign_in(service, body.user_id, body.password)
    set_session_cookie(response, service, token)
    return {"user_id": body.user_id, "csrf_token": csrf_token}


@router.delete("/session", status_code=204)
async def close_session(
    request: Request, response: Response, service: ServiceDep, principal: WriterDep
) -> None:
    """Sign out: the session ends on the server too."""
    token = request.cookies.get(SESSION_COOKIE)
    if principal.via == "session" and token:

        def work(tx: Transaction) -> tuple[None, bool]:
            identity.close_session(tx.store, token)
            return None, True

        service.ledger.transact(work)
    response.delete_cookie(SESSION_COOKIE, path="/")


@router.get("/me")
async def me(principal: UserDep) -> dict[str, Any]:
    """Who the request acts as: roles and represented accounts."""
    return principal_record(principal)


@router.post("/api-keys", status_code=201)
async def create_api_key(
    body: NewApiKey, service: ServiceDep, principal: SessionWriterDep
) -> dict[str, str]:
    """A new API key for scripts; the whole key is shown only in this answer. Only a signed-in
    session (with its CSRF token) may make one: a request sent with an API key is refused
    (403 E_SESSION_REQUIRED)."""

    def work(tx: Transaction) -> tuple[tuple[str, str] | IdentityError, bool]:
        try:
            key_id, key = identity.create_api_key(tx.store, principal.user_id, body.label, tx.now)
        except IdentityError as error:
            return error, False
        audit.record(tx.store, tx.now, principal, "create_api_key", key_id, {"label": body.label})
        return (key_id, key), True

    result = service.ledger.transact(work)
    if isinstance(result, IdentityError):
        raise Problem(409, result.code, str(result))
    return {"key_id": result[0], "api_key": result[1]}


@router.delete("/api-keys/{key_id}", status_code=204)
async def revoke_api_key(
    key_id: Annotated[str, Path(max_length=32)], service: ServiceDep, principal: WriterDep
) -> None:
    """Revoke one of your API keys. A request sent with an API key may revoke that key only:
    revoking another needs a signed-in session (403 E_SESSION_REQUIRED), so a leaked key
    cannot revoke its owner's other keys."""
    if principal.via == "api_key" and key_id != principal.api_key_id:
        raise session_required(
            f"revoke API key {key_id}: a request sent with a key revokes it only"
        )

    def work(tx: Transaction) -> tuple[bool, bool]:
        revoked = identity.revoke_api_key(tx.store, principal.user_id, key_id, tx.now)
        if revoked:
            audit.record(tx.store, tx.now, principal, "revoke_api_key", key_id, {})
        return revoked, revoked

    if not service.ledger.transact(work):
        raise not_found(f"API key {key_id}")
