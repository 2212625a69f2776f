"""Errors as RFC 9457 problem details (`application/problem+json`) carrying stable codes.

A refusal by the ledger or the project registry keeps its ordered failures, each with the code
the CLI prints; denials and malformed requests get codes of their own. Nothing else leaks: an
unexpected exception is a 500 with no detail beyond its code."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from carbonex.ledger import DamagedLedgerError

PROBLEM_TYPE_BASE = "https://carbonex.dev/problems/"
MEDIA_TYPE = "application/problem+json"
VALIDATION_ERRORS_MAX = 20
BAD_REQUEST = 400
"""What FastAPI and Starlette answer a body they cannot parse with; answered as 422 here."""
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail", "instance", "code", "failures"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "code": {"type": "string", "description": "Stable code, e.g. E_UNITS_NOT_HELD."},
        "failures": {
            "type": "array",
            "description": "Every failure, in precedence order (a ledger refusal's checks).",
            "items": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
            },
        },
        "failures_total": {
            "type": "integer",
            "description": "How many failures there were, when `failures` lists the first few.",
        },
    },
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {
        "description": "A refusal, a denial or a malformed request (RFC 9457 problem details).",
        "content": {MEDIA_TYPE: {"schema": PROBLEM_SCHEMA}},
    }
}
"""For the OpenAPI document: what every API operation may answer besides its success."""


class Problem(Exception):  # noqa: N818 (RFC 9457 calls it a problem)
    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        failures: Sequence[dict[str, Any]] = (),
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.failures = list(failures)
        self.headers = headers
        self.extensions = extensions or {}
        """Members RFC 9457 lets a problem type add (`failures_total`)."""

    def to_record(self, instance: str) -> dict[str, Any]:
        return {
            "type": PROBLEM_TYPE_BASE + self.code,
            "title": self.code,
            "status": self.status,
            "detail": self.detail,
            "instance": instance,
            "code": self.code,
            "failures": self.failures,
        } | self.extensions


def refused(
    code: str, detail: str, failures: Sequence[dict[str, Any]], status: int = 409
) -> Problem:
    """A command the rules refused: 409 for state conflicts, 422 for malformed content."""
    return Problem(status, code, detail, failures)


def denied(detail: str = "you may not do this") -> Problem:
    return Problem(403, "E_FORBIDDEN", detail)


def unauthenticated() -> Problem:
    return Problem(
        401,
        "E_UNAUTHENTICATED",
        "sign in or send an API key",
        headers={"WWW-Authenticate": "Bearer"},
    )


def not_found(what: str) -> Problem:
    return Problem(404, "E_NOT_FOUND", f"{what} not found")


UNREADABLE_BODY_REASONS: dict[type[BaseException], str] = {
    UnicodeDecodeError: "it is not UTF-8",
    RecursionError: "it nests too deeply",
}
"""Why a body that FastAPI could not parse was unreadable, by the error it raised: the JSON
decoder raises these for bytes that are not UTF-8 and for nesting past Python's recursion limit."""


def unreadable_body(cause: BaseException) -> Problem:
    """A body FastAPI could not parse (it answers those with a 400 raised from the parser's
    error): malformed, like JSON that does not decode. Other parser errors are values it cannot
    read, such as an integer longer than Python converts (4,300 digits)."""
    reason = next(
        (text for kind, text in UNREADABLE_BODY_REASONS.items() if isinstance(cause, kind)),
        "it holds a value that cannot be read (a number of thousands of digits, say)",
    )
    failure = {"code": "E_REQUEST_INVALID", "message": f"the body cannot be parsed: {reason}"}
    return Problem(422, "E_REQUEST_INVALID", "the request is malformed", [failure])


def invalid_request(errors: Sequence[Mapping[str, Any]]) -> Problem:
    """Values that fail their model's validation (pydantic's `errors()`): each named with its
    location, at most VALIDATION_ERRORS_MAX of them."""
    failures = [
        {"code": "E_REQUEST_INVALID", "message": str(item.get("msg", "")),
         "location": [str(part) for part in item.get("loc", ())]}
        for item in errors[:VALIDATION_ERRORS_MAX]
    ]  # fmt: skip
    return Problem(422, "E_REQUEST_INVALID", "the request is malformed", failures)


def unreadable_form(reason: str) -> Problem:
    """A form Starlette's parser refused with a bare 400 (too many fields or files, a part
    whose headers are too long): malformed, like a body that cannot be parsed."""
    failure = {"code": "E_REQUEST_INVALID", "message": f"the form cannot be read: {reason}"}
    return Problem(422, "E_REQUEST_INVALID", "the request is malformed", [failure])


def _response(problem: Problem, request: Request) -> JSONResponse:
    return JSONResponse(
        problem.to_record(request.url.path),
        status_code=problem.status,
        media_type=MEDIA_TYPE,
        headers=problem.headers,
    )


def install(app: FastAPI) -> None:
    """Every error the app can raise, answered as problem+json."""

    @app.exception_handler(Problem)
    async def on_problem(request: Request, problem: Problem) -> JSONResponse:
        return _response(problem, request)

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return _response(invalid_request(error.errors()), request)

    @app.exception_handler(StarletteHTTPException)
    async def on_http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        if error.status_code == BAD_REQUEST and error.__cause__ is not None:
            return _response(unreadable_body(error.__cause__), request)
        if error.status_code == BAD_REQUEST:
            return _response(unreadable_form(str(error.detail)), request)
        code = {404: "E_NOT_FOUND", 405: "E_METHOD_NOT_ALLOWED"}.get(error.status_code, "E_HTTP")
        headers = dict(error.headers) if error.headers else None
        problem = Problem(error.status_code, code, str(error.detail), headers=headers)
        return _response(problem, request)  # the headers keep a 405's Allow

    @app.exception_handler(DamagedLedgerError)
    async def on_damaged(request: Request, error: DamagedLedgerError) -> JSONResponse:
        problem = Problem(
            503,
            "E_LEDGER_DAMAGED",
            f"{error}; nothing was applied, and nothing will be until an operator repairs it "
            "(carbonex verify names what is wrong)",
        )
        return _response(problem, request)

    @app.exception_handler(Exception)
    async def on_bug(request: Request, _error: Exception) -> JSONResponse:
        return _response(
            Problem(500, "E_INTERNAL", "an internal error; nothing was applied"), request
        )
