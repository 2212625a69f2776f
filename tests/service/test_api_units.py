"""Transfers, retirements and direct issuance: only an account's representatives instruct it,
large transfers and every issuance wait for a second person, cookie sessions need the CSRF
token, the same Idempotency-Key applies once, refusals carry the ledger's codes."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from carbonex.ledger import Ledger
from carbonex.service.policy import load_policy
from tests.databases import Rows, store_rows
from tests.ledger.support import execute_raw
from tests.service.conftest import SignIn, WithKey
from tests.service.support import (
    ADMINS,
    API,
    EVERYONE,
    audit_log,
    holding,
    journal_entries,
    key,
    nothing_changes,
    ok,
    problem,
)

THRESHOLD = load_policy().four_eyes_transfer_quantity_min
SOURCE, TARGET, PROJECT = "MERLION-DEV", "SKYWAYS-AIR", "VCS-1736"
NOT_REPRESENTATIVES = tuple(user for user in EVERYONE if user not in ("merlion", "merlion2"))


def transfer(quantity: int, **other: Any) -> dict[str, Any]:
    return {"from_account_id": SOURCE, "to_account_id": TARGET, "unit_type": "VCU",
            "quantity": quantity, "project_id": PROJECT} | other  # fmt: skip


RETIREMENT = {"account_id": "AMELIA-TAN", "unit_type": "VCU", "quantity": 10,
              "beneficiary": "Amelia Tan", "purpose": "flights 2026",
              "claim_period_start": "2026-01-01", "claim_period_end": "2026-12-31"}  # fmt: skip
ISSUANCE = {"account_id": "VERRA-ISSUANCE", "quantity": 5_000, "unit_type": "VCU",
            "standard": "Verra VCS", "project_id": "VCS-9999", "vintage_start": "2024-01-01",
            "vintage_end": "2024-12-31", "host_country": "SG", "methodology": "AM0029"}  # fmt: skip


def held(client: TestClient, account_id: str, project_id: str = PROJECT) -> int:
    return holding(ok(client.get(f"{API}/accounts/{account_id}/holdings")), project_id)


def test_a_representative_transfers_units_below_the_threshold_at_once(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion, admin = signed_in("merlion"), signed_in("admin")
    source, target = held(admin, SOURCE), held(admin, TARGET)
    answer = merlion.post(f"{API}/transfers", json=transfer(THRESHOLD - 1), headers=key("t1"))
    accepted = ok(answer, 201)
    assert accepted["accepted"] and accepted["command_id"] == "merlion:t1"
    assert (held(admin, SOURCE), held(admin, TARGET)) == (
        source - (THRESHOLD - 1),
        target + THRESHOLD - 1,
    )
    assert audit_log(demo_database)[-1] == ("merlion", "session", "transfer", SOURCE)


def test_nobody_but_the_accounts_representatives_transfers_from_it(
    public: TestClient, signed_in: SignIn, demo_database: str
) -> None:
    clients = [signed_in(user_id) for user_id in NOT_REPRESENTATIVES]
    with nothing_changes(demo_database):
        for client in clients:
            answer = client.post(f"{API}/transfers", json=transfer(5), headers=key("t1"))
            problem(answer, 403, "E_FORBIDDEN")
        answer = public.post(f"{API}/transfers", json=transfer(5), headers=key("t1"))
        problem(answer, 401, "E_UNAUTHENTICATED")


def test_a_cookie_session_must_send_its_csrf_token_to_write(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion, other_session = signed_in("merlion"), signed_in("merlion2").headers["X-CSRF-Token"]
    with nothing_changes(demo_database):
        for token in ("", "forged-token"):
            answer = merlion.post(f"{API}/transfers", json=transfer(5), headers=key("t1") | {
                "X-CSRF-Token": token})  # fmt: skip
            problem(answer, 403, "E_CSRF_TOKEN_INVALID")
        answer = merlion.post(f"{API}/transfers", json=transfer(5),
                              headers=key("t1") | {"X-CSRF-Token": other_session})  # fmt: skip
        problem(answer, 403, "E_CSRF_TOKEN_INVALID")


def test_an_api_key_writes_without_a_csrf_token(with_key: WithKey, demo_database: str) -> None:
    answer = with_key("merlion").post(f"{API}/transfers", json=transfer(5), headers=key("t1"))
    assert ok(answer, 201)["accepted"]
    assert audit_log(demo_database)[-1] == ("merlion", "api_key", "transfer", SOURCE)


def test_a_refused_transfer_is_a_problem_carrying_the_ledgers_codes(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion = signed_in("merlion")
    with nothing_changes(demo_database):
        too_many = transfer(THRESHOLD - 1, project_id="VCS-2551", vintage_year=2019)
        body = problem(merlion.post(f"{API}/transfers", json=too_many, headers=key("a")), 409,
                       "E_UNITS_NOT_HELD")  # fmt: skip
        assert body["failures"][0]["code"] == "E_UNITS_NOT_HELD"
        assert body["failures"][0]["ids"] == [SOURCE]
        nowhere = transfer(5, to_account_id="NO-SUCH-ACCOUNT")
        body = problem(merlion.post(f"{API}/transfers", json=nowhere, headers=key("b")), 409,
                       "E_UNKNOWN_ACCOUNT")  # fmt: skip
        to_itself = transfer(5, to_account_id=SOURCE)
        answer = merlion.post(f"{API}/transfers", json=to_itself, headers=key("c"))
        problem(answer, 409, "E_SAME_SOURCE_AND_TARGET")
        malformed = merlion.post(f"{API}/transfers", json=transfer(0), headers=key("d"))
        body = problem(malformed, 422, "E_REQUEST_INVALID")
        assert body["failures"][0]["location"] == ["body", "quantity"]


NUMBERS_OF_ANOTHER_TYPE = (
    ({"quantity": True}, "quantity"),
    ({"quantity": "5"}, "quantity"),
    ({"quantity": 5.0}, "quantity"),
    ({"quantity": 5, "vintage_year": "2019"}, "vintage_year"),
    ({"quantity": None, "serial_ranges": [["1", "5"]]}, "serial_ranges"),
)


def test_a_number_sent_as_another_json_type_is_refused_as_malformed(
    with_key: WithKey, demo_database: str
) -> None:
    merlion = with_key("merlion")
    with nothing_changes(demo_database):
        for number, field in NUMBERS_OF_ANOTHER_TYPE:
            answer = merlion.post(f"{API}/transfers", json=transfer(1) | number, headers=key("n"))
            refused = problem(answer, 422, "E_REQUEST_INVALID")
            assert refused["failures"][0]["location"][:2] == ["body", field], number


def test_the_same_key_twice_moves_the_units_once(signed_in: SignIn, demo_database: str) -> None:
    merlion = signed_in("merlion")
    before = held(merlion, SOURCE)
    first = ok(merlion.post(f"{API}/transfers", json=transfer(7), headers=key("t1")), 201)
    with nothing_changes(demo_database):
        again = ok(merlion.post(f"{API}/transfers", json=transfer(7), headers=key("t1")), 201)
    assert again | {"duplicate": False} == first and again["duplicate"]
    assert held(merlion, SOURCE) == before - 7
    assert journal_entries(demo_database, "merlion:t1") == 1
    assert [entry[2] for entry in audit_log(demo_database)].count("transfer") == 1


def test_the_same_key_for_another_transfer_is_refused(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion = signed_in("merlion")
    ok(merlion.post(f"{API}/transfers", json=transfer(7), headers=key("t1")), 201)
    with nothing_changes(demo_database):
        answer = merlion.post(f"{API}/transfers", json=transfer(8), headers=key("t1"))
        problem(answer, 409, "E_COMMAND_ID_REUSED")
        answer = merlion.post(f"{API}/transfers", json=transfer(THRESHOLD), headers=key("t1"))
        problem(answer, 409, "E_IDEMPOTENCY_KEY_REUSED")


def test_a_transfer_at_the_threshold_waits_for_a_second_person_and_moves_nothing_yet(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion = signed_in("merlion")
    before = held(merlion, SOURCE)
    answer = merlion.post(f"{API}/transfers", json=transfer(THRESHOLD), headers=key("big"))
    pending = ok(answer, 202)["pending_approval"]
    assert pending["approval_id"] == "merlion:big" and pending["status"] == "pending"
    assert pending["requested_by"] == "merlion" and pending["account_id"] == SOURCE
    assert held(merlion, SOURCE) == before
    assert journal_entries(demo_database, "merlion:big") == 0
    assert audit_log(demo_database)[-1] == ("merlion", "session", "request_transfer", "merlion:big")
    listed = ok(signed_in("merlion2").get(f"{API}/approvals"))
    assert {"merlion:big", "merlion:demo-large-sale"} <= {a["approval_id"] for a in listed}


def test_the_same_key_for_a_large_transfer_returns_the_same_pending_approval(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion = signed_in("merlion")
    first = ok(merlion.post(f"{API}/transfers", json=transfer(THRESHOLD), headers=key("big")), 202)
    with nothing_changes(demo_database):
        again = merlion.post(f"{API}/transfers", json=transfer(THRESHOLD), headers=key("big"))
        assert ok(again, 202) == first
        other = merlion.post(f"{API}/transfers", json=transfer(THRESHOLD + 1), headers=key("big"))
        problem(other, 409, "E_IDEMPOTENCY_KEY_REUSED")
        small = merlion.post(f"{API}/transfers", json=transfer(5), headers=key("big"))
        problem(small, 409, "E_IDEMPOTENCY_KEY_REUSED")


def test_a_large_transfer_the_ledger_would_refuse_is_refused_at_once(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion = signed_in("merlion")
    with nothing_changes(demo_database):
        answer = merlion.post(f"{API}/transfers", json=transfer(10**9), headers=key("huge"))
        problem(answer, 409, "E_UNITS_NOT_HELD")
        nowhere = transfer(THRESHOLD, to_account_id="NO-SUCH-ACCOUNT")
        answer = merlion.post(f"{API}/transfers", json=nowhere, headers=key("nowhere"))
        problem(answer, 409, "E_UNKNOWN_ACCOUNT")


def test_a_representative_retires_units_and_the_explorer_shows_the_beneficiary(
    signed_in: SignIn, public: TestClient, demo_database: str
) -> None:
    amelia = signed_in("amelia")
    retired = ok(amelia.post(f"{API}/retirements", json=RETIREMENT, headers=key("r1")), 201)
    assert retired["accepted"]
    shown = ok(public.get(f"{API}/explorer/retirements", params={"limit": 1000}))[-1]
    assert shown["seq"] == retired["seq"] and shown["quantity"] == 10
    assert (shown["beneficiary"], shown["purpose"]) == ("Amelia Tan", "flights 2026")
    assert shown["claim_period_end"] == "2026-12-31"
    assert audit_log(demo_database)[-1] == ("amelia", "session", "retire", "AMELIA-TAN")


def test_nobody_but_the_accounts_representatives_retires_its_units(
    public: TestClient, signed_in: SignIn, demo_database: str
) -> None:
    clients = [signed_in(user_id) for user_id in EVERYONE if user_id != "amelia"]
    with nothing_changes(demo_database):
        for client in clients:
            answer = client.post(f"{API}/retirements", json=RETIREMENT, headers=key("r1"))
            problem(answer, 403, "E_FORBIDDEN")
        answer = public.post(f"{API}/retirements", json=RETIREMENT, headers=key("r1"))
        problem(answer, 401, "E_UNAUTHENTICATED")


def test_a_retirement_of_units_not_held_is_refused(signed_in: SignIn, demo_database: str) -> None:
    amelia = signed_in("amelia")
    with nothing_changes(demo_database):
        too_many = RETIREMENT | {"quantity": 10**6}
        answer = amelia.post(f"{API}/retirements", json=too_many, headers=key("r"))
        problem(answer, 409, "E_UNITS_NOT_HELD")


def test_a_retirement_whose_beneficiary_holds_an_escape_or_an_override_is_refused_naming_it(
    signed_in: SignIn, demo_database: str
) -> None:
    amelia = signed_in("amelia")
    with nothing_changes(demo_database):
        for number, (character, code_point) in enumerate(
            (("\x1b", "U+001B"), ("\u202e", "U+202E"))
        ):
            body = RETIREMENT | {"beneficiary": f"Amelia {character}[31m Tan"}
            answer = amelia.post(f"{API}/retirements", json=body, headers=key(f"r{number}"))
            refused = problem(answer, 409, "E_TEXT_CHARACTER_NOT_ALLOWED")
            assert refused["failures"][0]["ids"] == ["beneficiary", code_point]
            assert code_point in refused["failures"][0]["message"]
            assert character not in answer.text and "\\u" not in answer.text  # never echoed


def test_a_retirement_for_a_name_written_with_joiners_is_accepted_and_shown_unchanged(
    signed_in: SignIn, public: TestClient
) -> None:
    amelia = signed_in("amelia")
    beneficiary = "\u06af\u0632\u0627\u0631\u0634\u200c\u0647\u0627 \U0001f469\u200d\U0001f52c"
    body = RETIREMENT | {"beneficiary": beneficiary}
    ok(amelia.post(f"{API}/retirements", json=body, headers=key("r1")), 201)
    shown = ok(public.get(f"{API}/explorer/retirements", params={"limit": 1000}))[-1]
    assert shown["beneficiary"] == beneficiary


def test_a_registry_administrators_issuance_waits_for_a_second_administrator(
    signed_in: SignIn, public: TestClient, demo_database: str
) -> None:
    answer = signed_in("admin").post(f"{API}/issuances", json=ISSUANCE, headers=key("i1"))
    pending = ok(answer, 202)["pending_approval"]
    assert pending["approval_id"] == "admin:i1" and pending["request"]["kind"] == "issue"
    issued = ok(public.get(f"{API}/explorer/issuances", params={"project_id": "VCS-9999"}))
    assert issued == []
    assert audit_log(demo_database)[-1] == ("admin", "session", "request_issue", "admin:i1")


def test_nobody_but_registry_administrators_requests_an_issuance(
    public: TestClient, signed_in: SignIn, demo_database: str
) -> None:
    clients = [signed_in(user_id) for user_id in EVERYONE if user_id not in ADMINS]
    with nothing_changes(demo_database):
        for client in clients:
            answer = client.post(f"{API}/issuances", json=ISSUANCE, headers=key("i1"))
            problem(answer, 403, "E_FORBIDDEN")
        answer = public.post(f"{API}/issuances", json=ISSUANCE, headers=key("i1"))
        problem(answer, 401, "E_UNAUTHENTICATED")


def test_an_issuance_the_ledger_would_refuse_is_refused_at_once(
    signed_in: SignIn, demo_database: str
) -> None:
    admin = signed_in("admin")
    with nothing_changes(demo_database):
        unknown = ISSUANCE | {"unit_type": "NOT-A-UNIT"}
        answer = admin.post(f"{API}/issuances", json=unknown, headers=key("i1"))
        problem(answer, 409, "E_UNKNOWN_UNIT_TYPE")
        nowhere = ISSUANCE | {"account_id": "NO-SUCH-ACCOUNT"}
        answer = admin.post(f"{API}/issuances", json=nowhere, headers=key("i2"))
        problem(answer, 409, "E_UNKNOWN_ACCOUNT")


def test_every_write_of_units_needs_an_idempotency_key(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion, amelia, admin = signed_in("merlion"), signed_in("amelia"), signed_in("admin")
    with nothing_changes(demo_database):
        for client, path, body in (
            (merlion, "transfers", transfer(5)),
            (merlion, "transfers", transfer(THRESHOLD)),
            (amelia, "retirements", RETIREMENT),
            (admin, "issuances", ISSUANCE),
        ):
            answer = client.post(f"{API}/{path}", json=body)
            failures = problem(answer, 422, "E_REQUEST_INVALID")["failures"]
            assert failures[0]["location"] == ["header", "Idempotency-Key"]


def _rows_as_stored(database: str) -> Rows:
    with Ledger.open(database) as ledger:
        return ledger.read(lambda store: store_rows(store, frozenset({"sessions"})), False)


def test_a_ledger_whose_head_was_altered_answers_503_and_applies_nothing(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion = signed_in("merlion")
    with Ledger.open(demo_database) as ledger:
        execute_raw(
            ledger,
            "UPDATE journal SET next_block_id = 1 WHERE seq = (SELECT MAX(seq) FROM journal)",
        )
    before = _rows_as_stored(demo_database)
    answer = merlion.post(f"{API}/transfers", json=transfer(1), headers=key("t-damaged"))
    body = problem(answer, 503, "E_LEDGER_DAMAGED")
    assert "head is damaged" in body["detail"]
    assert _rows_as_stored(demo_database) == before
