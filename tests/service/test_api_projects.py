"""Projects: public to read; created by the proponent account's representatives; each step of
the cycle taken only by the role it belongs to; refusals carry the lifecycle's codes."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient

from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX
from tests.service.conftest import SignIn
from tests.service.support import (
    API,
    EVERYONE,
    audit_log,
    key,
    nothing_changes,
    ok,
    problem,
)

PROJECT = {"project_id": "A64-GH-0002", "standard": "A6.4M", "category": "avoidance",
           "name": "Kumasi Solar", "host_country": "GH", "methodology": "ACM0002",
           "proponent_account_id": "SOLAR-GH", "location": "6.6885,-1.6244"}  # fmt: skip
DOCUMENTS = [{"name": "pdd.pdf", "sha256": hashlib.sha256(b"pdd").hexdigest()}]
CREDITING = {"start": "2026-01-01", "end": "2031-01-01"}
ACTIONS = f"{API}/projects/{PROJECT['project_id']}/actions"
# Each step, who takes it, and who may not.
STEPS: tuple[tuple[dict[str, Any], str, tuple[str, ...]], ...] = (
    ({"action": "list", "documents": DOCUMENTS}, "merlion",
     ("skyways", "admin", "vera", "stan", "audrey", "nadia")),
    ({"action": "validate", "documents": DOCUMENTS}, "vera",
     ("merlion", "admin", "stan", "audrey", "nadia")),
    ({"action": "register", "documents": DOCUMENTS, "period": CREDITING}, "stan",
     ("merlion", "admin", "vera", "audrey", "nadia")),
)  # fmt: skip


def test_projects_are_public_to_read(public: TestClient) -> None:
    projects = ok(public.get(f"{API}/projects"))
    assert [p["project_id"] for p in projects] == ["A64-GH-0001"]
    project = ok(public.get(f"{API}/projects/A64-GH-0001"))
    assert project["state"] == "registered" and project["proponent_account_id"] == "SOLAR-GH"
    problem(public.get(f"{API}/projects/NO-SUCH-PROJECT"), 404, "E_NOT_FOUND")
    for limit in (0, QUERY_PAGE_SIZE_MAX + 1):
        problem(public.get(f"{API}/projects", params={"limit": limit}), 422, "E_REQUEST_INVALID")


def test_a_representative_of_the_proponent_account_creates_a_project(
    signed_in: SignIn, public: TestClient, demo_database: str
) -> None:
    created = ok(signed_in("merlion").post(f"{API}/projects", json=PROJECT, headers=key("p1")), 201)
    assert created["accepted"] and created["state"] == "draft"
    listed = ok(public.get(f"{API}/projects", params={"after": "A64-GH-0001"}))
    assert [p["project_id"] for p in listed] == ["A64-GH-0002"]
    assert audit_log(demo_database)[-1] == ("merlion", "session", "create_project", "A64-GH-0002")


def test_nobody_else_creates_a_project_for_the_account(
    public: TestClient, signed_in: SignIn, demo_database: str
) -> None:
    others = [signed_in(u) for u in EVERYONE if u not in ("merlion", "merlion2")]
    with nothing_changes(demo_database):
        for client in others:
            answer = client.post(f"{API}/projects", json=PROJECT, headers=key("p1"))
            problem(answer, 403, "E_FORBIDDEN")
        problem(public.post(f"{API}/projects", json=PROJECT, headers=key("p1")), 401,
                "E_UNAUTHENTICATED")  # fmt: skip


def test_a_refused_project_carries_the_registrys_codes(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion = signed_in("merlion")
    with nothing_changes(demo_database):
        existing = PROJECT | {"project_id": "A64-GH-0001"}
        answer = merlion.post(f"{API}/projects", json=existing, headers=key("p1"))
        problem(answer, 409, "E_PROJECT_EXISTS")
        unknown = PROJECT | {"standard": "NO-SUCH-STANDARD"}
        answer = merlion.post(f"{API}/projects", json=unknown, headers=key("p2"))
        problem(answer, 409, "E_STANDARD_UNKNOWN")
        problem(merlion.post(f"{API}/projects", json=PROJECT), 422, "E_REQUEST_INVALID")


def test_a_project_or_step_whose_free_text_holds_a_control_character_is_refused_naming_it(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion = signed_in("merlion")
    ok(merlion.post(f"{API}/projects", json=PROJECT, headers=key("p1")), 201)
    escaped = PROJECT | {"project_id": "A64-GH-0003", "name": "Kumasi\x1b]0;pwned\x07 Solar"}
    document = [{"name": "pdd\u202efdp.exe", "sha256": DOCUMENTS[0]["sha256"]}]
    with nothing_changes(demo_database):
        answer = merlion.post(f"{API}/projects", json=escaped, headers=key("p2"))
        refused = problem(answer, 409, "E_TEXT_CHARACTER_NOT_ALLOWED")
        assert "'details.name' holds U+001B" in refused["failures"][0]["message"]
        step = {"action": "list", "documents": document}
        answer = merlion.post(ACTIONS, json=step, headers=key("s1"))
        refused = problem(answer, 409, "E_TEXT_CHARACTER_NOT_ALLOWED")
        assert "'documents[0].name' holds U+202E" in refused["failures"][0]["message"]


def test_each_step_of_the_cycle_is_taken_by_its_role_and_refused_to_the_others(
    public: TestClient, signed_in: SignIn, demo_database: str
) -> None:
    ok(signed_in("merlion").post(f"{API}/projects", json=PROJECT, headers=key("p1")), 201)
    clients = {user_id: signed_in(user_id) for user_id in EVERYONE}
    for number, (step, allowed, denied) in enumerate(STEPS):
        with nothing_changes(demo_database):
            for user_id in denied:
                answer = clients[user_id].post(ACTIONS, json=step, headers=key(f"s{number}"))
                problem(answer, 403, "E_FORBIDDEN")
            answer = public.post(ACTIONS, json=step, headers=key(f"s{number}"))
            problem(answer, 401, "E_UNAUTHENTICATED")
        done = ok(clients[allowed].post(ACTIONS, json=step, headers=key(f"s{number}")), 201)
        assert done["accepted"]
        assert audit_log(demo_database)[-1][:3] == (allowed, "session", step["action"])
    assert ok(public.get(f"{API}/projects/A64-GH-0002"))["state"] == "registered"


def test_a_step_out_of_order_is_refused_with_the_lifecycles_code(
    signed_in: SignIn, demo_database: str
) -> None:
    ok(signed_in("merlion").post(f"{API}/projects", json=PROJECT, headers=key("p1")), 201)
    vera = signed_in("vera")
    with nothing_changes(demo_database):
        verify = {"action": "verify", "documents": DOCUMENTS, "quantity_t": 10}
        problem(vera.post(ACTIONS, json=verify, headers=key("v1")), 409, "E_ILLEGAL_TRANSITION")
        unknown = vera.post(f"{API}/projects/NOPE/actions", json=verify, headers=key("v2"))
        problem(unknown, 404, "E_NOT_FOUND")


def test_a_verified_quantity_sent_as_text_is_refused_as_malformed(
    signed_in: SignIn, demo_database: str
) -> None:
    ok(signed_in("merlion").post(f"{API}/projects", json=PROJECT, headers=key("p1")), 201)
    vera = signed_in("vera")
    with nothing_changes(demo_database):
        for quantity in ("10", True):
            verify = {"action": "verify", "documents": DOCUMENTS, "quantity_t": quantity}
            refused = problem(vera.post(ACTIONS, json=verify, headers=key("v1")), 422,
                              "E_REQUEST_INVALID")  # fmt: skip
            assert refused["failures"][0]["location"] == ["body", "quantity_t"]


def test_a_project_whose_id_holds_a_slash_is_reached_by_its_routes_and_its_page(
    signed_in: SignIn, public: TestClient
) -> None:
    merlion = signed_in("merlion")
    slashed = PROJECT | {"project_id": "VCS/77"}
    ok(merlion.post(f"{API}/projects", json=slashed, headers=key("p1")), 201)
    for path in ("VCS/77", "VCS%2F77"):
        assert ok(public.get(f"{API}/projects/{path}"))["project_id"] == "VCS/77"
    listed = ok(merlion.post(f"{API}/projects/VCS%2F77/actions", json=STEPS[0][0],
                             headers=key("l1")), 201)  # fmt: skip
    assert (listed["project_id"], listed["state"]) == ("VCS/77", "listed")
    page = public.get("/projects/VCS%2F77")
    assert page.status_code == 200 and "VCS/77" in page.text


def test_the_same_key_takes_a_step_once(signed_in: SignIn, demo_database: str) -> None:
    merlion = signed_in("merlion")
    ok(merlion.post(f"{API}/projects", json=PROJECT, headers=key("p1")), 201)
    first = ok(merlion.post(ACTIONS, json=STEPS[0][0], headers=key("l1")), 201)
    with nothing_changes(demo_database):
        again = ok(merlion.post(ACTIONS, json=STEPS[0][0], headers=key("l1")), 201)
        assert again["event_seq"] == first["event_seq"] and again["duplicate"]
        created_again = merlion.post(f"{API}/projects", json=PROJECT, headers=key("p1"))
        assert ok(created_again, 201)["duplicate"]
