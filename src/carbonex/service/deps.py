"""What every route may ask for (`Annotated` dependencies): the service, who is asking, and
for writes, a CSRF check on cookie sessions and an idempotency key."""

from __future__ import annotations

import datetime as dt
import email.message
import hmac
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, Header, Query, Request

from carbonex.ledger import Ledger
from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX
from carbonex.projects.registry import ProjectRegistry
from carbonex.service import identity
from carbonex.service.identity import PUBLIC, Principal
from carbonex.service.policy import ServicePolicy
from carbonex.service.problems import Problem, unauthenticated

SESSION_COOKIE = "carbonex_session"
CSRF_HEADER = "X-CSRF-Token"
IDEMPOTENCY_KEY_LENGTH_MAX = 63
"""With a user id of at most 64 characters, `user:key` fits the ledger's 128-character ids."""
IDEMPOTENCY_KEY_PATTERN = r"^[A-Za-z0-9._~-]{1,63}$"
DEFAULT_PAGE_SIZE = 100
NUL = "\x00"


@dataclass
class Service:
    """One per worker process: the ledger (one connection), the registries over it, policy."""

    ledger: Ledger
    projects: ProjectRegistry
    policy: ServicePolicy
    cookie_secure: bool = True
    clock: Callable[[], dt.datetime] = field(default_factory=lambda: _utc_now)
    head_key: Ed25519PrivateKey | None = None
    """The key `GET /api/v1/heads/signed` signs the journal's head with (`serve --head-key`)."""

    def now(self) -> dt.datetime:
        return self.clock()


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _holds_nul(document: Any) -> bool:
    """Whether a parsed JSON document has a NUL in any string (walked without recursion: JSON
    may nest deeper than Python's recursion limit)."""
    pending = [document]
    while pending:
        value = pending.pop()
        if isinstance(value, str):
            if NUL in value:
                return True
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list):
            pending.extend(value)
    return False


def _json_holds_nul(body: bytes) -> bool:
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return False  # not JSON: the route refuses it
    return _holds_nul(document)


def _media_type(content_type: str) -> str:
    """The media type of a Content-Type header, as FastAPI reads it to choose a body's parser:
    parameters dropped, in lower case (it parses "Application/JSON" and every "+json" subtype
    as JSON, so the NUL check must read those too)."""
    message = email.message.Message()
    message["content-type"] = content_type
    return message.get_content_type() if content_type else ""


async def refuse_nul_characters(request: Request) -> None:
    """Refuse text holding NUL (U+0000) as a malformed request, in the path, the query, the
    headers and JSON or form bodies: PostgreSQL cannot store it in text columns, so it would
    otherwise fail deep in the store (and SQLite would keep what PostgreSQL cannot)."""
    texts = [request.url.path, *request.headers.values()]
    texts += [text for pair in request.query_params.multi_items() for text in pair]
    found = any(NUL in text for text in texts)
    media_type = _media_type(request.headers.get("content-type", ""))
    if not found and (media_type == "application/json" or media_type.endswith("+json")):
        found = _json_holds_nul(await request.body())
    elif not found and media_type == "application/x-www-form-urlencoded":
        body = await request.body()
        found = b"%00" in body or NUL.encode() in body  # the parser keeps a raw NUL byte too
    if found:
        failure = {"code": "E_REQUEST_INVALID", "message": "text may not contain NUL (U+0000)"}
        raise Problem(422, "E_REQUEST_INVALID", "the request is malformed", [failure])


async def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token:
        return token.strip()
    return request.headers.get("x-api-key")


async def get_principal(request: Request, service: ServiceDep) -> Principal:
    """API key (Authorization: Bearer, or X-API-Key), else the session cookie, else public."""
    key = _bearer(request)
    now = service.now()
    if key is not None:
        principal = service.ledger.read(
            lambda store: identity.api_key_principal(store, key), read_models=False
        )
        if principal is None:
            raise Problem(401, "E_API_KEY_INVALID", "the API key is unknown or revoked")
        return principal
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        found = service.ledger.read(
            lambda store: identity.session_principal(store, token, now), read_models=False
        )
        if found is not None:
            return found
    return PUBLIC


PrincipalDep = Annotated[Principal, Depends(get_principal)]


async def get_user(principal: PrincipalDep) -> Principal:
    if principal.is_public:
        raise unauthenticated()
    return principal


UserDep = Annotated[Principal, Depends(get_user)]


async def get_writer(request: Request, principal: UserDep) -> Principal:
    """A signed-in writer; a cookie session must echo its CSRF token in X-CSRF-Token."""
    if principal.via == "session":
        sent = request.headers.get(CSRF_HEADER, "")
        if not sent or not hmac.compare_digest(sent, principal.csrf_token):
            raise Problem(403, "E_CSRF_TOKEN_INVALID", f"send the session's {CSRF_HEADER}")
    return principal


WriterDep = Annotated[Principal, Depends(get_writer)]


async def get_session_writer(principal: WriterDep) -> Principal:
    """A writer signed in with a cookie session (its CSRF token checked), not an API key: for
    what a key must not do for itself, such as making API keys (a leaked key could otherwise
    make a successor and outlive its own revocation)."""
    if principal.via != "session":
        raise session_required("do this")
    return principal


def session_required(what: str) -> Problem:
    """403 E_SESSION_REQUIRED: `what` needs a password sign-in, not an API key."""
    return Problem(403, "E_SESSION_REQUIRED", f"sign in with a password to {what}")


SessionWriterDep = Annotated[Principal, Depends(get_session_writer)]

# Routes and dependencies are `async def` on purpose: the worker's one ledger connection is then
# used from the event loop's thread only, one request at a time (each is a short transaction);
# a server runs several worker processes for parallelism.
IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        pattern=IDEMPOTENCY_KEY_PATTERN,
        description="Client-chosen key: the same key again returns the first outcome.",
    ),
]
Limit = Annotated[int, Query(ge=1, le=QUERY_PAGE_SIZE_MAX, description="Page size.")]


def command_id(principal: Principal, key: str) -> str:
    """Idempotency keys are per user: two users may pick the same key."""
    return f"{principal.user_id}:{key}"
