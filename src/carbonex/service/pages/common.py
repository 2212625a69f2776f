"""What every page shares: the templates, rendering with security headers, who is looking, the
CSRF and idempotency fields of forms, notices, and the two page errors (sign in first; an error
page with its stable code)."""

from __future__ import annotations

import datetime as dt
import hmac
import re
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from starlette.datastructures import FormData

from carbonex.service import charts
from carbonex.service.deps import IDEMPOTENCY_KEY_PATTERN, PrincipalDep, ServiceDep
from carbonex.service.identity import Principal, Role
from carbonex.service.pages import reads
from carbonex.service.problems import Problem

TEMPLATES_DIR = Path(__file__).parent.parent / "templates"
LOGIN_PATH = "/login"
CSRF_FIELD = "csrf_token"
IDEMPOTENCY_FIELD = "idempotency_key"
FORM_FIELDS_MAX = 40
FORM_VALUE_LENGTH_MAX = 2_000
VALIDATION_MESSAGES_MAX = 20
HTMX_REQUEST_HEADER = "hx-request"
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_IDEMPOTENCY_KEY = re.compile(IDEMPOTENCY_KEY_PATTERN)
ROLE_TITLES = {
    Role.REGISTRY_ADMINISTRATOR: "Registry administrator",
    Role.ACCOUNT_HOLDER: "Account holder",
    Role.VERIFICATION_BODY: "Validation/verification body",
    Role.STANDARD_ADMINISTRATOR: "Standard administrator",
    Role.NATIONAL_AUTHORITY: "National authority",
    Role.EXCHANGE_MEMBER: "Exchange member",
    Role.AUDITOR: "Auditor",
}


def _thousands(value: Any) -> str:
    return f"{value:,}" if isinstance(value, int) else str(value)


def _when(value: Any) -> str:
    """An ISO timestamp as `YYYY-MM-DD HH:MM UTC`."""
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _path_segment(value: Any) -> str:
    return quote(str(value), safe="")


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        thousands=_thousands, when=_when, path_segment=_path_segment, compact=charts.compact
    )
    env.globals.update(new_idempotency_key=lambda: uuid.uuid4().hex, role_titles=ROLE_TITLES)
    return env


templates = Jinja2Templates(env=_environment())


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is looking at a page: a signed-in user, or the public."""

    principal: Principal
    display_name: str

    @property
    def signed_in(self) -> bool:
        return not self.principal.is_public

    @property
    def csrf_token(self) -> str:
        return self.principal.csrf_token

    @property
    def may_import(self) -> bool:
        return self.principal.has(Role.REGISTRY_ADMINISTRATOR)

    @property
    def role_names(self) -> list[str]:
        return sorted(ROLE_TITLES.get(role, str(role)) for role in self.principal.roles)


class SignInRequiredError(Exception):
    """The page is for signed-in users: answered with a redirect to the sign-in page."""


class PageError(Exception):
    """An error page (403, 404, ...) showing a stable code and message."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


async def get_viewer(request: Request, service: ServiceDep, principal: PrincipalDep) -> Viewer:
    """Who is looking; kept on the request for the error pages' header too."""
    name = "" if principal.is_public else reads.display_name(service.ledger, principal.user_id)
    viewer = Viewer(principal, name)
    request.state.viewer = viewer
    return viewer


ViewerDep = Annotated[Viewer, Depends(get_viewer)]


async def get_signed_in(viewer: ViewerDep) -> Viewer:
    if not viewer.signed_in:
        raise SignInRequiredError
    return viewer


SignedInDep = Annotated[Viewer, Depends(get_signed_in)]


@dataclass(frozen=True, slots=True)
class Notice:
    """The outcome of a form, shown above the page: success, pending or error lines."""

    kind: str  # success | pending | error
    title: str
    lines: list[dict[str, str]] = field(default_factory=list)


def problem_notice(problem: Problem, title: str = "Refused; nothing changed") -> Notice:
    lines = [
        {"code": str(item.get("code", problem.code)), "message": str(item.get("message", ""))}
        for item in problem.failures
    ]
    return Notice("error", title, lines or [{"code": problem.code, "message": problem.detail}])


def invalid_notice(error: ValidationError) -> Notice:
    lines = [
        {
            "code": "E_REQUEST_INVALID",
            "message": f"{'.'.join(str(p) for p in item['loc']) or 'form'}: {item['msg']}",
        }
        for item in error.errors()[:VALIDATION_MESSAGES_MAX]
    ]
    return Notice("error", "The form is not valid; nothing changed", lines)


def render(
    request: Request,
    viewer: Viewer,
    template: str,
    context: dict[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    page = {"viewer": viewer, "path": request.url.path, "notice": None} | context
    response = templates.TemplateResponse(request, template, page, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def safe_next(target: str | None) -> str:
    """A local path to return to after signing in; anything else goes to the dashboard."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return "/"
    return target


def text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip()[:FORM_VALUE_LENGTH_MAX] if isinstance(value, str) else ""


def optional(form: FormData, name: str) -> str | None:
    return text(form, name) or None


def kept_values(form: FormData) -> dict[str, str]:
    """The form's values to show again after a refusal (never the security fields)."""
    hidden = {CSRF_FIELD, IDEMPOTENCY_FIELD, "password"}
    return {name: text(form, name) for name in form if name not in hidden}


def check_csrf(viewer: Viewer, form: FormData) -> None:
    sent = form.get(CSRF_FIELD)
    valid = (
        viewer.principal.via == "session"
        and isinstance(sent, str)
        and bool(sent)
        and hmac.compare_digest(sent.encode(), viewer.csrf_token.encode())
    )
    if not valid:
        raise PageError(
            403, "E_CSRF_TOKEN_INVALID", "The form is out of date or was not sent from this site."
        )


async def signed_form(request: Request, viewer: Viewer) -> FormData:
    """The posted form, once its CSRF token matches the session's."""
    form = await request.form(max_files=0, max_fields=FORM_FIELDS_MAX)
    check_csrf(viewer, form)
    return form


def idempotency_key(form: FormData) -> str:
    key = form.get(IDEMPOTENCY_FIELD)
    if not isinstance(key, str) or not _IDEMPOTENCY_KEY.match(key):
        raise PageError(422, "E_IDEMPOTENCY_KEY_INVALID", "The form lacks its idempotency key.")
    return key


def _error_page(request: Request, error: PageError) -> Response:
    viewer = getattr(request.state, "viewer", None)
    context = {"request": request, "viewer": viewer, "path": request.url.path, "error": error}
    response = templates.TemplateResponse(request, "error.html", context, error.status)
    response.headers.update(SECURITY_HEADERS)
    return response


def _sign_in_redirect(request: Request) -> Response:
    back = request.url.path if request.method == "GET" else "/"
    if request.method == "GET" and request.url.query:
        back = f"{back}?{request.url.query}"
    target = f"{LOGIN_PATH}?next={quote(back, safe='')}"
    if request.headers.get(HTMX_REQUEST_HEADER):
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


def install_handlers(app: FastAPI) -> None:
    @app.exception_handler(SignInRequiredError)
    async def on_sign_in_required(request: Request, _error: SignInRequiredError) -> Response:
        return _sign_in_redirect(request)

    @app.exception_handler(PageError)
    async def on_page_error(request: Request, error: PageError) -> Response:
        return _error_page(request, error)
