"""Accounts: who may list and read them, who may open, freeze and unfreeze them and name their
representatives; idempotency keys, refusals with the ledger's codes, pages of bounded size."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from carbonex.ledger import Ledger
from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX
from tests.service.conftest import SignIn, WithKey
from tests.service.support import (
    ADMINS,
    API,
    EVERYONE,
    READERS_OF_EVERYTHING,
    audit_log,
    journal_entries,
    key,
    nothing_changes,
    ok,
    problem,
)

NOT_ADMINS = tuple(user for user in EVERYONE if user not in ADMINS)
NEW_ACCOUNT = {"account_id": "NEW-1", "kind": "company_holding", "holder": "New Holder Ltd"}
TRANSFER = {"from_account_id": "MERLION-DEV", "to_account_id": "SKYWAYS-AIR",
            "unit_type": "VCU", "quantity": 100}  # fmt: skip


def all_account_ids(database: str) -> list[str]:
    with Ledger.open(database) as ledger:
        rows = ledger.store.query("SELECT account_id FROM accounts ORDER BY account_id")
    return [str(row[0]) for row in rows]


def ids(answer: Any) -> list[str]:
    return [account["account_id"] for account in ok(answer)]


def test_readers_of_everything_list_every_account_and_others_only_their_own(
    signed_in: SignIn, demo_database: str
) -> None:
    every = all_account_ids(demo_database)
    for user_id in READERS_OF_EVERYTHING:
        assert ids(signed_in(user_id).get(f"{API}/accounts")) == every
    assert ids(signed_in("merlion").get(f"{API}/accounts")) == ["MERLION-DEV", "SOLAR-GH"]
    assert ids(signed_in("amelia").get(f"{API}/accounts")) == ["AMELIA-TAN"]
    for user_id in ("vera", "stan"):
        assert ids(signed_in(user_id).get(f"{API}/accounts")) == []


def test_account_lists_come_in_pages_of_at_most_the_maximum_size(
    signed_in: SignIn, demo_database: str
) -> None:
    every = all_account_ids(demo_database)
    admin, merlion = signed_in("admin"), signed_in("merlion")
    first = ids(admin.get(f"{API}/accounts", params={"limit": 5}))
    rest = ids(admin.get(f"{API}/accounts", params={"limit": 1000, "after": first[-1]}))
    assert first + rest == every and len(first) == 5
    assert ids(merlion.get(f"{API}/accounts", params={"limit": 1})) == ["MERLION-DEV"]
    page = merlion.get(f"{API}/accounts", params={"limit": 1, "after": "MERLION-DEV"})
    assert ids(page) == ["SOLAR-GH"]
    for limit in (0, QUERY_PAGE_SIZE_MAX + 1):
        body = problem(admin.get(f"{API}/accounts", params={"limit": limit}), 422,
                       "E_REQUEST_INVALID")  # fmt: skip
        assert body["failures"][0]["location"] == ["query", "limit"]


def test_reading_accounts_needs_a_sign_in(public: TestClient) -> None:
    for path in ("", "/MERLION-DEV", "/MERLION-DEV/holdings", "/MERLION-DEV/statement",
                 "/MERLION-DEV/representatives"):  # fmt: skip
        problem(public.get(f"{API}/accounts{path}"), 401, "E_UNAUTHENTICATED")


def test_a_holder_reads_their_own_account_and_no_other(signed_in: SignIn) -> None:
    merlion = signed_in("merlion")
    account = ok(merlion.get(f"{API}/accounts/MERLION-DEV"))
    assert account["holder"].startswith("Merlion Power") and account["status"] == "open"
    assert ok(merlion.get(f"{API}/accounts/MERLION-DEV/holdings"))
    assert ok(merlion.get(f"{API}/accounts/MERLION-DEV/statement"))
    assert ok(merlion.get(f"{API}/accounts/MERLION-DEV/representatives")) == [
        "merlion",
        "merlion2",
    ]
    for path in ("", "/holdings", "/statement", "/representatives"):
        problem(merlion.get(f"{API}/accounts/SKYWAYS-AIR{path}"), 403, "E_FORBIDDEN")
    for user_id in ("vera", "stan"):
        problem(signed_in(user_id).get(f"{API}/accounts/MERLION-DEV"), 403, "E_FORBIDDEN")


def test_readers_of_everything_read_any_account_and_an_unknown_one_is_not_found(
    signed_in: SignIn,
) -> None:
    for user_id in READERS_OF_EVERYTHING:
        client = signed_in(user_id)
        assert ok(client.get(f"{API}/accounts/SKYWAYS-AIR"))["account_id"] == "SKYWAYS-AIR"
        assert ok(client.get(f"{API}/accounts/SKYWAYS-AIR/holdings"))
        problem(client.get(f"{API}/accounts/NO-SUCH-ACCOUNT"), 404, "E_NOT_FOUND")


def test_the_statement_pages_line_by_line_without_losing_any(signed_in: SignIn) -> None:
    merlion = signed_in("merlion")
    everything = ok(merlion.get(f"{API}/accounts/MERLION-DEV/statement", params={"limit": 1000}))
    assert len({line["seq"] for line in everything}) < len(everything)  # an entry of 2 lines
    lines: list[dict[str, Any]] = []
    cursor: dict[str, int] = {}
    while True:
        params = {"limit": 1, **cursor}
        page = ok(merlion.get(f"{API}/accounts/MERLION-DEV/statement", params=params))
        lines += page
        if not page:
            break
        cursor = {"after_seq": page[-1]["seq"], "after_position": page[-1]["position"]}
    assert lines == everything
    too_big = {"limit": QUERY_PAGE_SIZE_MAX + 1}
    answer = merlion.get(f"{API}/accounts/MERLION-DEV/statement", params=too_big)
    problem(answer, 422, "E_REQUEST_INVALID")


def test_a_registry_administrator_opens_an_account_and_the_audit_log_names_them(
    signed_in: SignIn, demo_database: str
) -> None:
    admin = signed_in("admin")
    opened = ok(admin.post(f"{API}/accounts", json=NEW_ACCOUNT, headers=key("open-1")), 201)
    assert opened["accepted"] and opened["command_id"] == "admin:open-1"
    assert ok(admin.get(f"{API}/accounts/NEW-1"))["holder"] == "New Holder Ltd"
    assert audit_log(demo_database)[-1] == ("admin", "session", "open_account", "NEW-1")


def test_nobody_else_opens_accounts_and_a_denial_changes_nothing(
    public: TestClient, signed_in: SignIn, demo_database: str
) -> None:
    clients = {user_id: signed_in(user_id) for user_id in NOT_ADMINS}
    with nothing_changes(demo_database):
        for client in clients.values():
            answer = client.post(f"{API}/accounts", json=NEW_ACCOUNT, headers=key("open-1"))
            problem(answer, 403, "E_FORBIDDEN")
        answer = public.post(f"{API}/accounts", json=NEW_ACCOUNT, headers=key("open-1"))
        problem(answer, 401, "E_UNAUTHENTICATED")


def test_opening_an_account_needs_a_well_formed_idempotency_key(
    signed_in: SignIn, demo_database: str
) -> None:
    admin = signed_in("admin")
    with nothing_changes(demo_database):
        body = problem(admin.post(f"{API}/accounts", json=NEW_ACCOUNT), 422, "E_REQUEST_INVALID")
        assert body["failures"][0]["location"] == ["header", "Idempotency-Key"]
        for bad in ("has space", "x" * 64, "semi;colon"):
            answer = admin.post(f"{API}/accounts", json=NEW_ACCOUNT, headers=key(bad))
            problem(answer, 422, "E_REQUEST_INVALID")


def test_the_same_idempotency_key_again_returns_the_first_outcome_and_applies_nothing(
    with_key: WithKey, demo_database: str
) -> None:
    admin = with_key("admin")
    first = ok(admin.post(f"{API}/accounts", json=NEW_ACCOUNT, headers=key("open-1")), 201)
    with nothing_changes(demo_database):
        again = ok(admin.post(f"{API}/accounts", json=NEW_ACCOUNT, headers=key("open-1")), 201)
    assert (again["seq"], again["entry_hash"]) == (first["seq"], first["entry_hash"])
    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert journal_entries(demo_database, "admin:open-1") == 1
    assert [entry[2] for entry in audit_log(demo_database)].count("open_account") == 1


def test_the_same_idempotency_key_with_other_content_is_refused(
    with_key: WithKey, demo_database: str
) -> None:
    admin = with_key("admin")
    ok(admin.post(f"{API}/accounts", json=NEW_ACCOUNT, headers=key("open-1")), 201)
    other = NEW_ACCOUNT | {"account_id": "NEW-2"}
    with nothing_changes(demo_database):
        answer = admin.post(f"{API}/accounts", json=other, headers=key("open-1"))
        problem(answer, 409, "E_COMMAND_ID_REUSED")


def test_two_users_may_choose_the_same_idempotency_key(with_key: WithKey) -> None:
    first = with_key("admin").post(f"{API}/accounts", json=NEW_ACCOUNT, headers=key("k"))
    other = NEW_ACCOUNT | {"account_id": "NEW-2"}
    second = with_key("admin2").post(f"{API}/accounts", json=other, headers=key("k"))
    assert ok(first, 201)["seq"] != ok(second, 201)["seq"]


def test_a_refused_account_is_a_problem_carrying_the_ledgers_codes(
    signed_in: SignIn, demo_database: str
) -> None:
    admin = signed_in("admin")
    with nothing_changes(demo_database):
        unknown_kind = NEW_ACCOUNT | {"kind": "no_such_kind"}
        answer = admin.post(f"{API}/accounts", json=unknown_kind, headers=key("a"))
        body = problem(answer, 409, "E_UNKNOWN_ACCOUNT_KIND")
        assert [failure["code"] for failure in body["failures"]] == ["E_UNKNOWN_ACCOUNT_KIND"]
        existing = NEW_ACCOUNT | {"account_id": "MERLION-DEV"}
        answer = admin.post(f"{API}/accounts", json=existing, headers=key("b"))
        body = problem(answer, 409, "E_ACCOUNT_EXISTS")
        assert body["failures"][0]["ids"] == ["MERLION-DEV"]
        malformed = admin.post(f"{API}/accounts", json={"account_id": ""}, headers=key("c"))
        failures = problem(malformed, 422, "E_REQUEST_INVALID")["failures"]
        assert {failure["location"][-1] for failure in failures} >= {"account_id", "kind"}


def test_a_frozen_account_sends_nothing_until_it_is_unfrozen(
    signed_in: SignIn, demo_database: str
) -> None:
    admin, merlion = signed_in("admin"), signed_in("merlion")
    reason = {"reason": "court order 2026-17"}
    ok(admin.post(f"{API}/accounts/MERLION-DEV/freeze", json=reason, headers=key("f1")))
    assert ok(admin.get(f"{API}/accounts/MERLION-DEV"))["status"] == "frozen"
    with nothing_changes(demo_database):
        answer = merlion.post(f"{API}/transfers", json=TRANSFER, headers=key("t1"))
        problem(answer, 409, "E_ACCOUNT_FROZEN")
        again = admin.post(f"{API}/accounts/MERLION-DEV/freeze", json=reason, headers=key("f2"))
        problem(again, 409, "E_ACCOUNT_FROZEN")
    ok(admin.post(f"{API}/accounts/MERLION-DEV/unfreeze", json=reason, headers=key("u1")))
    ok(merlion.post(f"{API}/transfers", json=TRANSFER, headers=key("t1")), 201)
    with nothing_changes(demo_database):
        answer = admin.post(f"{API}/accounts/MERLION-DEV/unfreeze", json=reason, headers=key("u2"))
        problem(answer, 409, "E_ACCOUNT_NOT_FROZEN")
    assert [entry[:3] for entry in audit_log(demo_database)[-3:]] == [
        ("admin", "session", "freeze_account"),
        ("admin", "session", "unfreeze_account"),
        ("merlion", "session", "transfer"),
    ]


def test_only_registry_administrators_freeze_and_unfreeze(
    public: TestClient, signed_in: SignIn, demo_database: str
) -> None:
    clients = [signed_in(user_id) for user_id in NOT_ADMINS]
    reason = {"reason": "no"}
    with nothing_changes(demo_database):
        for action in ("freeze", "unfreeze"):
            path = f"{API}/accounts/AMELIA-TAN/{action}"
            for client in clients:
                problem(client.post(path, json=reason, headers=key("x")), 403, "E_FORBIDDEN")
            problem(public.post(path, json=reason, headers=key("x")), 401, "E_UNAUTHENTICATED")


def test_a_registry_administrator_names_a_representative_who_may_then_act(
    signed_in: SignIn, demo_database: str
) -> None:
    admin = signed_in("admin")
    added = admin.post(f"{API}/accounts/AMELIA-TAN/representatives", json={"user_id": "skyways"},
                       headers=key("rep-1"))  # fmt: skip
    assert ok(added, 201) == {"account_id": "AMELIA-TAN", "user_id": "skyways"}
    assert "AMELIA-TAN" in ok(signed_in("skyways").get(f"{API}/me"))["accounts"]
    assert audit_log(demo_database)[-1] == ("admin", "session", "add_representative", "AMELIA-TAN")
    with nothing_changes(demo_database):
        again = admin.post(f"{API}/accounts/AMELIA-TAN/representatives",
                           json={"user_id": "skyways"}, headers=key("rep-1"))  # fmt: skip
        assert ok(again, 201) == ok(added, 201)
        unknown_user = admin.post(f"{API}/accounts/AMELIA-TAN/representatives",
                                  json={"user_id": "nobody"}, headers=key("rep-2"))  # fmt: skip
        problem(unknown_user, 422, "E_USER_UNKNOWN")
        unknown_account = admin.post(f"{API}/accounts/NOPE/representatives",
                                     json={"user_id": "skyways"}, headers=key("rep-3"))  # fmt: skip
        problem(unknown_account, 404, "E_ACCOUNT_UNKNOWN")


def test_only_registry_administrators_name_representatives(
    public: TestClient, signed_in: SignIn, demo_database: str
) -> None:
    clients = [signed_in(user_id) for user_id in NOT_ADMINS]
    path, body = f"{API}/accounts/MERLION-DEV/representatives", {"user_id": "skyways"}
    with nothing_changes(demo_database):
        for client in clients:
            problem(client.post(path, json=body, headers=key("r")), 403, "E_FORBIDDEN")
        problem(public.post(path, json=body, headers=key("r")), 401, "E_UNAUTHENTICATED")


def test_text_holding_a_nul_character_is_refused_before_it_reaches_the_store(
    signed_in: SignIn, demo_database: str
) -> None:
    admin = signed_in("admin")
    with nothing_changes(demo_database):
        for bad in ({"holder": "New\x00Ltd"}, {"account_id": "NEW\x00"}):
            answer = admin.post(f"{API}/accounts", json=NEW_ACCOUNT | bad, headers=key("nul"))
            problem(answer, 422, "E_REQUEST_INVALID")
        problem(admin.get(f"{API}/accounts", params={"after": "\x00"}), 422, "E_REQUEST_INVALID")
