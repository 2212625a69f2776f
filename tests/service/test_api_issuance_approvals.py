"""A project's issuance approval is for the monitoring report it was requested for, and the
second standard administrator who approves it submitted and verified none of that report:
otherwise the approval is refused, stays pending, and nothing changes."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from fastapi.testclient import TestClient

from carbonex.ledger import Ledger, Transaction
from carbonex.projects.events import ProjectRequest
from carbonex.service import approvals
from carbonex.service.demo import DEMO_PASSWORD
from carbonex.service.identity import Principal, Role
from tests.service.conftest import SignIn
from tests.service.support import (
    API,
    add_user,
    key,
    nothing_changes,
    ok,
    problem,
    waiting_counts,
)

PROJECT = "A64-GH-0001"  # the demo's registered solar project, its 2025 report issued
ACTIONS = f"{API}/projects/{PROJECT}/actions"
DOCUMENTS = [{"name": "report.pdf", "sha256": hashlib.sha256(b"report").hexdigest()}]
FIRST_HALF_OF_2026 = ("2026-01-01", "2026-07-01")
SECOND_HALF_OF_2026 = ("2026-07-01", "2026-12-01")


def report(proponent: TestClient, verifier: TestClient, period: tuple[str, str], t: int) -> None:
    """A monitoring report submitted by the proponent and verified by the verifier."""
    submission = {"action": "submit_monitoring_report", "documents": DOCUMENTS,
                  "period": {"start": period[0], "end": period[1]}, "quantity_t": t}  # fmt: skip
    ok(proponent.post(ACTIONS, json=submission, headers=key(f"m{period[0]}")), 201)
    verification = {"action": "verify", "documents": DOCUMENTS, "quantity_t": t}
    ok(verifier.post(ACTIONS, json=verification, headers=key(f"v{period[0]}")), 201)


def request_issuance(administrator: TestClient, idempotency_key: str) -> dict[str, Any]:
    answer = administrator.post(
        ACTIONS, json={"action": "approve_issuance"}, headers=key(idempotency_key)
    )
    return dict(ok(answer, 202)["pending_approval"])


def approve(client: TestClient, approval_id: str) -> Any:
    return client.post(f"{API}/approvals/{approval_id}/approve")


def reports(client: TestClient) -> list[tuple[str, str, int | None]]:
    found = ok(client.get(f"{API}/projects/{PROJECT}"))["monitoring_reports"]
    return [(r["period_start"], r["status"], r["issued_t"]) for r in found]


def add_verifier_and_administrator(database: str, user_id: str) -> None:
    """One person holding both roles, as a small standard's staff may."""
    roles = frozenset({Role.VERIFICATION_BODY, Role.STANDARD_ADMINISTRATOR})
    add_user(database, user_id, "Victor Both", DEMO_PASSWORD, roles)


def test_a_pending_issuance_names_its_report_and_a_second_administrator_issues_it(
    signed_in: SignIn,
) -> None:
    merlion, vera, stan, stan2 = (signed_in(u) for u in ("merlion", "vera", "stan", "stan2"))
    report(merlion, vera, FIRST_HALF_OF_2026, 50_000)
    pending = request_issuance(stan, "a1")
    named = pending["request"]["report"]
    assert (named["period"], named["verified_t"]) == (list(FIRST_HALF_OF_2026), 50_000)
    assert (
        f"#{named['event_seq']} (2026-01-01 to 2026-07-01, 50000 t verified)"
        in (pending["summary"])
    )
    approved = ok(approve(stan2, "stan:a1"))
    assert approved["outcome"]["outcome"]["quantity_t"] == 50_000
    assert reports(stan)[-1] == ("2026-01-01", "issued", 50_000)


def test_an_approval_left_pending_while_its_report_was_issued_never_issues_the_next_report(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion, vera, stan, stan2 = (signed_in(u) for u in ("merlion", "vera", "stan", "stan2"))
    report(merlion, vera, FIRST_HALF_OF_2026, 50_000)
    request_issuance(stan, "a1")
    request_issuance(stan2, "a2")
    ok(approve(stan, "stan2:a2"))  # the first report is issued through the other approval
    report(merlion, vera, SECOND_HALF_OF_2026, 900_000)
    with nothing_changes(demo_database):
        refused = problem(approve(stan2, "stan:a1"), 409, "E_APPROVAL_STALE")
    assert "2026-01-01 to 2026-07-01, 50000 t" in refused["detail"]  # the report it was for
    assert "2026-07-01 to 2026-12-01, 900000 t" in refused["detail"]  # the one awaiting now
    assert reports(stan)[-1] == ("2026-07-01", "verified", None)
    listed = [a["approval_id"] for a in ok(stan2.get(f"{API}/approvals"))]
    assert "stan:a1" in listed  # still pending: it can be rejected
    ok(stan2.post(f"{API}/approvals/stan:a1/reject"))


def issuance_verified_by_an_administrator(
    signed_in: SignIn, demo_database: str
) -> tuple[TestClient, TestClient]:
    """victor, a verifier who is also a standard administrator, verified merlion's report, and
    stan asked for its issuance (approval stan:a1): victor's client, and stan2's, who may
    approve."""
    add_verifier_and_administrator(demo_database, "victor")
    merlion, victor, stan, stan2 = (signed_in(u) for u in ("merlion", "victor", "stan", "stan2"))
    report(merlion, victor, FIRST_HALF_OF_2026, 50_000)
    request_issuance(stan, "a1")
    return victor, stan2


def test_a_verifier_who_is_also_a_standard_administrator_may_not_approve_what_they_verified(
    signed_in: SignIn, demo_database: str
) -> None:
    victor, stan2 = issuance_verified_by_an_administrator(signed_in, demo_database)
    with nothing_changes(demo_database):
        refused = problem(approve(victor, "stan:a1"), 409, "E_ACTOR_NOT_INDEPENDENT")
    assert (
        "'victor' already acted on this report as validation_verification_body"
        in (refused["failures"][0]["message"])
    )
    assert reports(stan2)[-1] == ("2026-01-01", "verified", None)
    ok(approve(stan2, "stan:a1"))  # an independent administrator still may
    assert reports(stan2)[-1] == ("2026-01-01", "issued", 50_000)


def test_the_approvals_page_holds_the_verifier_to_the_same_rule(
    signed_in: SignIn, demo_database: str
) -> None:
    victor, _ = issuance_verified_by_an_administrator(signed_in, demo_database)
    form = {"csrf_token": victor.headers["X-CSRF-Token"], "idempotency_key": uuid.uuid4().hex}
    with nothing_changes(demo_database):
        answer = victor.post("/approvals/stan:a1/approve", data=form)
    assert answer.status_code == 409 and "E_ACTOR_NOT_INDEPENDENT" in answer.text


def test_the_dashboard_counts_as_waiting_for_you_only_what_you_may_approve(
    signed_in: SignIn, demo_database: str
) -> None:
    # Changed: victor's dashboard counted stan's request, which he may only reject.
    victor, stan2 = issuance_verified_by_an_administrator(signed_in, demo_database)
    assert waiting_counts(victor) == ("0", "0")
    assert waiting_counts(stan2) == ("1", "0")
    assert waiting_counts(signed_in("stan")) == ("0", "1")
    listed = {a["approval_id"]: a for a in ok(victor.get(f"{API}/approvals"))}
    assert (listed["stan:a1"]["you_may_decide"], listed["stan:a1"]["you_may_approve"]) == (
        True,
        False,
    )


def test_a_stale_issuance_approval_is_not_counted_as_waiting_for_you(signed_in: SignIn) -> None:
    merlion, vera, stan, stan2 = (signed_in(u) for u in ("merlion", "vera", "stan", "stan2"))
    report(merlion, vera, FIRST_HALF_OF_2026, 50_000)
    request_issuance(stan, "a1")
    request_issuance(stan2, "a2")
    assert waiting_counts(stan2) == ("1", "1")
    ok(approve(stan, "stan2:a2"))  # the report is issued: stan:a1 is stale
    assert waiting_counts(stan2) == ("0", "0")


def queue_unnamed_issuance(database: str, approval_id: str) -> None:
    """A pending issuance as the service recorded it before approvals named their report."""
    stan = Principal("stan", frozenset({Role.STANDARD_ADMINISTRATOR}), frozenset(), "session")
    request = ProjectRequest(PROJECT, "approve_issuance", "stan", "standard_administrator")
    payload = {"request_id": approval_id, "request": request.to_record()}
    pending = approvals.PendingRequest(
        approval_id, approvals.PROJECT_ACTION, payload, f"approve the issuance of {PROJECT}"
    )

    def work(tx: Transaction) -> tuple[None, bool]:
        approvals.submit(tx.store, pending, stan, tx.now)
        return None, True

    with Ledger.open(database) as ledger:
        ledger.transact(work)


def test_an_approval_recorded_before_approvals_named_their_report_is_refused_and_rejectable(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion, vera, stan2 = (signed_in(u) for u in ("merlion", "vera", "stan2"))
    report(merlion, vera, FIRST_HALF_OF_2026, 50_000)
    queue_unnamed_issuance(demo_database, "stan:old")
    with nothing_changes(demo_database):
        refused = problem(approve(stan2, "stan:old"), 409, "E_APPROVAL_STALE")
    assert "is for no monitoring report (recorded before approvals did)" in refused["detail"]
    assert ok(stan2.post(f"{API}/approvals/stan:old/reject"))["status"] == "rejected"
    assert reports(stan2)[-1] == ("2026-01-01", "verified", None)


def decision_cell(page: str, approval_id: str) -> str:
    """The approvals page's row of an approval (up to the next row): its decision buttons."""
    start = page.index(f'data-approval-id="{approval_id}"')
    end = page.find("data-approval-id=", start + 1)
    return page[start : end if end != -1 else len(page)]


def test_the_approvals_page_offers_no_approve_button_to_who_verified_the_report(
    signed_in: SignIn, demo_database: str
) -> None:
    victor, stan2 = issuance_verified_by_an_administrator(signed_in, demo_database)
    offered = decision_cell(victor.get("/approvals").text, "stan:a1")
    assert 'data-action="approve"' not in offered and "E_ACTOR_NOT_INDEPENDENT" in offered
    assert 'data-action="reject"' in offered  # rejecting stays theirs to do
    assert 'data-action="approve"' in decision_cell(stan2.get("/approvals").text, "stan:a1")
    listed = {a["approval_id"]: a for a in ok(victor.get(f"{API}/approvals"))}
    assert (listed["stan:a1"]["you_may_decide"], listed["stan:a1"]["you_may_approve"]) == (
        True,
        False,
    )
    assert {a["approval_id"]: a["you_may_approve"] for a in ok(stan2.get(f"{API}/approvals"))}[
        "stan:a1"
    ]


def test_the_approvals_page_offers_nobody_the_approval_of_a_stale_issuance(
    signed_in: SignIn,
) -> None:
    merlion, vera, stan, stan2 = (signed_in(u) for u in ("merlion", "vera", "stan", "stan2"))
    report(merlion, vera, FIRST_HALF_OF_2026, 50_000)
    request_issuance(stan, "a1")
    request_issuance(stan2, "a2")
    ok(approve(stan, "stan2:a2"))  # the report stan:a1 was for is issued: it is stale now
    offered = decision_cell(stan2.get("/approvals").text, "stan:a1")
    assert 'data-action="approve"' not in offered and "E_APPROVAL_STALE" in offered
    assert 'data-action="reject"' in offered
    assert not {a["approval_id"]: a["you_may_approve"] for a in ok(stan2.get(f"{API}/approvals"))}[
        "stan:a1"
    ]
