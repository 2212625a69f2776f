"""No cache keeps a private API answer: every API answer but the public explorer's says
`Cache-Control: no-store`, whoever asked and however it ended (an error, a refused body)."""

from __future__ import annotations

import httpx
import pytest
from fastapi.testclient import TestClient

from carbonex.service.body_limit import REQUEST_BODY_BYTES_MAX
from carbonex.service.demo import DEMO_PASSWORD
from tests.service.conftest import SignIn, WithKey
from tests.service.support import API, ok

DEVELOPER = "MERLION-DEV"
PRIVATE_READS = (
    "/me",
    "/accounts",
    f"/accounts/{DEVELOPER}",
    f"/accounts/{DEVELOPER}/holdings",
    f"/accounts/{DEVELOPER}/statement",
    f"/accounts/{DEVELOPER}/representatives",
    "/approvals",
)
EXPLORER_READS = (
    "/explorer/summary",
    "/explorer/issuances",
    "/explorer/retirements",
    "/explorer/serials/VERRA/VCU/1",
)


def is_never_stored(answer: httpx.Response) -> bool:
    return answer.headers.get("cache-control") == "no-store"


@pytest.mark.parametrize("path", PRIVATE_READS)
def test_a_holders_private_reads_are_never_stored_by_session_or_api_key(
    signed_in: SignIn, with_key: WithKey, path: str
) -> None:
    for client in (signed_in("merlion"), with_key("merlion")):
        answer = client.get(f"{API}{path}")
        assert answer.status_code == 200, answer.text
        assert is_never_stored(answer), answer.headers


def test_the_csrf_token_and_a_new_api_key_are_never_stored(
    public: TestClient, signed_in: SignIn
) -> None:
    session = public.post(f"{API}/session", json={"user_id": "merlion", "password": DEMO_PASSWORD})
    assert ok(session, 201)["csrf_token"] and is_never_stored(session)
    wrong = public.post(f"{API}/session", json={"user_id": "merlion", "password": "wrong"})
    assert wrong.status_code == 401 and is_never_stored(wrong)
    merlion = signed_in("merlion")
    created = merlion.post(f"{API}/api-keys", json={"label": "scripts"})
    assert ok(created, 201)["api_key"] and is_never_stored(created)


def test_refusals_are_never_stored_either(public: TestClient, signed_in: SignIn) -> None:
    assert is_never_stored(public.get(f"{API}/me"))  # 401
    forbidden = signed_in("skyways").get(f"{API}/accounts/{DEVELOPER}/holdings")
    assert forbidden.status_code == 403 and is_never_stored(forbidden)
    too_large = public.post(f"{API}/session", content=b" " * (REQUEST_BODY_BYTES_MAX + 1),
                            headers={"Content-Type": "application/json"})  # fmt: skip
    assert too_large.status_code == 413 and is_never_stored(too_large)


@pytest.mark.parametrize("path", EXPLORER_READS)
def test_the_public_explorers_answers_may_be_cached(public: TestClient, path: str) -> None:
    answer = public.get(f"{API}{path}")
    assert answer.status_code == 200, answer.text
    assert "cache-control" not in answer.headers
