"""Restricted records: the journal (registry administrators, auditors, national authorities)
and the audit log (registry administrators and auditors), which names the actor of every
accepted write and of nothing else."""

from __future__ import annotations

import hashlib
import json

import pytest
from fastapi.testclient import TestClient

from carbonex.ledger import Ledger
from carbonex.ledger.journal_export import check_export
from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX
from carbonex.service.routes import records
from carbonex.service.routes.records import NDJSON
from tests.ledger.support import execute_raw
from tests.service.conftest import SignIn, WithKey
from tests.service.support import API, EVERYONE, audit_log, key, ok, problem

JOURNAL_READERS = ("admin", "admin2", "audrey", "nadia")
AUDIT_READERS = ("admin", "admin2", "audrey")


def test_the_journal_is_for_administrators_auditors_and_national_authorities(
    public: TestClient, signed_in: SignIn
) -> None:
    for user_id in EVERYONE:
        answer = signed_in(user_id).get(f"{API}/journal")
        if user_id in JOURNAL_READERS:
            entries = ok(answer)
            assert entries[0]["seq"] == 1 and len(entries[0]["entry_hash"]) == 64
        else:
            problem(answer, 403, "E_FORBIDDEN")
    problem(public.get(f"{API}/journal"), 401, "E_UNAUTHENTICATED")


def test_the_audit_log_is_for_administrators_and_auditors(
    public: TestClient, signed_in: SignIn
) -> None:
    for user_id in EVERYONE:
        answer = signed_in(user_id).get(f"{API}/audit")
        if user_id in AUDIT_READERS:
            assert ok(answer) == []  # the demo is loaded, not written through the API
        else:
            problem(answer, 403, "E_FORBIDDEN")
    problem(public.get(f"{API}/audit"), 401, "E_UNAUTHENTICATED")


def test_the_journal_comes_in_pages_chained_by_hash(signed_in: SignIn) -> None:
    audrey = signed_in("audrey")
    first = ok(audrey.get(f"{API}/journal", params={"limit": 3}))
    second = ok(audrey.get(f"{API}/journal", params={"limit": 3, "after_seq": 3}))
    assert [entry["seq"] for entry in first + second] == [1, 2, 3, 4, 5, 6]
    assert second[0]["previous_hash"] == first[-1]["entry_hash"]
    for path in ("journal", "audit"):
        for limit in (0, QUERY_PAGE_SIZE_MAX + 1):
            answer = audrey.get(f"{API}/{path}", params={"limit": limit})
            problem(answer, 422, "E_REQUEST_INVALID")


def test_every_accepted_write_is_audited_with_its_actor_and_refusals_are_not(
    signed_in: SignIn, with_key: WithKey, demo_database: str
) -> None:
    admin, merlion, merlion2 = signed_in("admin"), signed_in("merlion"), signed_in("merlion2")
    scripted = with_key("merlion")
    new_account = {"account_id": "NEW-1", "kind": "company_holding", "holder": "New Ltd"}
    ok(admin.post(f"{API}/accounts", json=new_account, headers=key("a1")), 201)
    sale = {"from_account_id": "MERLION-DEV", "to_account_id": "NEW-1", "unit_type": "VCU"}
    ok(scripted.post(f"{API}/transfers", json=sale | {"quantity": 10}, headers=key("t1")), 201)
    big = sale | {"quantity": 10_000}
    ok(merlion.post(f"{API}/transfers", json=big, headers=key("t2")), 202)
    ok(merlion2.post(f"{API}/approvals/merlion:t2/approve"))
    refused = merlion.post(f"{API}/transfers", json=sale | {"quantity": 10**9}, headers=key("t3"))
    problem(refused, 409, "E_UNITS_NOT_HELD")
    problem(merlion.post(f"{API}/accounts", json=new_account, headers=key("a2")), 403,
            "E_FORBIDDEN")  # fmt: skip
    document = [{"name": "pdd.pdf", "sha256": hashlib.sha256(b"pdd").hexdigest()}]
    project = {"project_id": "P-1", "standard": "A6.4M", "name": "P", "host_country": "GH",
               "methodology": "ACM0002", "proponent_account_id": "SOLAR-GH"}  # fmt: skip
    ok(merlion.post(f"{API}/projects", json=project, headers=key("p1")), 201)
    listing = {"action": "list", "documents": document}
    ok(merlion.post(f"{API}/projects/P-1/actions", json=listing, headers=key("p2")), 201)
    expected = [
        ("admin", "session", "open_account", "NEW-1"),
        ("merlion", "api_key", "transfer", "MERLION-DEV"),
        ("merlion", "session", "request_transfer", "merlion:t2"),
        ("merlion2", "session", "transfer", "MERLION-DEV"),
        ("merlion", "session", "create_project", "P-1"),
        ("merlion", "session", "list", "P-1"),
    ]
    assert audit_log(demo_database) == expected
    entries = ok(signed_in("audrey").get(f"{API}/audit"))
    assert [(e["actor"], e["via"], e["action"], e["target"]) for e in entries] == expected
    assert [e["audit_seq"] for e in entries] == list(range(1, len(expected) + 1))
    assert entries[1]["detail"]["command_id"] == "merlion:t1"
    page = ok(signed_in("audrey").get(f"{API}/audit", params={"limit": 2, "after_seq": 2}))
    assert [e["audit_seq"] for e in page] == [3, 4]


def test_the_journal_exports_in_pages_that_concatenate_into_a_checkable_file(
    public: TestClient, signed_in: SignIn
) -> None:
    audrey = signed_in("audrey")
    pages, after_seq = [], 0
    while True:
        answer = audrey.get(f"{API}/journal/lines", params={"limit": 4, "after_seq": after_seq})
        assert answer.status_code == 200 and answer.headers["content-type"] == NDJSON
        if not answer.content:
            break
        pages.append(answer.content)
        after_seq = int(answer.headers["x-last-seq"])
    head = ok(public.get(f"{API}/health"))
    check = check_export(b"".join(pages).splitlines(keepends=True), head["journal_head_hash"])
    assert check.ok, check.problems
    assert check.entries == head["journal_seq"] and len(pages) == -(-check.entries // 4)
    problem(signed_in("merlion").get(f"{API}/journal/lines"), 403, "E_FORBIDDEN")
    problem(public.get(f"{API}/journal/lines"), 401, "E_UNAUTHENTICATED")


def test_a_page_of_lines_stops_at_its_byte_limit_but_never_sends_nothing(
    signed_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records, "JOURNAL_LINES_BYTES_MAX", 1)
    answer = signed_in("nadia").get(f"{API}/journal/lines", params={"limit": 50})
    catalog, entry = (json.loads(line) for line in answer.content.splitlines())
    assert "record" in catalog and entry["seq"] == 1 and answer.headers["x-last-seq"] == "1"


def test_a_journal_entry_no_line_can_hold_is_a_named_problem_not_an_internal_error(
    demo_database: str, signed_in: SignIn
) -> None:
    with Ledger.open(demo_database) as ledger:
        execute_raw(ledger, "UPDATE journal SET payload = ? WHERE seq = 3", (b"\xff",))
    answer = signed_in("audrey").get(f"{API}/journal/lines", params={"limit": 50})
    body = problem(answer, 503, "E_JOURNAL_DAMAGED")
    assert "journal entry 3" in body["detail"] and "not UTF-8" in body["detail"]
    first = signed_in("audrey").get(f"{API}/journal/lines", params={"limit": 2})
    assert first.status_code == 200 and first.headers["x-last-seq"] == "2"
