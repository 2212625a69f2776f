"""Schemathesis against the app's own OpenAPI document: every operation, called by the public,
by a registry administrator and by an account holder (with API keys), never answers with a
server error, and every answer conforms to the document: its status, content type, headers and
schema (errors are problem+json under 4XX), and a 405 names the allowed methods.

CARBONEX_HYPOTHESIS_PROFILE=ci generates more examples per operation and, on SQLite, adds
Schemathesis' coverage phase (boundary values, missing and malformed parameters, unexpected
methods); on PostgreSQL that phase would double the time for what SQLite already covers."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, note, settings
from schemathesis.checks import CheckFunction
from schemathesis.python import asgi
from schemathesis.specs.openapi.schemas import OpenApiSchema

from carbonex.service.app import create_app
from tests.service.conftest import new_api_key

PROFILE = os.environ.get("CARBONEX_HYPOTHESIS_PROFILE", "dev")
EXAMPLES = {"dev": 10, "ci": 25}[PROFILE]
CALLERS = ("public", "admin", "merlion")
CHECKS: list[CheckFunction] = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
    schemathesis.checks.unsupported_method,
]
# Not checked: negative_data_rejection, since the API parses like FastAPI does by default
# (lax: a JSON number is accepted for a date, as days since 1970), and positive_data_acceptance,
# since valid requests are refused for good reasons (not your account, units not held).


@pytest.fixture
def callers(demo_database: str) -> dict[str, dict[str, str]]:
    """The headers of each caller: none for the public, an API key for the others."""
    keys = {user: new_api_key(demo_database, user) for user in CALLERS if user != "public"}
    return {"public": {}} | {user: {"Authorization": f"Bearer {key}"} for user, key in keys.items()}


@pytest.fixture
def api_app(demo_database: str) -> Iterator[FastAPI]:
    app = create_app(demo_database)
    yield app
    asgi.shutdown_lifespans()  # Schemathesis keeps the app's lifespan (its ledger) open till then


@pytest.fixture
def api_schema(api_app: FastAPI, demo_database: str) -> OpenApiSchema:
    coverage = PROFILE == "ci" and not demo_database.startswith("postgresql")
    config = schemathesis.Config.from_dict({"phases": {"coverage": {"enabled": coverage}}})
    return schemathesis.openapi.from_asgi("/openapi.json", api_app, config=config)


schema = schemathesis.pytest.from_fixture("api_schema")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@schema.parametrize()
def test_every_operation_answers_every_caller_without_a_server_error_and_as_documented(
    case: schemathesis.Case[Any], callers: dict[str, dict[str, str]]
) -> None:
    for caller, headers in callers.items():
        note(f"called by {caller}")
        case.call_and_validate(headers=headers, checks=CHECKS)
