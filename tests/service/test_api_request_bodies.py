"""Request bodies the service refuses, writing nothing: bodies past their size limit (413
E_REQUEST_TOO_LARGE, read no further than the limit), and bodies it cannot read: bytes that are
not UTF-8, numbers of thousands of digits and nesting deeper than Python parses are malformed
requests, refused with E_REQUEST_INVALID like any JSON that does not decode."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from carbonex.service.body_limit import (
    REQUEST_BODY_BYTES_MAX,
    TOO_LARGE_CODE,
    UPLOAD_BODY_BYTES_MAX,
    BodyLimit,
)
from carbonex.service.routes.inclusion import ACTIONS_PER_REVIEW_MAX
from tests.service.conftest import SignIn, WithKey
from tests.service.support import API, key, nothing_changes, problem

VERRA_EXPORT = Path(__file__).parents[1] / "imports" / "fixtures" / "vcus_singapore.csv"
CHUNK_BYTES = 16 * 1024

TRANSFER_START = b'{"from_account_id": "MERLION-DEV", "to_account_id": "SKYWAYS-AIR", '
UNREADABLE_BODIES = {
    "not UTF-8": (TRANSFER_START + b'"unit_type": "VCU\xff\xfe", "quantity": 5}', "not UTF-8"),
    "5,000 digits": (TRANSFER_START + b'"unit_type": "VCU", "quantity": ' + b"9" * 5_000 + b"}",
                     "cannot be read"),
    "100,000 deep": (b"[" * 100_000 + b"]" * 100_000, "nests too deeply"),
}  # fmt: skip


@pytest.mark.parametrize("name", UNREADABLE_BODIES)
def test_a_body_that_cannot_be_parsed_is_refused_as_malformed(
    with_key: WithKey, demo_database: str, name: str
) -> None:
    body, reason = UNREADABLE_BODIES[name]
    merlion = with_key("merlion")
    headers = key("t1") | {"Content-Type": "application/json"}
    with nothing_changes(demo_database):
        answer = merlion.post(f"{API}/transfers", content=body, headers=headers)
    refused = problem(answer, 422, "E_REQUEST_INVALID")
    assert reason in refused["failures"][0]["message"]


def chunks(total_bytes: int) -> Iterator[bytes]:
    """A body sent in pieces, without a Content-Length (chunked)."""
    for _ in range(0, total_bytes, CHUNK_BYTES):
        yield b" " * CHUNK_BYTES


def test_a_body_declared_past_the_limit_is_refused_unread_before_signing_in(
    public: TestClient, demo_database: str
) -> None:
    body = b'{"user_id": "merlion", "password": "' + b"x" * REQUEST_BODY_BYTES_MAX + b'"}'
    with nothing_changes(demo_database):
        answer = public.post(f"{API}/session", content=body,
                             headers={"Content-Type": "application/json"})  # fmt: skip
    refused = problem(answer, 413, TOO_LARGE_CODE)
    assert f"{REQUEST_BODY_BYTES_MAX:,} bytes" in refused["detail"]
    assert answer.headers["connection"] == "close"


def test_a_body_streamed_past_the_limit_is_refused_and_nothing_is_written(
    with_key: WithKey, demo_database: str
) -> None:
    merlion = with_key("merlion")
    headers = key("t1") | {"Content-Type": "application/json"}
    with nothing_changes(demo_database):
        answer = merlion.post(f"{API}/transfers", content=chunks(2 * REQUEST_BODY_BYTES_MAX),
                              headers=headers)  # fmt: skip
    assert "content-length" not in answer.request.headers
    problem(answer, 413, TOO_LARGE_CODE)


def test_the_largest_legitimate_request_fits_within_the_limit(with_key: WithKey) -> None:
    longest_ids = [f"{number:0128d}" for number in range(ACTIONS_PER_REVIEW_MAX)]
    body = json.dumps({"action_ids": longest_ids, "reject": False}, indent=4).encode()
    assert REQUEST_BODY_BYTES_MAX / 2 < len(body) < REQUEST_BODY_BYTES_MAX
    answer = with_key("vera").post(f"{API}/inclusion/reviews", content=body,
                                   headers={"Content-Type": "application/json"})  # fmt: skip
    problem(answer, 409, "E_UNKNOWN_ACTION")


def test_an_upload_may_pass_the_json_limit_up_to_the_import_limit(
    with_key: WithKey, demo_database: str
) -> None:
    admin = with_key("admin")
    header = VERRA_EXPORT.read_bytes().splitlines(keepends=True)[0]
    junk = {"file": ("junk.csv", header + b"x\n" * REQUEST_BODY_BYTES_MAX, "text/csv")}
    with nothing_changes(demo_database):
        answer = admin.post(f"{API}/imports/verra", files=junk, headers=key("i1"))
        problem(answer, 422, "E_IMPORT_REFUSED")
        declared = key("i2") | {"Content-Length": str(UPLOAD_BODY_BYTES_MAX + 1),
                                "Content-Type": "multipart/form-data; boundary=b"}  # fmt: skip
        answer = admin.post(f"{API}/imports/verra", content=b"--b--", headers=declared)
        problem(answer, 413, TOO_LARGE_CODE)


async def _read_whole_body(scope: Scope, receive: Receive, send: Send) -> None:
    body = await Request(scope, receive).body()
    await Response(f"read {len(body)} bytes")(scope, receive, send)


def test_a_streamed_body_is_read_no_further_than_the_limit() -> None:
    limit_bytes, pieces_read, sent = 10 * CHUNK_BYTES, [0], []

    async def client_sends() -> Message:
        pieces_read[0] += 1
        return {"type": "http.request", "body": b" " * CHUNK_BYTES, "more_body": True}

    async def client_receives(message: Message) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/", "headers": [], "query_string": b""}
    limited = BodyLimit(_read_whole_body, lambda _path: limit_bytes)
    asyncio.run(limited(scope, client_sends, client_receives))  # an endless body
    assert pieces_read[0] == limit_bytes // CHUNK_BYTES + 1
    assert sent[0]["status"] == 413 and TOO_LARGE_CODE.encode() in sent[1]["body"]


def test_a_form_its_parser_refuses_is_a_malformed_request_with_its_code(
    with_key: WithKey, signed_in: SignIn, demo_database: str
) -> None:
    # Starlette answers such a form with a bare HTTP 400, which was E_HTTP: a code that says
    # nothing, where every other malformed request is 422 E_REQUEST_INVALID.
    fields = {f"field{number}": "x" for number in range(1_001)}  # the parser takes 1,000
    admin, merlion = with_key("admin"), signed_in("merlion")
    form = {"csrf_token": merlion.headers["X-CSRF-Token"], "idempotency_key": "k1",
            "unit_type": "VCU", "quantity": "5", "beneficiary": "B", "purpose": "P"}  # fmt: skip
    with nothing_changes(demo_database):
        answer = admin.post(
            f"{API}/imports/verra", data=fields, files={"file": ("a.csv", b"x")},
            headers=key("i1"),
        )  # fmt: skip
        refused = problem(answer, 422, "E_REQUEST_INVALID")
        assert "Too many fields" in refused["failures"][0]["message"]
        page = merlion.post("/accounts/MERLION-DEV/retire", data=form,
                            files={"file": ("a.csv", b"x")})  # fmt: skip
        refused = problem(page, 422, "E_REQUEST_INVALID")
        assert "Too many files" in refused["failures"][0]["message"]
