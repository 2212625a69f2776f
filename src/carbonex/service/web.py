"""The web interface: server-rendered pages (Jinja2, autoescaped) enhanced with htmx, and the
static files (the stylesheet and the vendored htmx) at /static. No JavaScript build step and
nothing loaded from another site.

    /                          dashboard: holdings, recent activity, charts
    /login, /logout            signing in and out (cookie session)
    /accounts/{id}             holdings, statement, transfer and retire forms
    /approvals                 the four-eyes queue
    /projects, /projects/{id}  particulars, lifecycle with document hashes, monitoring reports
    /import                    Verra CSV import with a progress bar (registry administrators)
    /explorer...               the public explorer: projects, issuances, retirements, serials

The pages live in `carbonex.service.pages`; every write runs the REST API's own code."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from carbonex.service.pages import (
    accounts,
    approvals,
    common,
    dashboard,
    explorer,
    imports,
    projects,
    session,
)

STATIC_PATH = "/static"
PAGE_MODULES = (session, dashboard, accounts, approvals, projects, explorer, imports)


def pages_router() -> APIRouter:
    router = APIRouter(include_in_schema=False)
    for module in PAGE_MODULES:
        router.include_router(module.router)
    return router


def install(app: FastAPI, static_dir: Path) -> None:
    app.include_router(pages_router())
    app.mount(STATIC_PATH, StaticFiles(directory=static_dir), name="static")
    common.install_handlers(app)
