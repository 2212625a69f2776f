"""One idempotency key, one request, whichever route it goes to: a key pending approval, taken
by a ledger command or by a project step is refused (409 E_IDEMPOTENCY_KEY_REUSED) for any
other request, writing nothing; naming a representative and importing a file return their
first outcome for the same key and content and refuse other content."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carbonex.service.app import create_app
from carbonex.service.policy import load_policy
from tests.service.conftest import BASE_URL, WithKey, new_api_key
from tests.service.support import API, audit_log, key, nothing_changes, ok, problem

REUSED = "E_IDEMPOTENCY_KEY_REUSED"
THRESHOLD = load_policy().four_eyes_transfer_quantity_min
DEVELOPER, AIRLINE, SOLAR = "MERLION-DEV", "SKYWAYS-AIR", "A64-GH-0001"
LARGE_TRANSFER = {"from_account_id": DEVELOPER, "to_account_id": AIRLINE, "unit_type": "VCU",
                  "quantity": THRESHOLD}  # fmt: skip
RETIREMENT = {"account_id": DEVELOPER, "unit_type": "VCU", "quantity": 1, "beneficiary": "b",
              "purpose": "p"}  # fmt: skip
DOCUMENTS = [{"name": "report.pdf", "sha256": hashlib.sha256(b"report").hexdigest()}]
EVIDENCE = {
    "action": "record_cross_registry_evidence",
    "documents": DOCUMENTS,
    "period": {"start": "2020-01-01", "end": "2030-01-01"},
    "registration": "CDM:9876",
}
MONITORING = {
    "action": "submit_monitoring_report",
    "documents": DOCUMENTS,
    "period": {"start": "2026-01-01", "end": "2027-01-01"},
    "quantity_t": 1_000,
}
VERIFICATION = {"action": "verify", "documents": DOCUMENTS, "quantity_t": 1_000}
APPROVE_ISSUANCE = {"action": "approve_issuance"}
NEW_PROJECT = {"project_id": "VCS-77", "standard": "VCS", "name": "n", "host_country": "SG",
               "methodology": "ACM0002", "proponent_account_id": DEVELOPER}  # fmt: skip
AFTER_THE_MONITORING_PERIOD = dt.datetime(2027, 3, 1, tzinfo=dt.UTC)
VERRA_EXPORT = Path(__file__).parents[1] / "imports" / "fixtures" / "vcus_singapore.csv"
ACTIONS = f"{API}/projects/{SOLAR}/actions"


def approve(client: TestClient, approval_id: str) -> Any:
    return client.post(f"{API}/approvals/{approval_id}/approve")


def test_a_key_pending_approval_is_refused_for_a_retirement(
    with_key: WithKey, demo_database: str
) -> None:
    merlion, merlion2 = with_key("merlion"), with_key("merlion2")
    ok(merlion.post(f"{API}/transfers", json=LARGE_TRANSFER, headers=key("k1")), 202)
    with nothing_changes(demo_database):
        retired = merlion.post(f"{API}/retirements", json=RETIREMENT, headers=key("k1"))
        problem(retired, 409, REUSED)
    assert ok(approve(merlion2, "merlion:k1"))["outcome"]["accepted"]


def test_a_retirements_key_is_refused_for_a_transfer_pending_approval(
    with_key: WithKey, demo_database: str
) -> None:
    merlion = with_key("merlion")
    ok(merlion.post(f"{API}/retirements", json=RETIREMENT, headers=key("k1")), 201)
    with nothing_changes(demo_database):
        answer = merlion.post(f"{API}/transfers", json=LARGE_TRANSFER, headers=key("k1"))
        problem(answer, 409, REUSED)


def test_a_project_steps_key_is_refused_for_a_transfer_and_a_transfers_for_a_project_step(
    with_key: WithKey, demo_database: str
) -> None:
    merlion = with_key("merlion")
    small = LARGE_TRANSFER | {"quantity": 1}
    ok(merlion.post(f"{API}/projects", json=NEW_PROJECT, headers=key("k1")), 201)
    ok(merlion.post(f"{API}/transfers", json=small, headers=key("k2")), 201)
    with nothing_changes(demo_database):
        problem(merlion.post(f"{API}/transfers", json=small, headers=key("k1")), 409, REUSED)
        another = NEW_PROJECT | {"project_id": "VCS-78"}
        problem(merlion.post(f"{API}/projects", json=another, headers=key("k2")), 409, REUSED)


def test_an_accepted_project_steps_key_is_refused_for_an_issuance_approval(
    with_key: WithKey, demo_database: str
) -> None:
    stan = with_key("stan")
    ok(stan.post(ACTIONS, json=EVIDENCE, headers=key("k1")), 201)
    with nothing_changes(demo_database):
        problem(stan.post(ACTIONS, json=APPROVE_ISSUANCE, headers=key("k1")), 409, REUSED)


@pytest.fixture
def after_monitoring(demo_database: str) -> Iterator[dict[str, TestClient]]:
    """Clients of an app whose clock is past the next monitoring period's end."""
    app = create_app(demo_database, clock=lambda: AFTER_THE_MONITORING_PERIOD)
    users = ("merlion", "vera", "stan", "stan2")
    clients = {user: TestClient(app, base_url=BASE_URL) for user in users}
    for user, client in clients.items():
        client.__enter__()
        client.headers["Authorization"] = f"Bearer {new_api_key(demo_database, user)}"
    yield clients
    for client in clients.values():
        client.__exit__(None, None, None)


def test_a_key_pending_an_issuance_approval_is_refused_for_another_project_step(
    after_monitoring: dict[str, TestClient], demo_database: str
) -> None:
    merlion, vera, stan, stan2 = (after_monitoring[u] for u in ("merlion", "vera", "stan", "stan2"))
    ok(merlion.post(ACTIONS, json=MONITORING, headers=key("m1")), 201)
    ok(vera.post(ACTIONS, json=VERIFICATION, headers=key("v1")), 201)
    ok(stan.post(ACTIONS, json=APPROVE_ISSUANCE, headers=key("k1")), 202)
    with nothing_changes(demo_database):
        problem(stan.post(ACTIONS, json=EVIDENCE, headers=key("k1")), 409, REUSED)
    assert ok(approve(stan2, "stan:k1"))["status"] == "approved"


def test_the_same_key_names_a_representative_once_and_is_refused_for_another(
    with_key: WithKey, demo_database: str
) -> None:
    admin = with_key("admin")
    representatives = f"{API}/accounts/AMELIA-TAN/representatives"
    first = ok(admin.post(representatives, json={"user_id": "skyways"}, headers=key("r1")), 201)
    ok(admin.post(f"{API}/accounts/AMELIA-TAN/freeze", json={"reason": "r"}, headers=key("f1")))
    with nothing_changes(demo_database):
        again = admin.post(representatives, json={"user_id": "skyways"}, headers=key("r1"))
        assert ok(again, 201) == first
        other = admin.post(representatives, json={"user_id": "rhein"}, headers=key("r1"))
        problem(other, 409, REUSED)
        elsewhere = f"{API}/accounts/SKYWAYS-AIR/representatives"
        problem(admin.post(elsewhere, json={"user_id": "skyways"}, headers=key("r1")), 409, REUSED)
        problem(admin.post(representatives, json={"user_id": "rhein"}, headers=key("f1")), 409,
                REUSED)  # fmt: skip


def test_the_same_key_imports_a_file_once_and_is_refused_for_another(
    with_key: WithKey, demo_database: str
) -> None:
    admin = with_key("admin")
    export = VERRA_EXPORT.read_bytes()
    upload = {"file": ("vcus.csv", export, "text/csv")}
    first = ok(admin.post(f"{API}/imports/verra", files=upload, headers=key("i1")), 201)
    assert first["blocks_imported"] > 0
    with nothing_changes(demo_database):
        again = admin.post(f"{API}/imports/verra", files=upload, headers=key("i1"))
        assert ok(again, 201) == first  # the first outcome, not a re-import's
        fewer_rows = b"".join(export.splitlines(keepends=True)[:-1])
        other = {"file": ("vcus.csv", fewer_rows, "text/csv")}
        problem(admin.post(f"{API}/imports/verra", files=other, headers=key("i1")), 409, REUSED)
    assert [entry[2] for entry in audit_log(demo_database)].count("import_verra") == 1
