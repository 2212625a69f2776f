"""The ASGI application: `create_app()` for tests and `carbonex serve`.

    uvicorn --factory carbonex.service.app:app_from_environment

The API lives under /api/v1 (OpenAPI at /openapi.json, interactive docs at /docs); the web
pages at / and the public explorer at /explorer."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import Depends, FastAPI

from carbonex import __version__ as version
from carbonex.ledger import Ledger
from carbonex.ledger.signed_heads import load_private_key
from carbonex.projects.registry import ProjectRegistry
from carbonex.service import problems, web
from carbonex.service.body_limit import REQUEST_BODY_BYTES_MAX, UPLOAD_BODY_BYTES_MAX, BodyLimit
from carbonex.service.deps import Service, refuse_nul_characters
from carbonex.service.no_store import NoStoreApi
from carbonex.service.pages import imports as import_page
from carbonex.service.policy import ServicePolicy, load_policy
from carbonex.service.routes import (
    accounts,
    approvals,
    explorer,
    heads,
    health,
    imports,
    inclusion,
    projects,
    records,
    session,
    units,
)

API_PREFIX = "/api/v1"
PUBLIC_API_PREFIXES = (f"{API_PREFIX}{explorer.router.prefix}/",)
"""API answers that shared caches may keep: the public explorer's, the same for everybody.
Every other API answer is `Cache-Control: no-store` (see no_store.py)."""
STATIC_DIR = Path(__file__).parent / "static"
DATABASE_VARIABLE = "CARBONEX_DATABASE_URL"
HEAD_KEY_VARIABLE = "CARBONEX_HEAD_KEY_FILE"
"""The private key file `carbonex serve --head-key` names, for each worker to sign heads with."""
INSECURE_COOKIES_VARIABLE = "CARBONEX_INSECURE_COOKIES"
"""Set to 1 only to serve plain http to browsers that refuse Secure cookies there (browsers
treat localhost and 127.0.0.1 as secure, so the default works for local use)."""


def request_body_bytes_max(path: str) -> int:
    """Uploads (the API's imports and the import page) carry a file; other requests JSON or a
    form."""
    api_imports = f"{API_PREFIX}{imports.router.prefix}/"
    if path.startswith(api_imports) or path == import_page.router.prefix:
        return UPLOAD_BODY_BYTES_MAX
    return REQUEST_BODY_BYTES_MAX


def create_app(
    database: str | None = None,
    cookie_secure: bool = True,
    clock: Callable[[], dt.datetime] | None = None,
    policy: ServicePolicy | None = None,
    head_key: Ed25519PrivateKey | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        ledger = Ledger.open(database) if clock is None else Ledger.open(database, clock=clock)
        service = Service(ledger, ProjectRegistry(ledger), policy or load_policy(), cookie_secure)
        service.head_key = head_key
        if clock is not None:
            service.clock = clock
        app.state.service = service
        try:
            yield
        finally:
            ledger.close()

    app = FastAPI(
        title="Carbonex",
        version=version,
        description="A carbon-market registry: accounts, serialized units, projects and MRV, "
        "four-eyes approvals and a public explorer. Errors are RFC 9457 problem details "
        "carrying stable codes; every write takes an Idempotency-Key header.",
        lifespan=lifespan,
        dependencies=[Depends(refuse_nul_characters)],
    )
    app.add_middleware(BodyLimit, limit_of=request_body_bytes_max)
    # Added last, so outside BodyLimit: its 413s are marked too
    app.add_middleware(NoStoreApi, api_prefix=API_PREFIX, public_prefixes=PUBLIC_API_PREFIXES)
    problems.install(app)
    routes = (
        session,
        accounts,
        units,
        approvals,
        projects,
        inclusion,
        imports,
        explorer,
        records,
        health,
        heads,
    )
    for module in routes:
        app.include_router(module.router, prefix=API_PREFIX, responses=problems.RESPONSES)
    web.install(app, STATIC_DIR)
    return app


def app_from_environment() -> FastAPI:
    """The app `carbonex serve` runs in each worker, configured by environment variables."""
    insecure = os.environ.get(INSECURE_COOKIES_VARIABLE) == "1"
    key_file = os.environ.get(HEAD_KEY_VARIABLE)
    head_key = load_private_key(Path(key_file)) if key_file else None
    return create_app(
        os.environ.get(DATABASE_VARIABLE), cookie_secure=not insecure, head_key=head_key
    )
