"""The carbon-inclusion and import routes: who may call them, what they write, and that a
refusal or a denial changes nothing."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from carbonex.ledger import Ledger, OpenAccount
from carbonex.service import audit, identity
from carbonex.service.app import create_app
from carbonex.service.demo import DEMO_PASSWORD
from carbonex.service.policy import load_policy
from carbonex.service.routes.imports import (
    FILE_NAME_LENGTH_MAX,
    PROBLEMS_SHOWN_MAX,
    file_name_problem,
)
from tests.databases import every_table
from tests.service.conftest import BASE_URL, SignIn, WithKey
from tests.service.support import (
    API,
    REFUSED_FILE_NAMES,
    SIGN_IN_TABLES,
    audit_log,
    key,
    nothing_changes,
    ok,
    problem,
    raw_multipart,
)

FIXTURES = Path(__file__).parents[1] / "imports" / "fixtures"
TODAY = dt.date.today().isoformat()


def action(action_id: str, person_id: str = "p-1", kwh: str = "100") -> dict[str, str]:
    return {"action_id": action_id, "person_id": person_id, "action_type": "ev_charging_kwh",
            "quantity": kwh, "day": TODAY}  # fmt: skip


PEOPLE = 40  # 30 points a person-day at most: 40 of them make one unit (1,000 points)
AGGREGATION = {"aggregation_id": "agg-1", "aggregator_account_id": "CITY-AGG",
               "period_start": "2020-01-01", "period_end": "2100-01-01",
               "project_id": "CIP-SG-EV", "host_country": "SG"}  # fmt: skip
AGGREGATIONS = f"{API}/inclusion/aggregations"
ISSUANCE = {"account_id": "VERRA-ISSUANCE", "quantity": 5, "unit_type": "VCU",
            "standard": "Verra VCS", "project_id": "VCS-9999", "vintage_start": "2024-01-01",
            "vintage_end": "2024-12-31", "host_country": "SG"}  # fmt: skip


def verified_points_for_one_unit(signed_in: SignIn, database: str) -> None:
    """CITY-AGG, represented by amelia, and PEOPLE verified actions: one unit's points."""
    with Ledger.open(database) as ledger:
        assert ledger.submit(OpenAccount("agg", "CITY-AGG", "company_holding", "Agg")).accepted
        ledger.transact(
            lambda tx: (identity.add_representative(tx.store, "amelia", "CITY-AGG"), True)
        )
    merlion, vera = signed_in("merlion"), signed_in("vera")
    ids = [f"a{number}" for number in range(PEOPLE)]
    for number, action_id in enumerate(ids):
        answer = merlion.post(
            "/api/v1/inclusion/actions", json=action(action_id, f"p-{number:02d}")
        )
        assert answer.status_code == 201, answer.text
    assert vera.post("/api/v1/inclusion/reviews", json={"action_ids": ids}).status_code == 200


def decide(client: TestClient, approval_id: str, decision: str) -> httpx.Response:
    return client.post(f"{API}/approvals/{approval_id}/{decision}")


def test_an_aggregation_issues_units_once_a_second_registry_administrator_approves_it(
    signed_in: SignIn, public: TestClient, demo_database: str
) -> None:
    verified_points_for_one_unit(signed_in, demo_database)
    assert public.get("/api/v1/inclusion/people/p-00/points").json()["available_milli"] == 30_000
    merlion, amelia = signed_in("merlion"), signed_in("amelia")  # amelia represents CITY-AGG
    admin, admin2 = signed_in("admin"), signed_in("admin2")
    with nothing_changes(demo_database):
        for holder, into in ((merlion, "CITY-AGG"), (amelia, "CITY-AGG"), (merlion, "MERLION-DEV")):
            own = AGGREGATION | {"aggregator_account_id": into}
            problem(holder.post(AGGREGATIONS, json=own, headers=key("g1")), 403, "E_FORBIDDEN")
    pending = ok(admin.post(AGGREGATIONS, json=AGGREGATION, headers=key("g1")), 202)
    approval = pending["pending_approval"]
    assert (approval["approval_id"], approval["kind"]) == ("admin:g1", "inclusion_aggregation")
    assert approval["request"] == AGGREGATION and "1 CIER" in approval["summary"]
    assert audit_log(demo_database)[-1] == (
        "admin", "session", "request_aggregate_inclusion_points", "agg-1"
    )  # fmt: skip
    with nothing_changes(demo_database):  # nothing issued yet; resending returns the same
        problem(public.get(f"{AGGREGATIONS}/agg-1"), 404, "E_NOT_FOUND")
        assert ok(admin.post(AGGREGATIONS, json=AGGREGATION, headers=key("g1")), 202) == pending
        problem(decide(admin, "admin:g1", "approve"), 403, "E_FORBIDDEN")
        problem(decide(merlion, "admin:g1", "approve"), 404, "E_NOT_FOUND")
        assert "aggregate verified carbon-inclusion points" in admin2.get("/approvals").text
    approved = ok(decide(admin2, "admin:g1", "approve"))
    assert approved["outcome"]["units"] == 1 and approved["outcome"]["accepted"]
    assert audit_log(demo_database)[-1] == ("admin2", "session", "aggregate_inclusion_points",
                                            "agg-1")  # fmt: skip
    shown = public.get(f"{AGGREGATIONS}/agg-1").json()
    assert sum(int(c["used_milli"]) for c in shown["contributions"]) == 1_000_000
    assert public.get("/api/v1/inclusion/people/p-00/points").json()["converted_milli"] > 0
    with nothing_changes(demo_database):  # the aggregation id keeps its own idempotency
        again = ok(admin.post(AGGREGATIONS, json=AGGREGATION, headers=key("g2")), 201)
        assert again["duplicate"] and again["journal_seq"] == shown["journal_seq"]


def test_an_aggregations_key_names_that_request_alone_whichever_route(
    signed_in: SignIn, demo_database: str
) -> None:
    verified_points_for_one_unit(signed_in, demo_database)
    admin = signed_in("admin")
    ok(admin.post(AGGREGATIONS, json=AGGREGATION, headers=key("g1")), 202)
    ok(admin.post(f"{API}/issuances", json=ISSUANCE, headers=key("i1")), 202)
    other = AGGREGATION | {"aggregation_id": "agg-2"}
    with nothing_changes(demo_database):
        for path, body, used in ((AGGREGATIONS, other, "g1"), (f"{API}/issuances", ISSUANCE, "g1"),
                                 (AGGREGATIONS, AGGREGATION, "i1")):  # fmt: skip
            answer = admin.post(path, json=body, headers=key(used))
            problem(answer, 409, "E_IDEMPOTENCY_KEY_REUSED")


def test_a_rejected_aggregation_never_issues(
    signed_in: SignIn, public: TestClient, demo_database: str
) -> None:
    verified_points_for_one_unit(signed_in, demo_database)
    admin, admin2 = signed_in("admin"), signed_in("admin2")
    ok(admin.post(AGGREGATIONS, json=AGGREGATION, headers=key("g1")), 202)
    rejected = ok(decide(admin2, "admin:g1", "reject"))
    assert rejected == {"approval_id": "admin:g1", "status": "rejected"}
    assert audit_log(demo_database)[-1] == ("admin2", "session", "reject_approval", "admin:g1")
    with nothing_changes(demo_database):
        problem(decide(admin2, "admin:g1", "approve"), 409, "E_APPROVAL_DECIDED")
        problem(public.get(f"{AGGREGATIONS}/agg-1"), 404, "E_NOT_FOUND")
    assert public.get("/api/v1/inclusion/people/p-00/points").json()["converted_milli"] == 0


def test_an_aggregation_refused_when_approved_stays_pending_and_writes_nothing(
    signed_in: SignIn, demo_database: str
) -> None:
    verified_points_for_one_unit(signed_in, demo_database)
    admin, admin2 = signed_in("admin"), signed_in("admin2")
    ok(admin.post(AGGREGATIONS, json=AGGREGATION, headers=key("g1")), 202)
    second = AGGREGATION | {"aggregation_id": "agg-2"}  # the same points, asked for twice
    ok(admin.post(AGGREGATIONS, json=second, headers=key("g2")), 202)
    page = admin2.post(
        "/approvals/admin:g1/approve", data={"csrf_token": admin2.headers["X-CSRF-Token"]}
    )
    assert "Approval admin:g1 approved; it ran as journal entry #" in page.text
    with nothing_changes(demo_database):  # the first took every point: nothing left to issue
        problem(decide(admin2, "admin:g2", "approve"), 409, "E_NOTHING_TO_ISSUE")
        third = AGGREGATION | {"aggregation_id": "agg-3"}
        problem(admin.post(AGGREGATIONS, json=third, headers=key("g3")), 409, "E_NOTHING_TO_ISSUE")
    listed = ok(admin2.get(f"{API}/approvals"))
    assert [a["approval_id"] for a in listed if a["requested_by"] == "admin"] == ["admin:g2"]


def test_without_four_eyes_on_issuance_an_aggregation_runs_at_once_under_its_own_key(
    signed_in: SignIn, demo_database: str
) -> None:
    verified_points_for_one_unit(signed_in, demo_database)
    policy = dataclasses.replace(load_policy(), four_eyes_issuance=False)
    with TestClient(create_app(demo_database, policy=policy), base_url=BASE_URL) as admin:
        credentials = {"user_id": "admin", "password": DEMO_PASSWORD}
        session = ok(admin.post(f"{API}/session", json=credentials), 201)
        admin.headers["X-CSRF-Token"] = session["csrf_token"]
        ok(admin.post(f"{API}/issuances", json=ISSUANCE, headers=key("i1")), 201)
        with nothing_changes(demo_database):
            reused = admin.post(AGGREGATIONS, json=AGGREGATION, headers=key("i1"))
            problem(reused, 409, "E_IDEMPOTENCY_KEY_REUSED")
        done = ok(admin.post(AGGREGATIONS, json=AGGREGATION, headers=key("g1")), 201)
    assert done["units"] == 1 and not done["duplicate"]
    assert audit_log(demo_database)[-1] == ("admin", "session", "aggregate_inclusion_points",
                                            "agg-1")  # fmt: skip


def test_a_second_approval_of_an_aggregation_made_already_is_refused_as_stale(
    signed_in: SignIn, demo_database: str
) -> None:
    # Changed: approving the second recorded the first aggregation's outcome as its own.
    verified_points_for_one_unit(signed_in, demo_database)
    admin, admin2 = signed_in("admin"), signed_in("admin2")
    ok(admin.post(AGGREGATIONS, json=AGGREGATION, headers=key("g1")), 202)
    ok(admin2.post(AGGREGATIONS, json=AGGREGATION, headers=key("h1")), 202)  # the same request
    made = ok(decide(admin2, "admin:g1", "approve"))["outcome"]
    listed = {a["approval_id"]: a for a in ok(admin.get(f"{API}/approvals"))}
    assert listed["admin2:h1"]["you_may_decide"] and not listed["admin2:h1"]["you_may_approve"]
    with nothing_changes(demo_database):
        refused = problem(decide(admin, "admin2:h1", "approve"), 409, "E_APPROVAL_STALE")
    assert (
        f"aggregation agg-1, made already (journal entry #{made['journal_seq']})"
        in (refused["detail"])
    )
    page = admin.get("/approvals").text
    assert "E_APPROVAL_STALE" in page and 'data-action="approve"' not in page
    assert ok(decide(admin, "admin2:h1", "reject"))["status"] == "rejected"


@contextmanager
def admin_without_four_eyes(database: str) -> Iterator[TestClient]:
    """admin signed in to a service whose policy holds no issuance to four eyes."""
    policy = dataclasses.replace(load_policy(), four_eyes_issuance=False)
    with TestClient(create_app(database, policy=policy), base_url=BASE_URL) as admin:
        credentials = {"user_id": "admin", "password": DEMO_PASSWORD}
        session = ok(admin.post(f"{API}/session", json=credentials), 201)
        admin.headers["X-CSRF-Token"] = session["csrf_token"]
        yield admin


def test_without_four_eyes_an_aggregations_key_names_that_request_alone(
    signed_in: SignIn, demo_database: str
) -> None:
    # Changed: the key was kept nowhere, so it could name another aggregation or a command.
    verified_points_for_one_unit(signed_in, demo_database)
    with admin_without_four_eyes(demo_database) as admin:
        done = ok(admin.post(AGGREGATIONS, json=AGGREGATION, headers=key("g1")), 201)
        representatives = f"{API}/accounts/AMELIA-TAN/representatives"
        ok(admin.post(representatives, json={"user_id": "skyways"}, headers=key("r1")), 201)
        with nothing_changes(demo_database):
            again = ok(admin.post(AGGREGATIONS, json=AGGREGATION, headers=key("g1")), 201)
            assert again["duplicate"] and again["journal_seq"] == done["journal_seq"]
            other = AGGREGATION | {"aggregation_id": "agg-2"}
            for path, body, used in ((AGGREGATIONS, other, "g1"),
                                     (f"{API}/issuances", ISSUANCE, "g1"),
                                     (AGGREGATIONS, other, "r1")):  # fmt: skip
                answer = admin.post(path, json=body, headers=key(used))
                problem(answer, 409, "E_IDEMPOTENCY_KEY_REUSED")
    audited = [row for row in audit_log(demo_database) if row[2] == "aggregate_inclusion_points"]
    assert audited == [("admin", "session", "aggregate_inclusion_points", "agg-1")]


def test_only_platforms_record_and_only_verification_bodies_review(
    signed_in: SignIn, demo_database: str
) -> None:
    before = every_table(demo_database, SIGN_IN_TABLES)
    assert signed_in("vera").post("/api/v1/inclusion/actions", json=action("x")).status_code == 403
    assert (
        signed_in("merlion")
        .post("/api/v1/inclusion/reviews", json={"action_ids": ["x"]})
        .status_code
        == 403
    )
    refused = signed_in("merlion").post("/api/v1/inclusion/actions", json=action("y", kwh="-1"))
    assert refused.status_code == 422
    huge = signed_in("merlion").post(
        "/api/v1/inclusion/actions", json=action("y", kwh="1e999999999")
    )
    assert huge.status_code == 422
    assert every_table(demo_database, SIGN_IN_TABLES) == before


def test_a_quantity_is_a_json_number_or_ascii_digits_and_nothing_else(
    with_key: WithKey, demo_database: str
) -> None:
    platform = with_key("merlion")
    with nothing_changes(demo_database):
        for quantity in ("\u0661\u0662", " 5 ", "1E+5", "12,5", True):  # "١٢": Arabic-Indic
            answer = platform.post(f"{API}/inclusion/actions", json=action("q") | {
                "quantity": quantity})  # fmt: skip
            refused = problem(answer, 422, "E_REQUEST_INVALID")
            assert refused["failures"][0]["location"] == ["body", "quantity"], quantity
    for number, quantity in enumerate((12, 12.5, "12.5")):
        answer = platform.post(f"{API}/inclusion/actions", json=action(f"q{number}") | {
            "quantity": quantity})  # fmt: skip
        assert answer.status_code == 201, answer.text


def test_a_registry_administrator_imports_the_verra_export_and_nobody_else_may(
    signed_in: SignIn, demo_database: str
) -> None:
    content = (FIXTURES / "vcus_singapore.csv").read_bytes()
    upload = {"file": ("vcus_singapore.csv", content, "text/csv")}
    before = every_table(demo_database, SIGN_IN_TABLES)
    denied = signed_in("merlion").post("/api/v1/imports/verra", files=upload,
                                       headers={"Idempotency-Key": "imp-1"})  # fmt: skip
    assert denied.status_code == 403
    assert every_table(demo_database, SIGN_IN_TABLES) == before
    admin = signed_in("admin")
    malformed = {"file": ("bad.csv", b"a,b\n1,2\n", "text/csv")}
    bad = admin.post("/api/v1/imports/verra", files=malformed, headers={"Idempotency-Key": "i0"})
    assert bad.status_code == 422 and bad.json()["code"] == "E_IMPORT_REFUSED"
    assert every_table(demo_database, SIGN_IN_TABLES) == before
    imported = admin.post(
        "/api/v1/imports/verra", files=upload, headers={"Idempotency-Key": "imp-1"}
    )
    assert imported.status_code == 201, imported.text
    assert imported.json()["quantity_imported"] == 272_119
    again = admin.post("/api/v1/imports/verra", files=upload, headers={"Idempotency-Key": "imp-2"})
    assert again.json()["blocks_imported"] == 0


JUNK_LINES = PROBLEMS_SHOWN_MAX * 20


def junk_export(rows: bool = False) -> bytes:
    """The Verra export's header (and its rows), then lines that are no rows of it."""
    export = (FIXTURES / "vcus_singapore.csv").read_bytes()
    return (export if rows else export.splitlines(keepends=True)[0]) + b"x\n" * JUNK_LINES


def test_a_refused_import_lists_its_first_problems_and_counts_them_all(
    with_key: WithKey, demo_database: str
) -> None:
    admin, upload = with_key("admin"), {"file": ("junk.csv", junk_export(), "text/csv")}
    with nothing_changes(demo_database):
        answer = admin.post(f"{API}/imports/verra", files=upload, headers=key("i1"))
    refused = problem(answer, 422, "E_IMPORT_REFUSED")
    assert len(refused["failures"]) == PROBLEMS_SHOWN_MAX
    assert refused["failures_total"] == JUNK_LINES
    assert f"{JUNK_LINES:,} rows have problems" in refused["detail"]


def test_an_import_skipping_bad_rows_lists_its_first_problems_and_counts_them_all(
    with_key: WithKey,
) -> None:
    upload = {"file": ("junk.csv", junk_export(rows=True), "text/csv")}
    answer = with_key("admin").post(f"{API}/imports/verra?skip_bad_rows=true", files=upload,
                                    headers=key("i1"))  # fmt: skip
    imported = ok(answer, 201)
    assert len(imported["problems"]) == PROBLEMS_SHOWN_MAX
    assert imported["problems_total"] == JUNK_LINES


def test_an_import_whose_file_name_names_no_real_file_is_refused_briefly_importing_nothing(
    signed_in: SignIn, demo_database: str
) -> None:
    admin = signed_in("admin")
    content = (FIXTURES / "vcus_singapore.csv").read_bytes()
    audited = audit_log(demo_database)
    with nothing_changes(demo_database, SIGN_IN_TABLES):
        for file_name, reason in REFUSED_FILE_NAMES:
            body, content_type = raw_multipart(file_name, content)
            headers = {"Content-Type": content_type, "Idempotency-Key": "imp-1"}
            answer = admin.post("/api/v1/imports/verra", content=body, headers=headers)
            refused = problem(answer, 422, "E_FILE_NAME_INVALID")
            assert reason in refused["detail"], file_name[:20]
            assert file_name not in answer.content, file_name[:20]  # never echoed
    assert audit_log(demo_database) == audited


def test_a_file_name_of_at_most_255_characters_without_disguise_is_accepted() -> None:
    assert file_name_problem("a" * (FILE_NAME_LENGTH_MAX - 4) + ".csv") is None
    assert file_name_problem("Verra VCUs 2024, Singapur, März (Kopie).csv") is None
    persian = "\u06af\u0632\u0627\u0631\u0634\u200c\u0647\u0627.csv"  # with a non-joiner
    assert file_name_problem(persian) is None
    assert file_name_problem("\U0001f469\u200d\U0001f52c.csv") is None  # an emoji sequence
    assert file_name_problem("a" * FILE_NAME_LENGTH_MAX + ".csv") is not None


@pytest.mark.parametrize("skip_bad_rows", [False, True], ids=["all-or-nothing", "skipping"])
def test_an_import_and_its_audit_row_commit_together_or_not_at_all(
    signed_in: SignIn, demo_database: str, monkeypatch: pytest.MonkeyPatch, skip_bad_rows: bool
) -> None:
    def store_fails(*_arguments: object) -> None:
        raise RuntimeError("the store failed writing the audit row")

    admin = signed_in("admin")
    upload = {"file": ("vcus_singapore.csv", (FIXTURES / "vcus_singapore.csv").read_bytes())}
    url = f"/api/v1/imports/verra?skip_bad_rows={str(skip_bad_rows).lower()}"
    monkeypatch.setattr(audit, "record", store_fails)
    with nothing_changes(demo_database, SIGN_IN_TABLES), pytest.raises(RuntimeError):
        admin.post(url, files=upload, headers={"Idempotency-Key": "imp-1"})
    monkeypatch.undo()
    imported = admin.post(url, files=upload, headers={"Idempotency-Key": "i2"})
    assert imported.status_code == 201 and imported.json()["blocks_imported"] == 92
    assert audit_log(demo_database)[-1] == (
        "admin",
        "session",
        "import_verra",
        "vcus_singapore.csv",
    )
