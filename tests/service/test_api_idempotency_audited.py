"""A key that named a representative or an import names it for good: any other request sent
with it, a ledger command, a project step or a request for approval, is refused (409
E_IDEMPOTENCY_KEY_REUSED) and writes nothing. The audit rows those writes leave are found
through the audit log's index on (actor, action)."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonex.store import open_store
from tests.service.conftest import WithKey
from tests.service.support import API, key, nothing_changes, ok, problem

REUSED = "E_IDEMPOTENCY_KEY_REUSED"
DEVELOPER, AIRLINE, SOLAR = "MERLION-DEV", "SKYWAYS-AIR", "A64-GH-0001"
RETIREMENT = {"account_id": DEVELOPER, "unit_type": "VCU", "quantity": 1, "beneficiary": "b",
              "purpose": "p"}  # fmt: skip
FREEZE = f"{API}/accounts/{AIRLINE}/freeze"
VERRA_EXPORT = Path(__file__).parents[1] / "imports" / "fixtures" / "vcus_singapore.csv"


def test_a_representatives_key_is_refused_for_a_ledger_command(
    with_key: WithKey, demo_database: str
) -> None:
    admin = with_key("admin")
    representatives = f"{API}/accounts/AMELIA-TAN/representatives"
    ok(admin.post(representatives, json={"user_id": "skyways"}, headers=key("r1")), 201)
    with nothing_changes(demo_database):
        problem(admin.post(FREEZE, json={"reason": "inquiry"}, headers=key("r1")), 409, REUSED)
    ok(admin.post(FREEZE, json={"reason": "inquiry"}, headers=key("r2")))


def test_an_imports_key_is_refused_for_a_ledger_command(
    with_key: WithKey, demo_database: str
) -> None:
    admin = with_key("admin")
    upload = {"file": ("vcus.csv", VERRA_EXPORT.read_bytes(), "text/csv")}
    ok(admin.post(f"{API}/imports/verra", files=upload, headers=key("i1")), 201)
    with nothing_changes(demo_database):
        problem(admin.post(FREEZE, json={"reason": "inquiry"}, headers=key("i1")), 409, REUSED)


def test_another_users_key_of_the_same_text_is_their_own(
    with_key: WithKey, demo_database: str
) -> None:
    admin, merlion = with_key("admin"), with_key("merlion")
    representatives = f"{API}/accounts/AMELIA-TAN/representatives"
    ok(admin.post(representatives, json={"user_id": "skyways"}, headers=key("k1")), 201)
    ok(merlion.post(f"{API}/retirements", json=RETIREMENT, headers=key("k1")), 201)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # SQLite's plan is stable
def test_the_audit_log_is_read_through_its_actor_and_action_index(demo_database: str) -> None:
    store = open_store(demo_database, migrate=False, must_exist=True)
    try:
        plan = store.query(
            "EXPLAIN QUERY PLAN SELECT target, detail FROM audit_log "
            "WHERE actor = ? AND action IN (?, ?) ORDER BY audit_seq",
            ("admin", "add_representative", "import_verra"),
        )
    finally:
        store.close()
    assert any("audit_log_by_actor" in str(row) for row in plan), plan
