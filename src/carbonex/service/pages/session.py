"""Signing in and out. The sign-in form carries its own CSRF token (a cookie and a hidden field
that must match: there is no session yet), so another site cannot sign a browser in."""

from __future__ import annotations

import hmac
import secrets
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from carbonex.service import identity
from carbonex.service.deps import ServiceDep
from carbonex.service.pages.common import (
    CSRF_FIELD,
    FORM_FIELDS_MAX,
    LOGIN_PATH,
    Notice,
    SignedInDep,
    Viewer,
    ViewerDep,
    problem_notice,
    render,
    safe_next,
    signed_form,
    text,
)
from carbonex.service.problems import Problem, invalid_request
from carbonex.service.routes import session as session_api

router = APIRouter()
LOGIN_CSRF_COOKIE = "carbonex_login_csrf"
LOGIN_CSRF_LIFETIME_S = 3_600
Next = Annotated[str, Query(max_length=2_000)]


def _login_page(
    request: Request,
    service: ServiceDep,
    viewer: Viewer,
    target: str,
    user_id: str = "",
    notice: Notice | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    token = secrets.token_urlsafe(identity.TOKEN_BYTES)
    context = {"login_csrf": token, "next": target, "notice": notice, "user_id": user_id}
    response = render(request, viewer, "login.html", context, status_code)
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        max_age=LOGIN_CSRF_LIFETIME_S,
        httponly=True,
        secure=service.cookie_secure,
        samesite="strict",
        path=LOGIN_PATH,
    )
    return response


@router.get(LOGIN_PATH)
async def login_form(
    request: Request, service: ServiceDep, viewer: ViewerDep, next: Next = "/"
) -> Response:
    if viewer.signed_in:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, service, viewer, safe_next(next))


def _login_csrf_valid(request: Request, sent: str) -> bool:
    cookie = request.cookies.get(LOGIN_CSRF_COOKIE, "")
    return bool(cookie) and bool(sent) and hmac.compare_digest(cookie.encode(), sent.encode())


def _credentials(user_id: str, password: str) -> session_api.SignIn:
    """The form's user name and password, held to the API's limits: one past them is refused
    (422, nothing counted towards a lockout), never cut to fit, which let a password longer
    than the limit sign in with its first PASSWORD_LENGTH_MAX characters."""
    try:
        return session_api.SignIn(user_id=user_id, password=password)
    except ValidationError as error:
        raise invalid_request(error.errors()) from None


@router.post(LOGIN_PATH)
async def login(request: Request, service: ServiceDep, viewer: ViewerDep) -> Response:
    form = await request.form(max_files=0, max_fields=FORM_FIELDS_MAX)
    target = safe_next(text(form, "next"))
    # The user name as typed, never trimmed: the API refuses " merlion" (no user id holds a
    # space, USER_ID_PATTERN), and the page answers the same name the same way.
    entered, password = form.get("user_id"), form.get("password")
    user_id = entered if isinstance(entered, str) else ""
    try:
        if not _login_csrf_valid(request, text(form, CSRF_FIELD)):
            raise Problem(403, "E_CSRF_TOKEN_INVALID", "The sign-in form expired; try again.")
        if not isinstance(password, str) or not password or not user_id:
            raise Problem(401, "E_SIGN_IN_FAILED", "Enter your user name and password.")
        credentials = _credentials(user_id, password)
        token, _csrf = session_api.sign_in(service, credentials.user_id, credentials.password)
    except Problem as problem:
        notice = problem_notice(problem, "Not signed in")
        return _login_page(request, service, viewer, target, user_id, notice, problem.status)
    response = RedirectResponse(target, status_code=303)
    session_api.set_session_cookie(response, service, token)
    response.delete_cookie(LOGIN_CSRF_COOKIE, path=LOGIN_PATH)
    return response


@router.post("/logout")
async def logout(request: Request, service: ServiceDep, viewer: SignedInDep) -> Response:
    """Sign out: the session ends on the server too (the API's own sign-out)."""
    await signed_form(request, viewer)
    response = RedirectResponse(LOGIN_PATH, status_code=303)
    await session_api.close_session(request, response, service, viewer.principal)
    return response
