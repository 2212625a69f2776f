"""Four eyes: a large transfer, a direct issuance and a project's issuance wait until a second
authorized person approves them; the requester never approves their own request, nobody
without the authority decides, and a refusal or a denial changes nothing."""

from __future__ import annotations

import hashlib
from typing import Any

from fastapi.testclient import TestClient

from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX
from tests.service.conftest import SignIn
from tests.service.support import (
    API,
    READERS_OF_EVERYTHING,
    audit_log,
    holding,
    journal_entries,
    key,
    nothing_changes,
    ok,
    problem,
)

SALE = "merlion:demo-large-sale"  # the demo's pending 20,000 VCU sale to SKYWAYS-AIR
SALE_QUANTITY = 20_000
DOCUMENTS = [{"name": "report.pdf", "sha256": hashlib.sha256(b"report").hexdigest()}]
FIRST_HALF_OF_2026 = {"start": "2026-01-01", "end": "2026-07-01"}  # ended: reports cover the past
MONITORING = {"action": "submit_monitoring_report", "documents": DOCUMENTS,
              "period": FIRST_HALF_OF_2026, "quantity_t": 50_000}  # fmt: skip
ISSUANCE = {"account_id": "VERRA-ISSUANCE", "quantity": 5_000, "unit_type": "VCU",
            "standard": "Verra VCS", "project_id": "VCS-9999", "vintage_start": "2024-01-01",
            "vintage_end": "2024-12-31", "host_country": "SG", "methodology": "AM0029"}  # fmt: skip


def approve(client: TestClient, approval_id: str) -> Any:
    return client.post(f"{API}/approvals/{approval_id}/approve")


def reject(client: TestClient, approval_id: str) -> Any:
    return client.post(f"{API}/approvals/{approval_id}/reject")


def vcs_1736(client: TestClient, account_id: str) -> int:
    return holding(ok(client.get(f"{API}/accounts/{account_id}/holdings")), "VCS-1736")


def pending_ids(client: TestClient, **params: Any) -> list[str]:
    return [a["approval_id"] for a in ok(client.get(f"{API}/approvals", params=params))]


def test_the_pending_sale_is_listed_to_those_who_may_see_it_and_marked_for_who_decides(
    signed_in: SignIn, public: TestClient
) -> None:
    for user_id, may_decide in (("merlion", False), ("merlion2", True), ("admin", False),
                                ("audrey", False), ("nadia", False)):  # fmt: skip
        listed = ok(signed_in(user_id).get(f"{API}/approvals"))
        assert [(a["approval_id"], a["you_may_decide"]) for a in listed] == [(SALE, may_decide)]
        assert listed[0]["request"]["selection"]["quantity"] == SALE_QUANTITY
    for user_id in ("skyways", "amelia", "rhein", "vera", "stan"):
        assert pending_ids(signed_in(user_id)) == []
    problem(public.get(f"{API}/approvals"), 401, "E_UNAUTHENTICATED")


def test_the_requester_cannot_approve_their_own_transfer(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion = signed_in("merlion")
    with nothing_changes(demo_database):
        body = problem(approve(merlion, SALE), 403, "E_FORBIDDEN")
        assert "requester" in body["detail"]
        problem(reject(merlion, SALE), 403, "E_FORBIDDEN")
    assert pending_ids(merlion) == [SALE]


def test_a_second_representative_approves_the_transfer_and_the_units_move(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion2, admin = signed_in("merlion2"), signed_in("admin")
    source, target = vcs_1736(admin, "MERLION-DEV"), vcs_1736(admin, "SKYWAYS-AIR")
    approved = ok(approve(merlion2, SALE))
    assert approved["status"] == "approved" and approved["outcome"]["command_id"] == SALE
    assert vcs_1736(admin, "MERLION-DEV") == source - SALE_QUANTITY
    assert vcs_1736(admin, "SKYWAYS-AIR") == target + SALE_QUANTITY
    assert journal_entries(demo_database, SALE) == 1
    assert pending_ids(merlion2) == []
    assert audit_log(demo_database)[-1] == ("merlion2", "session", "transfer", "MERLION-DEV")


def test_approving_again_returns_the_first_answer_and_nobody_decides_twice(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion2, merlion = signed_in("merlion2"), signed_in("merlion")
    first = ok(approve(merlion2, SALE))
    with nothing_changes(demo_database):
        assert ok(approve(merlion2, SALE)) == first
        problem(reject(merlion2, SALE), 409, "E_APPROVAL_DECIDED")
        problem(approve(merlion, SALE), 409, "E_APPROVAL_DECIDED")
    assert journal_entries(demo_database, SALE) == 1


def test_nobody_without_authority_over_the_account_decides_and_nothing_changes(
    public: TestClient, signed_in: SignIn, demo_database: str
) -> None:
    seeing = [signed_in(user_id) for user_id in ("admin", "admin2", "audrey", "nadia")]
    blind = [signed_in(user_id) for user_id in ("skyways", "amelia", "rhein", "vera", "stan")]
    with nothing_changes(demo_database):
        for decide in (approve, reject):
            for client in seeing:
                problem(decide(client, SALE), 403, "E_FORBIDDEN")
            for client in blind:  # they may not even see it
                problem(decide(client, SALE), 404, "E_NOT_FOUND")
            problem(decide(public, SALE), 401, "E_UNAUTHENTICATED")
            problem(decide(seeing[0], "merlion:no-such-approval"), 404, "E_NOT_FOUND")


def test_deciding_from_a_cookie_session_needs_its_csrf_token(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion2 = signed_in("merlion2")
    with nothing_changes(demo_database):
        for path in ("approve", "reject"):
            answer = merlion2.post(f"{API}/approvals/{SALE}/{path}", headers={"X-CSRF-Token": ""})
            problem(answer, 403, "E_CSRF_TOKEN_INVALID")


def test_a_rejected_transfer_never_runs(signed_in: SignIn, demo_database: str) -> None:
    merlion2, admin = signed_in("merlion2"), signed_in("admin")
    source = vcs_1736(admin, "MERLION-DEV")
    assert ok(reject(merlion2, SALE)) == {"approval_id": SALE, "status": "rejected"}
    with nothing_changes(demo_database):
        assert ok(reject(merlion2, SALE)) == {"approval_id": SALE, "status": "rejected"}
        problem(approve(merlion2, SALE), 409, "E_APPROVAL_DECIDED")
    assert vcs_1736(admin, "MERLION-DEV") == source
    assert journal_entries(demo_database, SALE) == 0
    assert audit_log(demo_database)[-1] == ("merlion2", "session", "reject_approval", SALE)


def test_an_approval_the_ledger_now_refuses_stays_pending_and_changes_nothing(
    signed_in: SignIn, demo_database: str
) -> None:
    admin, merlion2 = signed_in("admin"), signed_in("merlion2")
    freeze = admin.post(f"{API}/accounts/MERLION-DEV/freeze", json={"reason": "inquiry"},
                        headers=key("f1"))  # fmt: skip
    ok(freeze)
    with nothing_changes(demo_database):
        problem(approve(merlion2, SALE), 409, "E_ACCOUNT_FROZEN")
    assert pending_ids(merlion2) == [SALE]


def test_a_direct_issuance_is_approved_by_a_second_registry_administrator(
    signed_in: SignIn, public: TestClient, demo_database: str
) -> None:
    admin, admin2, merlion = signed_in("admin"), signed_in("admin2"), signed_in("merlion")
    ok(admin.post(f"{API}/issuances", json=ISSUANCE, headers=key("i1")), 202)
    with nothing_changes(demo_database):
        problem(approve(admin, "admin:i1"), 403, "E_FORBIDDEN")
        problem(approve(merlion, "admin:i1"), 404, "E_NOT_FOUND")
    approved = ok(approve(admin2, "admin:i1"))
    assert approved["outcome"]["accepted"]
    issued = ok(public.get(f"{API}/explorer/issuances", params={"project_id": "VCS-9999"}))
    assert [(i["quantity"], i["serial_space"]) for i in issued] == [(5_000, "VERRA/VCU")]
    assert audit_log(demo_database)[-1] == ("admin2", "session", "issue", "VERRA-ISSUANCE")


def test_every_reader_of_everything_sees_a_pending_direct_issuance_and_only_admin2_decides(
    signed_in: SignIn, demo_database: str
) -> None:
    ok(signed_in("admin").post(f"{API}/issuances", json=ISSUANCE, headers=key("i1")), 202)
    for user_id in READERS_OF_EVERYTHING:  # national authority and auditor too
        reader = signed_in(user_id)
        listed = ok(reader.get(f"{API}/approvals"))
        decides = {a["approval_id"]: a["you_may_decide"] for a in listed}
        assert decides["admin:i1"] is (user_id == "admin2"), user_id
        assert "admin:i1" in reader.get("/approvals").text, user_id
    for user_id in ("merlion", "vera", "stan"):
        assert "admin:i1" not in pending_ids(signed_in(user_id)), user_id
    readers = [signed_in(user_id) for user_id in ("audrey", "nadia")]
    with nothing_changes(demo_database):
        for reader in readers:
            problem(approve(reader, "admin:i1"), 403, "E_FORBIDDEN")


def test_a_project_issuance_waits_for_a_second_standard_administrator(
    signed_in: SignIn, public: TestClient, demo_database: str
) -> None:
    merlion, vera, stan, stan2 = (signed_in(u) for u in ("merlion", "vera", "stan", "stan2"))
    admin = signed_in("admin")
    actions = f"{API}/projects/A64-GH-0001/actions"
    ok(merlion.post(actions, json=MONITORING, headers=key("m1")), 201)
    verification = {"action": "verify", "documents": DOCUMENTS, "quantity_t": 50_000}
    ok(vera.post(actions, json=verification, headers=key("v1")), 201)
    pending = ok(stan.post(actions, json={"action": "approve_issuance"}, headers=key("a1")), 202)
    assert pending["pending_approval"]["approval_id"] == "stan:a1"
    assert ok(public.get(f"{API}/projects/A64-GH-0001"))["state"] == "verified"
    with nothing_changes(demo_database):
        problem(approve(stan, "stan:a1"), 403, "E_FORBIDDEN")
        problem(approve(admin, "stan:a1"), 403, "E_FORBIDDEN")
        problem(approve(merlion, "stan:a1"), 404, "E_NOT_FOUND")
    approved = ok(approve(stan2, "stan:a1"))
    assert approved["outcome"]["outcome"]["quantity_t"] == 50_000
    assert ok(public.get(f"{API}/projects/A64-GH-0001"))["state"] == "registered"
    issued = ok(public.get(f"{API}/explorer/issuances", params={"project_id": "A64-GH-0001"}))
    assert [i["vintage_start"] for i in issued] == ["2025-01-01", "2026-01-01"]
    assert audit_log(demo_database)[-1] == ("stan2", "session", "approve_issuance", "A64-GH-0001")
    # The same key again answers the approval as it now stands, not a refusal.
    again = ok(stan.post(actions, json={"action": "approve_issuance"}, headers=key("a1")), 202)
    assert again["pending_approval"]["status"] == "approved"


def test_a_project_issuance_that_cannot_be_approved_now_is_refused_at_once(
    signed_in: SignIn, demo_database: str
) -> None:
    stan = signed_in("stan")
    with nothing_changes(demo_database):
        answer = stan.post(f"{API}/projects/A64-GH-0001/actions",
                           json={"action": "approve_issuance"}, headers=key("a1"))  # fmt: skip
        problem(answer, 409, "E_ILLEGAL_TRANSITION")


def test_approvals_come_in_pages_of_what_you_may_see(signed_in: SignIn) -> None:
    admin, merlion = signed_in("admin"), signed_in("merlion")
    for number in range(3):  # before the sale in id order, and invisible to merlion
        issuance = ISSUANCE | {"quantity": 100 + number}
        ok(admin.post(f"{API}/issuances", json=issuance, headers=key(f"i{number}")), 202)
    assert pending_ids(admin) == ["admin:i0", "admin:i1", "admin:i2", SALE]
    assert pending_ids(admin, limit=2) == ["admin:i0", "admin:i1"]
    assert pending_ids(admin, limit=2, after="admin:i1") == ["admin:i2", SALE]
    assert pending_ids(merlion, limit=1) == [SALE]
    for limit in (0, QUERY_PAGE_SIZE_MAX + 1):
        answer = admin.get(f"{API}/approvals", params={"limit": limit})
        problem(answer, 422, "E_REQUEST_INVALID")
