"""The public explorer: totals, issuances, retirements with their beneficiaries and the life of
any serial (its issuance, state and final facts; who traded with whom only for those who read
everything), without a sign-in, in pages of bounded size."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX, SERIAL_HISTORY_PAGE_SIZE_MAX, SERIAL_MAX
from tests.service.conftest import SignIn, WithKey
from tests.service.support import API, READERS_OF_EVERYTHING, ok, problem


def test_the_totals_are_public_and_add_up(public: TestClient) -> None:
    summary = ok(public.get(f"{API}/explorer/summary"))
    totals = summary["totals"]
    assert totals["issued"] == sum(kind["issued"] for kind in summary["by_unit_type"].values())
    assert summary["by_unit_type"]["VCU"]["issued"] == 140_000
    assert totals["issued"] == sum(
        totals[state]
        for state in ("held", "retired", "cancelled", "surrendered", "expired", "converted")
    )


def test_issuances_are_public_filtered_by_project_and_paged_by_id(public: TestClient) -> None:
    issuances = ok(public.get(f"{API}/explorer/issuances"))
    assert [i["issuance_id"] for i in issuances] == sorted(i["issuance_id"] for i in issuances)
    first = issuances[0]
    assert (first["project_id"], first["quantity"], first["host_country"]) == (
        "VCS-1736",
        100_000,
        "SG",
    )
    page = ok(public.get(f"{API}/explorer/issuances", params={"limit": 2, "after_id": 2}))
    assert [i["issuance_id"] for i in page] == [3, 4]
    solar = ok(public.get(f"{API}/explorer/issuances", params={"project_id": "A64-GH-0001"}))
    assert [(i["unit_type"], i["quantity"]) for i in solar] == [("A6.4ER", 105_000)]
    assert ok(public.get(f"{API}/explorer/issuances", params={"project_id": "NONE"})) == []


def test_retirements_are_public_with_their_beneficiaries_and_serials(public: TestClient) -> None:
    retirements = ok(public.get(f"{API}/explorer/retirements"))
    airline = retirements[0]
    assert airline["beneficiary"] == "Skyways Airlines plc"
    assert airline["serials"] == [{"serial_space": "VERRA/VCU", "first": 1, "last": 10_000}]
    assert airline["quantity"] == 10_000
    after = ok(public.get(f"{API}/explorer/retirements", params={"after_seq": airline["seq"]}))
    assert after == retirements[1:]


def test_the_public_and_holders_see_retirements_without_the_account_retired_from(
    public: TestClient, signed_in: SignIn, with_key: WithKey
) -> None:
    # Changed: the public list named the account each retirement was made from.
    for client in (public, signed_in("merlion"), with_key("skyways")):
        answer = client.get(f"{API}/explorer/retirements")
        retirements = ok(answer)
        assert retirements and all("account_id" not in r for r in retirements)
        assert "SKYWAYS-AIR" not in answer.text
        assert retirements[0]["beneficiary"] == "Skyways Airlines plc"
        assert retirements[0]["claim_period_end"] == "2026-12-31"
        vary = {v.strip().lower() for v in answer.headers["vary"].split(",")}
        assert {"authorization", "x-api-key", "cookie"} <= vary


@pytest.mark.parametrize("user_id", READERS_OF_EVERYTHING)
def test_who_may_read_everything_sees_each_retirements_account_never_stored(
    signed_in: SignIn, user_id: str
) -> None:
    answer = signed_in(user_id).get(f"{API}/explorer/retirements")
    assert ok(answer)[0]["account_id"] == "SKYWAYS-AIR"
    assert answer.headers["cache-control"] == "no-store"


def _private_names(full: dict[str, Any]) -> set[str]:
    """The account ids, hold ids and command ids a serial's whole provenance names."""
    names = {full["issuance"]["account_id"], full["current"]["account_id"]}
    for line in full["history"]:
        names |= {line["from_account"], line["to_account"], line["command_id"]}
        names.add(line["details"].get("hold_id"))
    return {name for name in names if name}


def test_the_public_sees_a_serials_issuance_state_and_final_facts_but_not_who_traded(
    public: TestClient, signed_in: SignIn
) -> None:
    # Changed: the public view showed every transfer's accounts, hold ids and command ids.
    admin = signed_in("admin")
    for serial, actions, state in (
        (1, ["issue", "retire"], "retired"),
        (50_000, ["issue"], "active"),
    ):
        path = f"{API}/explorer/serials/VERRA/VCU/{serial}"
        answer = public.get(path)
        seen = ok(answer)
        assert seen["issuance"]["attributes"]["project_id"] == "VCS-1736"
        assert seen["current"] == {"state": state}
        assert [line["action"] for line in seen["history"]] == actions
        assert not any(name in answer.text for name in _private_names(ok(admin.get(path))))
        assert "hold_id" not in answer.text and "account" not in answer.text
    retirement = ok(public.get(f"{API}/explorer/serials/VERRA/VCU/1"))["history"][-1]
    assert retirement["details"] == {
        "beneficiary": "Skyways Airlines plc",
        "purpose": "CORSIA first-phase offsetting requirement",
        "claim_period_start": "2024-01-01",
        "claim_period_end": "2026-12-31",
    }


@pytest.mark.parametrize("user_id", READERS_OF_EVERYTHING)
def test_who_may_read_everything_sees_a_serials_whole_provenance_never_stored(
    public: TestClient, signed_in: SignIn, user_id: str
) -> None:
    answer = signed_in(user_id).get(f"{API}/explorer/serials/VERRA/VCU/1")
    whole = ok(answer)
    assert answer.headers["cache-control"] == "no-store"
    assert whole["current"]["account_id"] == "VERRA-RETIREMENT"
    transfers = [line for line in whole["history"] if line["action"] == "transfer"]
    assert ("MERLION-DEV", "SKYWAYS-AIR") in [
        (t["from_account"], t["to_account"]) for t in transfers
    ]
    assert all(line["command_id"] for line in whole["history"])
    vary = public.get(f"{API}/explorer/serials/VERRA/VCU/1").headers["vary"]
    assert {"authorization", "x-api-key", "cookie"} <= {v.strip().lower() for v in vary.split(",")}


def test_a_holder_sees_a_serials_public_provenance(signed_in: SignIn, with_key: WithKey) -> None:
    for client in (signed_in("merlion"), with_key("skyways")):
        seen = ok(client.get(f"{API}/explorer/serials/VERRA/VCU/1"))
        assert [line["action"] for line in seen["history"]] == ["issue", "retire"]


def _history_pages(client: TestClient, path: str, limit: int) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    after_seq: int | None = 0
    while after_seq is not None:
        pages.append(ok(client.get(path, params={"after_seq": after_seq, "limit": limit})))
        after_seq = pages[-1]["next_after_seq"]
    return pages


def test_a_serials_history_pages_by_cursor_and_every_page_says_how_it_ended(
    public: TestClient, signed_in: SignIn
) -> None:
    # Changed: the history held the first 1,000 entries only, the retirement then missing.
    path = f"{API}/explorer/serials/VERRA/VCU/1"
    whole = ok(signed_in("admin").get(path))
    pages = _history_pages(signed_in("audrey"), path, 1)
    assert len(pages) == len(whole["history"]) > 2
    assert [line for page in pages for line in page["history"]] == whole["history"]
    assert all(page["final"] == whole["final"] for page in pages)
    assert whole["final"]["details"]["beneficiary"] == "Skyways Airlines plc"
    seen = _history_pages(public, path, 1)
    assert [[line["action"] for line in page["history"]] for page in seen] == [
        ["issue"],
        ["retire"],
    ]
    assert all(page["final"]["details"]["beneficiary"] == "Skyways Airlines plc" for page in seen)
    assert all("account" not in str(page) for page in seen)


def test_a_serials_history_page_beyond_its_bounds_is_refused(public: TestClient) -> None:
    path = f"{API}/explorer/serials/VERRA/VCU/1"
    assert ok(public.get(path, params={"limit": SERIAL_HISTORY_PAGE_SIZE_MAX}))
    for params in (
        {"limit": 0},
        {"limit": SERIAL_HISTORY_PAGE_SIZE_MAX + 1},
        {"after_seq": -1},
        {"after_seq": 2**63},
    ):
        problem(public.get(path, params=params), 422, "E_REQUEST_INVALID")


def test_a_serial_that_is_not_there_or_malformed_is_refused(public: TestClient) -> None:
    problem(public.get(f"{API}/explorer/serials/VERRA/VCU/999999999"), 404, "E_NOT_FOUND")
    problem(public.get(f"{API}/explorer/serials/NOPE/VCU/1"), 404, "E_NOT_FOUND")
    for bad in ("VERRA/VCU/0", f"VERRA/VCU/{SERIAL_MAX + 1}", "VERRA/V%20CU/1"):
        problem(public.get(f"{API}/explorer/serials/{bad}"), 422, "E_REQUEST_INVALID")


def test_explorer_lists_refuse_pages_above_the_maximum_size(public: TestClient) -> None:
    for path in ("issuances", "retirements"):
        assert ok(public.get(f"{API}/explorer/{path}", params={"limit": QUERY_PAGE_SIZE_MAX}))
        for limit in (0, QUERY_PAGE_SIZE_MAX + 1):
            answer = public.get(f"{API}/explorer/{path}", params={"limit": limit})
            problem(answer, 422, "E_REQUEST_INVALID")


def test_an_unknown_path_and_a_wrong_method_are_problems_too(public: TestClient) -> None:
    problem(public.get(f"{API}/no-such-thing"), 404, "E_NOT_FOUND")
    answer = public.delete(f"{API}/explorer/summary")
    problem(answer, 405, "E_METHOD_NOT_ALLOWED")
    assert answer.headers["allow"] == "GET"


def test_text_with_a_nul_character_is_refused_as_malformed(public: TestClient) -> None:
    problem(public.get(f"{API}/projects", params={"after": "\x00"}), 422, "E_REQUEST_INVALID")
    problem(public.get(f"{API}/projects/A64%00"), 422, "E_REQUEST_INVALID")
    sign_in = {"user_id": "admin\x00", "password": "x"}
    problem(public.post(f"{API}/session", json=sign_in), 422, "E_REQUEST_INVALID")
