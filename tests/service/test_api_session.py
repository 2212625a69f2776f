"""Signing in and out, who am I, and API keys: sessions are cookies with a CSRF token for
writes, API keys are stored hashed and revocable, and sign-in locks after repeated failures."""

from __future__ import annotations

import datetime as dt
import hashlib

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carbonex.ledger import Ledger, Transaction
from carbonex.service import identity
from carbonex.service.app import create_app
from carbonex.service.demo import DEMO_PASSWORD, DEMO_USERS, HOLDER
from carbonex.service.deps import SESSION_COOKIE
from carbonex.service.policy import load_policy
from tests.conftest import FixedClock
from tests.service.conftest import BASE_URL, SignIn, WithKey, new_api_key
from tests.service.support import (
    API,
    EVERYONE,
    SIGN_IN_TABLES,
    audit_log,
    every_table,
    nothing_changes,
    ok,
    problem,
)

POLICY = load_policy()


def sign_in(client: TestClient, user_id: str, password: str = DEMO_PASSWORD) -> httpx.Response:
    answer: httpx.Response = client.post(
        f"{API}/session", json={"user_id": user_id, "password": password}
    )
    return answer


def test_signing_in_sets_a_secure_http_only_cookie_and_answers_a_csrf_token(
    public: TestClient,
) -> None:
    answer = sign_in(public, "merlion")
    body = ok(answer, 201)
    assert body["user_id"] == "merlion" and len(body["csrf_token"]) >= 32
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    for attribute in ("HttpOnly", "Secure", "SameSite=lax", "Path=/"):
        assert attribute in cookie
    assert ok(public.get(f"{API}/me"))["via"] == "session"


def test_each_user_is_told_their_roles_and_the_accounts_they_represent(
    signed_in: SignIn,
) -> None:
    for user in DEMO_USERS:
        me = ok(signed_in(user.user_id).get(f"{API}/me"))
        assert me == {
            "user_id": user.user_id,
            "roles": sorted(user.roles),
            "accounts": sorted(user.accounts),
            "via": "session",
        }


def test_the_public_is_asked_to_sign_in(public: TestClient) -> None:
    answer = public.get(f"{API}/me")
    problem(answer, 401, "E_UNAUTHENTICATED")
    assert answer.headers["www-authenticate"] == "Bearer"


def test_a_wrong_password_and_an_unknown_user_are_refused_alike(
    public: TestClient, demo_database: str
) -> None:
    with nothing_changes(demo_database, ignoring=SIGN_IN_TABLES):
        problem(sign_in(public, "merlion", "not-the-password"), 401, "E_SIGN_IN_FAILED")
        problem(sign_in(public, "nobody", "not-the-password"), 401, "E_SIGN_IN_FAILED")
    assert SESSION_COOKIE not in public.cookies
    problem(public.get(f"{API}/me"), 401, "E_UNAUTHENTICATED")


def test_sign_in_locks_after_the_policys_failures_and_refuses_even_the_right_password(
    demo_database: str,
) -> None:
    clock = FixedClock(dt.datetime.now(dt.UTC))
    with TestClient(create_app(demo_database, clock=clock), base_url=BASE_URL) as client:
        for _ in range(POLICY.sign_in_failures_max - 1):
            problem(sign_in(client, "skyways", "wrong-password"), 401, "E_SIGN_IN_FAILED")
        ok(sign_in(client, "skyways"), 201)  # a success clears the count
        for _ in range(POLICY.sign_in_failures_max):
            problem(sign_in(client, "skyways", "wrong-password"), 401, "E_SIGN_IN_FAILED")
        problem(sign_in(client, "skyways"), 401, "E_SIGN_IN_FAILED")
        ok(sign_in(client, "amelia"), 201)  # the lockout is of one user
        clock.advance(minutes=POLICY.sign_in_lockout_minutes - 1)
        problem(sign_in(client, "skyways"), 401, "E_SIGN_IN_FAILED")
        clock.advance(minutes=1, seconds=1)
        assert ok(sign_in(client, "skyways"), 201)["user_id"] == "skyways"


def test_a_locked_user_is_answered_like_an_unknown_one_so_the_lockout_names_no_user(
    demo_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    verify = identity._verify

    def counted(password_hash: str, password: str) -> bool:
        checked.append(password_hash)
        return verify(password_hash, password)

    monkeypatch.setattr(identity, "_verify", counted)
    with TestClient(create_app(demo_database), base_url=BASE_URL) as client:
        for user_id in ("skyways", "nobody"):
            for _ in range(POLICY.sign_in_failures_max):
                sign_in(client, user_id, "wrong-password")
        checked.clear()
        with nothing_changes(demo_database):
            answers = [sign_in(client, user_id, password)
                       for user_id in ("skyways", "nobody")
                       for password in (DEMO_PASSWORD, "wrong-password")]  # fmt: skip
    bodies = [problem(answer, 401, "E_SIGN_IN_FAILED") for answer in answers]
    assert all(body | {"instance": ""} == bodies[0] | {"instance": ""} for body in bodies)
    assert len(checked) == len(answers)  # each as slow as a password check


def test_signing_out_ends_the_session_on_the_server_too(signed_in: SignIn) -> None:
    client = signed_in("merlion")
    token = client.cookies[SESSION_COOKIE]
    assert ok(client.delete(f"{API}/session"), 204) is None
    problem(client.get(f"{API}/me"), 401, "E_UNAUTHENTICATED")
    client.cookies.set(SESSION_COOKIE, token)  # the old cookie, kept by someone
    problem(client.get(f"{API}/me"), 401, "E_UNAUTHENTICATED")


def test_signing_out_needs_the_csrf_token_of_the_session(
    signed_in: SignIn, demo_database: str
) -> None:
    client = signed_in("merlion")
    with nothing_changes(demo_database):
        answer = client.delete(f"{API}/session", headers={"X-CSRF-Token": ""})
        problem(answer, 403, "E_CSRF_TOKEN_INVALID")
    assert ok(client.get(f"{API}/me"))["user_id"] == "merlion"


def test_an_api_key_is_shown_once_stored_hashed_and_acts_without_a_csrf_token(
    signed_in: SignIn, app: FastAPI, demo_database: str
) -> None:
    created = ok(signed_in("merlion").post(f"{API}/api-keys", json={"label": "scripts"}), 201)
    api_key, key_id = created["api_key"], created["key_id"]
    assert api_key.startswith(f"cbx_{key_id}_")
    secret = api_key.removeprefix(f"cbx_{key_id}_")
    rows = every_table(demo_database)
    assert not any(secret in row or api_key in row for table in rows.values() for row in table)
    with Ledger.open(demo_database) as ledger:
        stored = ledger.store.query_one(
            "SELECT user_id, secret_hash, label, revoked_at FROM api_keys WHERE key_id = ?",
            (key_id,),
        )
    assert stored == ("merlion", hashlib.sha256(secret.encode()).hexdigest(), "scripts", None)
    with TestClient(app, base_url=BASE_URL) as client:
        for header in ({"Authorization": f"Bearer {api_key}"}, {"X-API-Key": api_key}):
            me = ok(client.get(f"{API}/me", headers=header))
            assert (me["user_id"], me["via"]) == ("merlion", "api_key")


def test_an_api_key_may_not_make_another_so_a_leaked_key_dies_with_its_revocation(
    public: TestClient, demo_database: str
) -> None:
    key = new_api_key(demo_database, "merlion")
    with nothing_changes(demo_database):
        for header in ({"Authorization": f"Bearer {key}"}, {"X-API-Key": key}):
            answer = public.post(f"{API}/api-keys", json={}, headers=header)
            problem(answer, 403, "E_SESSION_REQUIRED")


def test_an_api_key_whose_label_holds_a_control_character_is_refused(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion = signed_in("merlion")
    with nothing_changes(demo_database, SIGN_IN_TABLES):
        answer = merlion.post(f"{API}/api-keys", json={"label": "scripts\x1b[8m"})
        refused = problem(answer, 409, "E_TEXT_CHARACTER_NOT_ALLOWED")
        assert "'label' holds U+001B" in refused["detail"]


def test_a_revoked_api_key_is_refused(
    signed_in: SignIn, with_key: WithKey, demo_database: str
) -> None:
    client, merlion = with_key("merlion"), signed_in("merlion")
    created = ok(merlion.post(f"{API}/api-keys", json={"label": "to revoke"}), 201)
    other = {"Authorization": f"Bearer {created['api_key']}"}
    assert ok(client.get(f"{API}/me", headers=other))["user_id"] == "merlion"
    assert ok(merlion.delete(f"{API}/api-keys/{created['key_id']}"), 204) is None
    problem(client.get(f"{API}/me", headers=other), 401, "E_API_KEY_INVALID")
    with nothing_changes(demo_database):
        problem(merlion.delete(f"{API}/api-keys/{created['key_id']}"), 404, "E_NOT_FOUND")
    assert ok(client.get(f"{API}/me"))["user_id"] == "merlion"  # the key it was sent with


def test_a_leaked_api_key_cannot_revoke_its_owners_other_keys(
    signed_in: SignIn, public: TestClient, demo_database: str
) -> None:
    # Changed: any of a user's keys revoked all the others, so a leaked key could lock its
    # owner's scripts out.
    created = ok(signed_in("merlion").post(f"{API}/api-keys", json={"label": "kept"}), 201)
    leaked = {"Authorization": f"Bearer {new_api_key(demo_database, 'merlion')}"}
    with nothing_changes(demo_database):
        for key_id in (created["key_id"], "0123456789abcdef"):
            answer = public.delete(f"{API}/api-keys/{key_id}", headers=leaked)
            refused = problem(answer, 403, "E_SESSION_REQUIRED")
            assert key_id in refused["detail"]
    kept = {"Authorization": f"Bearer {created['api_key']}"}
    assert ok(public.get(f"{API}/me", headers=kept))["user_id"] == "merlion"


def test_an_api_key_may_revoke_itself(public: TestClient, demo_database: str) -> None:
    key = new_api_key(demo_database, "merlion")
    key_id = key.split("_")[1]
    sent = {"Authorization": f"Bearer {key}"}
    assert ok(public.delete(f"{API}/api-keys/{key_id}", headers=sent), 204) is None
    problem(public.get(f"{API}/me", headers=sent), 401, "E_API_KEY_INVALID")
    assert audit_log(demo_database)[-1] == ("merlion", "api_key", "revoke_api_key", key_id)


def test_nobody_revokes_another_users_api_key(
    signed_in: SignIn, with_key: WithKey, demo_database: str
) -> None:
    merlion = with_key("merlion")
    created = ok(signed_in("merlion").post(f"{API}/api-keys", json={}), 201)
    others = [signed_in(user_id) for user_id in EVERYONE if user_id != "merlion"]
    with nothing_changes(demo_database):
        for other in others:
            problem(other.delete(f"{API}/api-keys/{created['key_id']}"), 404, "E_NOT_FOUND")
    again = {"Authorization": f"Bearer {created['api_key']}"}
    assert ok(merlion.get(f"{API}/me", headers=again))["user_id"] == "merlion"


def test_an_unknown_or_malformed_api_key_is_refused_not_taken_for_the_public(
    public: TestClient,
) -> None:
    for key in ("cbx_0123456789abcdef_not-a-secret", "cbx__", "garbage", "cbx_x"):
        answer = public.get(f"{API}/accounts", headers={"Authorization": f"Bearer {key}"})
        problem(answer, 401, "E_API_KEY_INVALID")
        problem(public.get(f"{API}/me", headers={"X-API-Key": key}), 401, "E_API_KEY_INVALID")


def test_api_keys_are_for_signed_in_users_and_cookie_sessions_need_the_csrf_token(
    public: TestClient, signed_in: SignIn, demo_database: str
) -> None:
    merlion = signed_in("merlion")
    key_id = ok(merlion.post(f"{API}/api-keys", json={}), 201)["key_id"]
    with nothing_changes(demo_database):
        problem(public.post(f"{API}/api-keys", json={}), 401, "E_UNAUTHENTICATED")
        problem(public.delete(f"{API}/api-keys/{key_id}"), 401, "E_UNAUTHENTICATED")
        for token in ("", "not-the-token"):
            csrf = {"X-CSRF-Token": token}
            answer = merlion.post(f"{API}/api-keys", json={}, headers=csrf)
            problem(answer, 403, "E_CSRF_TOKEN_INVALID")
            answer = merlion.delete(f"{API}/api-keys/{key_id}", headers=csrf)
            problem(answer, 403, "E_CSRF_TOKEN_INVALID")


def test_creating_and_revoking_api_keys_is_audited_with_the_actor(
    signed_in: SignIn, demo_database: str
) -> None:
    client = signed_in("amelia")
    key_id = ok(client.post(f"{API}/api-keys", json={"label": "x"}), 201)["key_id"]
    ok(client.delete(f"{API}/api-keys/{key_id}"), 204)
    assert audit_log(demo_database)[-2:] == [
        ("amelia", "session", "create_api_key", key_id),
        ("amelia", "session", "revoke_api_key", key_id),
    ]


NUL_SIGN_IN = b'{"user_id": "admin\\u0000", "password": "x"}'


def test_a_nul_in_a_body_of_any_json_media_type_is_refused_as_malformed(
    public: TestClient, demo_database: str
) -> None:
    # FastAPI parses a body as JSON for application/json in any case and for every +json
    # subtype: the NUL check must read each of them, or the NUL reaches PostgreSQL's text.
    for media_type in ("Application/JSON", "application/problem+json", "application/x.a+json"):
        with nothing_changes(demo_database):
            answer = public.post(
                f"{API}/session", content=NUL_SIGN_IN, headers={"Content-Type": media_type}
            )
        problem(answer, 422, "E_REQUEST_INVALID")


def test_a_user_id_ending_in_a_line_break_is_not_a_user_id(demo_database: str) -> None:
    # `$` matches before a final line break: USER_ID_PATTERN.match passed "bob\n"
    def work(tx: Transaction) -> tuple[str, bool]:
        try:
            identity.add_user(tx.store, "bob\n", "Bob", DEMO_PASSWORD, HOLDER, tx.now)
        except identity.IdentityError as error:
            return error.code, False
        return "added", True

    with nothing_changes(demo_database), Ledger.open(demo_database) as ledger:
        assert ledger.transact(work) == "E_USER_ID_INVALID"
