"""The public explorer: totals, issuances, retirements with their beneficiaries and the life of
any serial, without a sign-in, in pages of bounded size."""

from __future__ import annotations

from fastapi.testclient import TestClient

from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX, SERIAL_MAX
from tests.service.support import API, ok, problem


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


def test_the_life_of_a_serial_is_public(public: TestClient) -> None:
    serial = ok(public.get(f"{API}/explorer/serials/VERRA/VCU/1"))
    assert serial["issuance"]["attributes"]["project_id"] == "VCS-1736"
    assert serial["current"]["state"] == "retired"
    assert serial["history"][0]["action"] == "issue"
    assert serial["history"][-1]["details"]["beneficiary"] == "Skyways Airlines plc"
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
