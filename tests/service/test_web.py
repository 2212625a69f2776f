"""The web pages through FastAPI's TestClient, on both stores: who sees which page, sign-in
redirects, CSRF and idempotency of forms, refusals with their stable codes, the four-eyes rule,
the public explorer, the import page, escaping, and the chart geometry."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import html
import io
import re
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from carbonex.ledger import Issue, Ledger
from carbonex.service import charts, identity
from carbonex.service.approvals import APPROVALS_PAGE_SIZE_MAX
from carbonex.service.demo import DEMO_PASSWORD, HOLDER
from carbonex.service.pages import dashboard
from carbonex.service.pages import explorer as explorer_pages
from carbonex.service.pages.approvals import APPROVALS_SHOWN_MAX
from carbonex.service.pages.projects import PROJECT_ISSUANCES_SHOWN_MAX
from carbonex.service.routes.imports import PROBLEMS_SHOWN_MAX
from tests.ledger.support import GEC, issue, open_accounts, vcu
from tests.service.conftest import SignIn
from tests.service.support import (
    REFUSED_FILE_NAMES,
    SIGN_IN_TABLES,
    add_user,
    audit_log,
    nothing_changes,
    queue_issuances,
    raw_multipart,
    waiting_counts,
)

DEVELOPER, AIRLINE = "MERLION-DEV", "SKYWAYS-AIR"
DEMO_APPROVAL = "merlion:demo-large-sale"
VERRA_EXPORT = Path(__file__).parents[1] / "imports" / "fixtures" / "vcus_singapore.csv"
VERRA_EXPORT_ROWS = 92
PUBLIC_PAGES = (
    "/",
    "/login",
    "/explorer",
    "/explorer/issuances",
    "/explorer/retirements",
    "/explorer/serial",
    "/projects",
    "/projects/A64-GH-0001",
    "/projects/VCS-1736",
)
SIGNED_IN_PAGES = (f"/accounts/{DEVELOPER}", "/approvals", "/import")


def fields(client: TestClient, **values: Any) -> dict[str, Any]:
    """A form as the page renders it: the session's CSRF token and a fresh idempotency key."""
    token = client.headers["X-CSRF-Token"]
    return {"csrf_token": token, "idempotency_key": uuid.uuid4().hex} | values


def active_units(client: TestClient, account_id: str, unit_type: str = "VCU") -> int:
    answer = client.get(f"/api/v1/accounts/{account_id}/holdings")
    assert answer.status_code == 200, answer.text
    return sum(
        h["quantity"]
        for h in answer.json()
        if h["unit_type"] == unit_type and h["state"] == "active" and not h["on_hold"]
    )


def pending_ids(client: TestClient) -> set[str]:
    return {a["approval_id"] for a in client.get("/api/v1/approvals").json()}


def transfer(client: TestClient, quantity: int, **extra: Any) -> Any:
    form = fields(client, form="transfer", to_account_id=AIRLINE, unit_type="VCU",
                  quantity=str(quantity))  # fmt: skip
    return client.post(f"/accounts/{DEVELOPER}/transfer", data=form | extra)


# -- who sees what ------------------------------------------------------------------------------


@pytest.mark.parametrize("path", PUBLIC_PAGES)
def test_public_pages_render_signed_out(public: TestClient, path: str) -> None:
    answer = public.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert answer.headers["x-frame-options"] == "DENY"
    assert "Sign in" in answer.text


def test_dashboard_signed_out_shows_totals_and_charts(public: TestClient) -> None:
    page = public.get("/").text
    assert 'id="chart-vintage"' in page and 'id="chart-category"' in page
    assert 'class="bar bar-issued"' in page and 'class="bar bar-retired"' in page
    assert ">2021<" in page and ">avoidance<" in page and ">removal<" in page
    assert "427,000" in page  # issued, all unit types


def test_charts_filter_by_unit_type(public: TestClient) -> None:
    page = public.get("/explorer", params={"unit_type": "VCU"}).text
    assert "140,000" in page  # VCUs issued
    assert ">2016</text>" not in page  # no VCU of vintage 2016 in the chart
    unknown = public.get("/explorer", params={"unit_type": "NOPE"}).text
    assert "427,000" in unknown and ">2016</text>" in unknown  # unknown: everything


CERTIFICATES_2012 = dataclasses.replace(
    GEC, vintage_start=dt.date(2012, 1, 1), vintage_end=dt.date(2012, 12, 31)
)


def totals_shown(page: str) -> dict[str, str]:
    """Metric -> the "Issued" figure of the page's totals cards."""
    totals = page[page.index('id="totals"') :]
    return dict(
        re.findall(
            r'data-metric="([^"]+)">\s*<div class="card stat"><span class="stat-label">Issued'
            r'</span><span class="stat-value">([\d,]+) ',
            totals,
        )
    )


def test_tonnes_and_megawatt_hours_are_never_added_up(
    public: TestClient, demo_database: str
) -> None:
    with Ledger.open(demo_database) as ledger:
        open_accounts(ledger, "SOLAR-PARK")
        issue(ledger, "SOLAR-PARK", 3_000, CERTIFICATES_2012, command_id="issue-gec-web")
    page = public.get("/").text
    assert list(totals_shown(page).items()) == [("tCO2e", "427,000"), ("MWh", "3,000")]
    assert "tCO2e (A6.4ER, CER, EUA, VCU); MWh (GEC)." in page
    assert "all tCO2e unit types" in page and ">2012</text>" not in page
    certificates = public.get("/explorer", params={"unit_type": "GEC"}).text
    assert totals_shown(certificates) == {"MWh": "3,000"}
    assert "MWh issued and retired per vintage year, GEC units." in certificates
    assert ">2012</text>" in certificates


def test_an_account_holding_tonnes_and_certificates_shows_each_in_its_metric(
    signed_in: SignIn, demo_database: str
) -> None:
    merlion = signed_in("merlion")
    with Ledger.open(demo_database) as ledger:
        issue(ledger, DEVELOPER, 250, CERTIFICATES_2012, command_id="issue-gec-to-merlion")
    holdings = merlion.get(f"/api/v1/accounts/{DEVELOPER}/holdings").json()
    tonnes = sum(
        h["quantity"]
        for h in holdings
        if h["unit_type"] != "GEC" and h["state"] == "active" and not h["on_hold"]
    )
    page = merlion.get(f"/accounts/{DEVELOPER}").text
    available = page[page.index('data-testid="account-units"') :].split("</div>", 1)[0]
    assert f'{tonnes:,} <span class="stat-unit">tCO2e</span>' in available
    assert '250 <span class="stat-unit">MWh</span>' in available
    assert '250 <span class="stat-unit">MWh</span>' in merlion.get("/").text


@pytest.mark.parametrize("path", SIGNED_IN_PAGES)
def test_pages_that_need_sign_in_redirect_to_login(public: TestClient, path: str) -> None:
    answer = public.get(path, follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=" + path.replace("/", "%2F")


def test_forms_signed_out_redirect_and_htmx_gets_a_redirect_header(public: TestClient) -> None:
    answer = public.post(f"/accounts/{DEVELOPER}/transfer", data={}, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/login")
    htmx = public.post("/approvals/x/approve", headers={"HX-Request": "true"})
    assert htmx.status_code == 204 and htmx.headers["hx-redirect"].startswith("/login")


def test_holder_sees_own_dashboard_account_and_forms(signed_in: SignIn) -> None:
    merlion = signed_in("merlion")
    dashboard = merlion.get("/").text
    assert "Mei Lin (Merlion Power)" in dashboard
    assert 'data-testid="holdings-panel"' in dashboard and "VCS-1736" in dashboard
    assert "Recent activity" in dashboard and "TRADE-2026-0142" in dashboard
    account = merlion.get(f"/accounts/{DEVELOPER}").text
    assert 'data-testid="transfer-form"' in account and 'data-testid="retire-form"' in account
    assert account.count('name="csrf_token" value="' + merlion.headers["X-CSRF-Token"]) >= 3
    keys = re.findall(r'name="idempotency_key" value="([0-9a-f]{32})"', account)
    assert len(keys) == len(set(keys)) >= 3  # a fresh key per rendered form
    assert merlion.get("/import").status_code == 403


def test_a_holder_of_more_accounts_than_the_dashboard_shows_is_told_it_shows_the_first(
    signed_in: SignIn, demo_database: str
) -> None:
    extra = [f"AMELIA-{n:02d}" for n in range(dashboard.DASHBOARD_ACCOUNTS_MAX)]
    with Ledger.open(demo_database) as ledger:
        open_accounts(ledger, *extra)
        ledger.transact(
            lambda tx: ([identity.add_representative(tx.store, "amelia", a) for a in extra], True)
        )
    page = signed_in("amelia").get("/").text
    total = dashboard.DASHBOARD_ACCOUNTS_MAX + 1  # and her own
    assert f"representing {total} accounts" in page
    assert f"across the first {dashboard.DASHBOARD_ACCOUNTS_MAX} of your {total} accounts" in page


def test_readers_see_accounts_read_only(signed_in: SignIn) -> None:
    for user_id in ("admin", "audrey", "nadia"):
        reader = signed_in(user_id)
        page = reader.get(f"/accounts/{DEVELOPER}")
        assert page.status_code == 200
        assert "Read-only" in page.text and "transfer-form" not in page.text
        dashboard = reader.get("/").text
        assert (
            'data-testid="registry-accounts"' in dashboard and "Latest journal entries" in dashboard
        )
    assert signed_in("admin").get("/import").status_code == 200


def test_forbidden_account_page_is_403(signed_in: SignIn) -> None:
    skyways = signed_in("skyways")
    answer = skyways.get(f"/accounts/{DEVELOPER}")
    assert answer.status_code == 403
    assert "E_FORBIDDEN" in answer.text and 'data-testid="error-page"' in answer.text
    assert signed_in("admin").get("/accounts/NO-SUCH-ACCOUNT").status_code == 404


def test_approval_queue_offers_decisions_to_the_second_person_only(signed_in: SignIn) -> None:
    own = signed_in("merlion").get("/approvals").text
    assert DEMO_APPROVAL in own and "Waiting for a second person" in own
    assert 'data-action="approve"' not in own
    other = signed_in("merlion2").get("/approvals").text
    assert DEMO_APPROVAL in other and 'data-action="approve"' in other
    assert DEMO_APPROVAL not in signed_in("amelia").get("/approvals").text


def test_the_approval_queue_finds_yours_behind_hundreds_you_may_not_see(
    signed_in: SignIn, demo_database: str
) -> None:
    queue_issuances(demo_database, APPROVALS_SHOWN_MAX + 1)  # ids sorted before the sale's
    second = signed_in("merlion2").get("/approvals").text
    assert second.count("data-approval-id") == 1 and DEMO_APPROVAL in second
    assert 'data-action="approve"' in second and "Nothing is waiting" not in second
    assert 'data-testid="approvals-cut"' not in second
    admin = signed_in("admin").get("/approvals").text  # sees all 202: the first 200 shown
    assert admin.count("data-approval-id") == APPROVALS_SHOWN_MAX and DEMO_APPROVAL not in admin
    assert f"The first {APPROVALS_SHOWN_MAX} pending requests you may see are shown" in admin


def test_the_dashboard_counts_your_approvals_behind_the_first_pages_of_the_queue(
    signed_in: SignIn, demo_database: str
) -> None:
    queue_issuances(demo_database, APPROVALS_PAGE_SIZE_MAX + 1)  # sorted before the sale
    assert waiting_counts(signed_in("merlion2")) == ("1", "0")
    assert waiting_counts(signed_in("merlion")) == ("0", "1")
    assert waiting_counts(signed_in("admin2")) == ("501", "0")
    assert waiting_counts(signed_in("admin")) == ("0", "501")


def test_past_the_approvals_the_dashboard_reads_its_counts_say_they_are_at_least_that(
    signed_in: SignIn, demo_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue_issuances(demo_database, 3)  # with the sale, four pending
    merlion2, admin = signed_in("merlion2"), signed_in("admin")
    monkeypatch.setattr(dashboard, "APPROVALS_COUNTED_MAX", 4)  # the whole queue: exact
    assert waiting_counts(merlion2) == ("1", "0") and waiting_counts(admin) == ("0", "3")
    monkeypatch.setattr(dashboard, "APPROVALS_COUNTED_MAX", 3)  # the sale is not read
    assert waiting_counts(merlion2) == ("0+", "0+") and waiting_counts(admin) == ("0+", "3+")
    assert "four-eyes requests, in the first 3 pending" in merlion2.get("/").text


# -- CSRF and idempotency -----------------------------------------------------------------------

FORM_POSTS = (
    (f"/accounts/{DEVELOPER}/transfer", {"to_account_id": AIRLINE, "unit_type": "VCU",
                                         "quantity": "5"}),
    (f"/accounts/{DEVELOPER}/retire", {"unit_type": "VCU", "quantity": "5",
                                       "beneficiary": "B", "purpose": "P"}),
    (f"/approvals/{DEMO_APPROVAL}/approve", {}),
    (f"/approvals/{DEMO_APPROVAL}/reject", {}),
    ("/logout", {}),
)  # fmt: skip


@pytest.mark.parametrize("token", [None, "", "forged-token"])
def test_forms_without_a_valid_csrf_token_are_refused_and_change_nothing(
    signed_in: SignIn, token: str | None
) -> None:
    merlion, merlion2 = signed_in("merlion"), signed_in("merlion2")
    before = active_units(merlion, DEVELOPER)
    for path, values in FORM_POSTS:
        client = merlion2 if "approvals" in path else merlion
        form = fields(client, **values)
        if token is None:
            del form["csrf_token"]
        else:
            form["csrf_token"] = token
        answer = client.post(path, data=form)
        assert answer.status_code == 403, (path, answer.text)
        assert "E_CSRF_TOKEN_INVALID" in answer.text
    assert active_units(merlion, DEVELOPER) == before
    assert DEMO_APPROVAL in pending_ids(merlion2)
    assert merlion.get("/api/v1/me").status_code == 200  # still signed in


def test_a_form_needs_its_idempotency_key(signed_in: SignIn) -> None:
    merlion = signed_in("merlion")
    before = active_units(merlion, DEVELOPER)
    answer = transfer(merlion, 5, idempotency_key="not a key!")
    assert answer.status_code == 422 and "E_IDEMPOTENCY_KEY_INVALID" in answer.text
    assert active_units(merlion, DEVELOPER) == before


def test_transfer_form_and_its_resubmission(signed_in: SignIn) -> None:
    merlion, skyways = signed_in("merlion"), signed_in("skyways")
    before = active_units(skyways, AIRLINE)
    form = fields(merlion, to_account_id=AIRLINE, unit_type="VCU", quantity="1,500")
    first = merlion.post(f"/accounts/{DEVELOPER}/transfer", data=form)
    assert first.status_code == 200 and "Transfer accepted" in first.text
    again = merlion.post(f"/accounts/{DEVELOPER}/transfer", data=form)
    assert again.status_code == 200 and "already sent" in again.text
    assert active_units(skyways, AIRLINE) == before + 1_500


def test_refusals_show_their_stable_codes_and_keep_the_form(signed_in: SignIn) -> None:
    merlion = signed_in("merlion")
    before = active_units(merlion, DEVELOPER)
    unknown = transfer(merlion, 5, to_account_id="NO-SUCH-ACCOUNT")
    assert unknown.status_code == 409 and "E_UNKNOWN_ACCOUNT" in unknown.text
    assert 'value="NO-SUCH-ACCOUNT"' in unknown.text  # the form keeps what was typed
    too_many = transfer(merlion, 5_000, project_id="VCS-2551", vintage_year="2021")
    assert too_many.status_code == 409 and "E_UNITS_NOT_HELD" in too_many.text
    invalid = transfer(merlion, 0)
    assert invalid.status_code == 422 and "E_REQUEST_INVALID" in invalid.text
    assert active_units(merlion, DEVELOPER) == before


def test_instructions_for_an_account_not_represented_are_refused(signed_in: SignIn) -> None:
    skyways = signed_in("skyways")
    answer = transfer(skyways, 5)
    assert answer.status_code == 403 and "E_FORBIDDEN" in answer.text
    admin = signed_in("admin")
    refused = transfer(admin, 5)  # administrators read every account but instruct none
    assert refused.status_code == 403 and "E_FORBIDDEN" in refused.text
    assert active_units(admin, DEVELOPER) == active_units(signed_in("merlion"), DEVELOPER)


# -- the four-eyes rule, retirements, the explorer -----------------------------------------------


def test_large_transfer_waits_and_a_second_person_approves(signed_in: SignIn) -> None:
    merlion, merlion2, skyways = signed_in("merlion"), signed_in("merlion2"), signed_in("skyways")
    before = active_units(skyways, AIRLINE)
    pending = transfer(merlion, 10_000)
    assert pending.status_code == 200 and "Pending approval" in pending.text
    assert active_units(skyways, AIRLINE) == before
    (approval_id,) = pending_ids(merlion) - {DEMO_APPROVAL}
    own = merlion.post(f"/approvals/{approval_id}/approve", data=fields(merlion))
    assert own.status_code == 403 and "E_FORBIDDEN" in own.text
    approved = merlion2.post(f"/approvals/{approval_id}/approve", data=fields(merlion2))
    assert approved.status_code == 200 and "Request approved" in approved.text
    assert active_units(skyways, AIRLINE) == before + 10_000
    again = merlion2.post(f"/approvals/{approval_id}/approve", data=fields(merlion2))
    assert again.status_code == 200 and "Request approved" in again.text  # a retry
    assert active_units(skyways, AIRLINE) == before + 10_000
    decided = merlion2.post(f"/approvals/{approval_id}/reject", data=fields(merlion2))
    assert decided.status_code == 409 and "E_APPROVAL_DECIDED" in decided.text


def test_reject_removes_the_request_from_the_queue(signed_in: SignIn) -> None:
    merlion2 = signed_in("merlion2")
    answer = merlion2.post(f"/approvals/{DEMO_APPROVAL}/reject", data=fields(merlion2))
    assert answer.status_code == 200 and "Request rejected" in answer.text
    assert DEMO_APPROVAL not in pending_ids(merlion2)


def test_retirement_with_a_beneficiary_is_public_and_escaped(
    signed_in: SignIn, public: TestClient
) -> None:
    merlion = signed_in("merlion")
    beneficiary = "<script>alert('x')</script> Merlion staff"
    form = fields(merlion, unit_type="VCU", quantity="30", beneficiary=beneficiary,
                  purpose="Travel 2025", claim_period_start="2025-01-01",
                  claim_period_end="2025-12-31")  # fmt: skip
    answer = merlion.post(f"/accounts/{DEVELOPER}/retire", data=form)
    assert answer.status_code == 200 and "Retirement accepted" in answer.text
    explorer = public.get("/explorer/retirements").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Merlion staff" in explorer
    assert "<script>alert" not in explorer
    missing = fields(merlion, unit_type="VCU", quantity="30", beneficiary="", purpose="P")
    refused = merlion.post(f"/accounts/{DEVELOPER}/retire", data=missing)
    assert refused.status_code == 422 and "beneficiary" in refused.text


def test_the_public_retirement_pages_name_no_account_but_a_registry_administrators_do(
    public: TestClient, signed_in: SignIn
) -> None:
    # Changed: the public pages said which account each retirement was made from.
    for path in ("/explorer", "/explorer/retirements"):
        for client in (public, signed_in("merlion")):
            shown = client.get(path).text
            assert "Skyways Airlines plc" in shown and f"from {AIRLINE}" not in shown
        assert f"from {AIRLINE}" in signed_in("admin").get(path).text


def test_serial_lookup_shows_provenance(public: TestClient) -> None:
    params = {"registry": "VERRA", "unit_type": "VCU", "serial": "1"}
    page = public.get("/explorer/serial", params=params)
    assert page.status_code == 200
    assert "Skyways Airlines plc" in page.text and "CORSIA first-phase" in page.text
    assert 'data-testid="current-state"' in page.text and "retired" in page.text
    lower = public.get("/explorer/serial", params=params | {"registry": "verra"})
    assert lower.status_code == 200
    missing = public.get("/explorer/serial", params=params | {"serial": "999999999"})
    assert missing.status_code == 404 and "E_NOT_FOUND" in missing.text
    invalid = public.get("/explorer/serial", params=params | {"serial": "one"})
    assert invalid.status_code == 422 and "E_REQUEST_INVALID" in invalid.text


NEXT_ENTRIES = re.compile(r'<a href="([^"]+)">Next entries')


def test_the_serial_page_pages_its_history_and_says_how_it_ended_on_every_page(
    signed_in: SignIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Changed: the page showed the first 1,000 entries, and then no retirement.
    monkeypatch.setattr(explorer_pages, "EXPLORER_PAGE_SIZE", 1)
    admin = signed_in("admin")
    whole = admin.get("/api/v1/explorer/serials/VERRA/VCU/1").json()["history"]
    link: str | None = "/explorer/serial?registry=VERRA&unit_type=VCU&serial=1"
    shown: list[str] = []
    while link is not None:
        page = admin.get(link)
        assert page.status_code == 200 and "Skyways Airlines plc" in page.text
        shown += re.findall(r"entry #(\d+)</div>", page.text)
        following = NEXT_ENTRIES.search(page.text)
        # the retirement's facts above the timeline of every page but the last, which lists it
        assert ('data-testid="final-state"' in page.text) == (following is not None)
        link = html.unescape(following.group(1)) if following else None
    assert shown == [str(line["seq"]) for line in whole]
    assert len(shown) > 2


PRIVATE_PROVENANCE = ("VERRA-ISSUANCE", "MERLION-DEV", "SKYWAYS-AIR", "VERRA-RETIREMENT",
                      "TRADE-2026-0142", "awaiting payment")  # fmt: skip
"""Accounts, a hold id and a hold's purpose in serial 1's history (the page shows no command
ids to anyone)."""


def test_the_public_serial_page_names_no_account_hold_or_command_but_a_reader_sees_them(
    public: TestClient, signed_in: SignIn
) -> None:
    # Changed: the public page named every account a serial passed through.
    params = {"registry": "VERRA", "unit_type": "VCU", "serial": "1"}
    shown = public.get("/explorer/serial", params=params).text
    assert "Skyways Airlines plc" in shown and "VCS-1736" in shown
    assert [name for name in PRIVATE_PROVENANCE if name in shown] == []
    for user_id in ("merlion", "skyways"):
        shown = signed_in(user_id).get("/explorer/serial", params=params).text
        assert [name for name in PRIVATE_PROVENANCE if name in shown] == []
    whole = signed_in("audrey").get("/explorer/serial", params=params).text
    assert [name for name in PRIVATE_PROVENANCE if name not in whole] == []


@pytest.mark.parametrize("serial", ["0", "\u00b2", "\u0661\u0662", "\uff11", "1\u00b2"])
def test_a_serial_of_anything_but_ascii_digits_is_refused_like_serial_zero(
    public: TestClient, serial: str
) -> None:
    """Superscript two, Arabic-Indic twelve, fullwidth one: str.isdigit() says yes to each."""
    params = {"registry": "VERRA", "unit_type": "VCU", "serial": serial}
    answer = public.get("/explorer/serial", params=params)
    assert answer.status_code == 422 and "E_REQUEST_INVALID" in answer.text
    assert "A serial is a whole number from 1 to" in answer.text
    assert 'data-testid="current-state"' not in answer.text


def test_project_page_shows_lifecycle_documents_and_reports(public: TestClient) -> None:
    page = public.get("/projects/A64-GH-0001").text
    assert "Accra Solar Park" in page and "monitoring-report.pdf" in page
    assert re.search(r"sha256 [0-9a-f]{64}", page)
    assert 'class="step-current"' in page and "105,000" in page
    assert public.get("/projects/NO-SUCH-PROJECT").status_code == 404


# -- signing in and out -------------------------------------------------------------------------


def test_every_issuance_of_a_project_is_reached_page_by_page(
    public: TestClient, demo_database: str
) -> None:
    count = PROJECT_ISSUANCES_SHOWN_MAX + 1
    with Ledger.open(demo_database) as ledger:
        open_accounts(ledger, "MANY-DEV")
        ledger.submit_many(
            [Issue(f"many-{n}", "MANY-DEV", 1, vcu(project_id="VCS-MANY")) for n in range(count)]
        )
    shown, target = [], "/projects/VCS-MANY"
    while target:
        page = public.get(target)
        assert page.status_code == 200, page.text
        shown += re.findall(r'<td class="num">#(\d+)</td>', page.text)
        found = re.search(r'<a href="([^"]+)"[^>]*>Next issuances', page.text)
        target = html.unescape(found.group(1)) if found else ""
    assert len(shown) == len(set(shown)) == count


def _login_token(client: TestClient) -> str:
    page = client.get("/login").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found
    return found.group(1)


def test_sign_in_form(public: TestClient) -> None:
    token = _login_token(public)
    wrong = {"csrf_token": token, "user_id": "merlion", "password": "not the password"}
    refused = public.post("/login", data=wrong)
    assert refused.status_code == 401 and "E_SIGN_IN_FAILED" in refused.text
    token = _login_token(public)
    forged = public.post("/login", data=wrong | {"csrf_token": "forged"})
    assert forged.status_code == 403 and "E_CSRF_TOKEN_INVALID" in forged.text
    good = {"csrf_token": _login_token(public), "user_id": "merlion", "password": DEMO_PASSWORD,
            "next": "//elsewhere.example/"}  # fmt: skip
    answer = public.post("/login", data=good, follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/"
    cookie = answer.headers["set-cookie"]
    assert "carbonex_session=" in cookie and "HttpOnly" in cookie and "Secure" in cookie
    assert public.get("/approvals").status_code == 200
    assert public.get("/login", follow_redirects=False).status_code == 303


def test_sign_out_ends_the_session(signed_in: SignIn) -> None:
    merlion = signed_in("merlion")
    answer = merlion.post("/logout", data=fields(merlion), follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert merlion.get("/approvals", follow_redirects=False).status_code == 303


# -- import ---------------------------------------------------------------------------------------


def _upload(client: TestClient, content: bytes, name: str = "vcus.csv") -> Any:
    files = {"file": (name, content, "text/csv")}
    return client.post("/import", data=fields(client), files=files)


def test_import_streams_progress_and_is_idempotent(signed_in: SignIn) -> None:
    admin = signed_in("admin")
    content = VERRA_EXPORT.read_bytes()
    first = _upload(admin, content)
    assert first.status_code == 200, first.text
    assert "Import complete" in first.text
    assert f"{VERRA_EXPORT_ROWS} rows done" in first.text  # the progress bar at its end
    assert 'value="93" max="93"' in first.text or 'max="93" value="93"' in first.text
    assert f"<dt>Blocks imported</dt><dd>{VERRA_EXPORT_ROWS}</dd>" in first.text
    again = _upload(admin, content)
    assert f"<dt>Already present</dt><dd>{VERRA_EXPORT_ROWS}</dd>" in again.text
    audit = admin.get("/api/v1/audit").json()
    assert any(entry["action"] == "import_verra" for entry in audit)


def test_import_refuses_bad_files_and_other_users(signed_in: SignIn) -> None:
    admin = signed_in("admin")
    bad = _upload(admin, b"Serial Number,Quantity Issued\n1,2\n")
    assert "Nothing imported" in bad.text and "required column" in bad.text
    assert "carbonex-import-" not in bad.text  # no server path
    rows = list(csv.DictReader(io.StringIO(VERRA_EXPORT.read_text(encoding="utf-8-sig"))))
    rows[2]["Serial Number"] = "not-a-serial"  # line 4: the header is line 1
    broken = io.StringIO()
    writer = csv.DictWriter(broken, fieldnames=list(rows[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    refused = _upload(admin, broken.getvalue().encode())
    assert "Nothing imported" in refused.text and "line 4" in refused.text
    assert "IMPORT-VERRA" not in admin.get("/").text  # no import account opened
    files = {"file": ("vcus.csv", broken.getvalue().encode(), "text/csv")}
    skipped = admin.post("/import", data=fields(admin, skip_bad_rows="on"), files=files)
    assert "bad rows skipped" in skipped.text and "line 4" in skipped.text
    assert f"<dt>Blocks imported</dt><dd>{VERRA_EXPORT_ROWS - 1}</dd>" in skipped.text
    merlion = signed_in("merlion")
    assert _upload(merlion, b"x").status_code == 403


def test_import_lists_the_first_problems_of_a_file_and_counts_the_others(
    signed_in: SignIn,
) -> None:
    header = VERRA_EXPORT.read_bytes().splitlines(keepends=True)[0]
    junk_lines = PROBLEMS_SHOWN_MAX * 20
    refused = _upload(signed_in("admin"), header + b"x\n" * junk_lines)
    assert "Nothing imported" in refused.text
    assert refused.text.count("<li>") == PROBLEMS_SHOWN_MAX
    assert f"and {junk_lines - PROBLEMS_SHOWN_MAX:,} more." in refused.text


def test_import_refuses_a_file_name_that_names_no_real_file_briefly_importing_nothing(
    signed_in: SignIn, demo_database: str
) -> None:
    admin = signed_in("admin")
    audited = audit_log(demo_database)
    with nothing_changes(demo_database, SIGN_IN_TABLES):
        for file_name, reason in REFUSED_FILE_NAMES:
            body, content_type = raw_multipart(
                file_name, VERRA_EXPORT.read_bytes(), **fields(admin)
            )
            answer = admin.post("/import", content=body, headers={"Content-Type": content_type})
            assert answer.status_code == 422, file_name[:20]
            assert "E_FILE_NAME_INVALID" in answer.text and reason in answer.text
            assert file_name not in answer.content, file_name[:20]  # never echoed
    assert audit_log(demo_database) == audited


# -- static files and charts ----------------------------------------------------------------------


def test_static_files_are_served_locally(public: TestClient) -> None:
    htmx = public.get("/static/htmx.min.js")
    assert htmx.status_code == 200 and "Zero-Clause BSD (0BSD)" in htmx.text[:600]
    assert public.get("/static/carbonex.css").status_code == 200
    page = public.get("/").text
    assert '<script src="/static/htmx.min.js"' in page
    assert not re.search(r'(src|href)="(https?:)?//', page)


def test_chart_scale_and_labels() -> None:
    assert [charts.nice_step(value) for value in (1, 4, 9, 427_000, 1_000_000)] == [
        1, 1, 2, 100_000, 200_000,
    ]  # fmt: skip
    assert charts.compact(20_000) == "20k" and charts.compact(1_500_000) == "1.5M"
    chart = charts.bar_chart("c", "t", "d", {"2021": {"issued": 100, "retired": 25}})
    issued, retired = chart.bars
    bottom = chart.plot_bottom_px
    assert issued.y_px + issued.height_px == retired.y_px + retired.height_px == bottom
    assert issued.height_px == 4 * retired.height_px
    assert chart.ticks[0].label == "0" and chart.ticks[-1].label == "100"
    assert charts.bar_chart("c", "t", "d", {}).empty


def test_categories_of_mixed_keys() -> None:
    rows = [("VCU", "P", "a", "b", "removal"), ("VCU", "P", "a", "b", "avoidance"),
            ("VCU", "Q", "a", "b", "removal")]  # fmt: skip
    assert charts.category_map(rows) == {
        ("VCU", "P", "a", "b"): charts.MIXED_CATEGORY,
        ("VCU", "Q", "a", "b"): "removal",
    }


def test_the_explorer_shows_the_journal_head_to_check_copies_against(public: TestClient) -> None:
    health = public.get("/api/v1/health").json()
    page = public.get("/explorer").text
    assert 'data-testid="journal-head"' in page
    assert f"Entry <strong>{health['journal_seq']:,}</strong>" in page
    assert f"--head-hash {health['journal_head_hash']}" in page


def multipart_form(**values: str) -> tuple[bytes, str]:
    """A multipart/form-data body of text fields only, byte for byte as given."""
    boundary = "carbonex-form-boundary"
    parts = [f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
             for name, value in values.items()]  # fmt: skip
    return "".join(parts).encode() + f"--{boundary}--\r\n".encode(), (
        f"multipart/form-data; boundary={boundary}"
    )


def test_a_sign_in_form_naming_a_user_with_a_nul_is_refused_and_changes_nothing(
    public: TestClient, demo_database: str
) -> None:
    urlencoded = b"csrf_token=%s&user_id=admin\x00&password=x" % _login_token(public).encode()
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    with nothing_changes(demo_database):
        answer = public.post("/login", content=urlencoded, headers=form_type)
    assert answer.status_code == 422 and "E_REQUEST_INVALID" in answer.text
    body, content_type = multipart_form(
        csrf_token=_login_token(public), user_id="admin\x00", password="x"
    )
    with nothing_changes(demo_database):
        answer = public.post("/login", content=body, headers={"Content-Type": content_type})
    assert answer.status_code == 401 and "E_SIGN_IN_FAILED" in answer.text


def test_the_sign_in_form_refuses_an_over_long_password_like_the_api_never_cutting_it(
    public: TestClient, demo_database: str
) -> None:
    longest = "p" * identity.PASSWORD_LENGTH_MAX
    add_user(demo_database, "longpass", "Long", longest, HOLDER)
    for password in (longest + "anything", longest + "p"):
        sent = {"csrf_token": _login_token(public), "user_id": "longpass", "password": password}
        with nothing_changes(demo_database):
            answer = public.post("/login", data=sent, follow_redirects=False)
            api = public.post("/api/v1/session", json={"user_id": "longpass", "password": password})
        assert answer.status_code == api.status_code == 422, answer.text
        assert "E_REQUEST_INVALID" in answer.text and "carbonex_session" not in public.cookies
    sent = {"csrf_token": _login_token(public), "user_id": "longpass", "password": longest}
    assert public.post("/login", data=sent, follow_redirects=False).status_code == 303


def test_a_user_name_with_spaces_around_it_is_refused_by_the_sign_in_form_as_by_the_api(
    public: TestClient, demo_database: str
) -> None:
    # Changed: the form trimmed " merlion " and signed merlion in; the API refused the same name.
    for user_id in (" merlion", "merlion ", "\tmerlion\n"):
        sent = {"csrf_token": _login_token(public), "user_id": user_id, "password": DEMO_PASSWORD}
        with nothing_changes(demo_database):
            answer = public.post("/login", data=sent, follow_redirects=False)
            api = public.post(
                "/api/v1/session", json={"user_id": user_id, "password": DEMO_PASSWORD}
            )
        assert answer.status_code == api.status_code == 401, answer.text
        assert "E_SIGN_IN_FAILED" in answer.text and "carbonex_session" not in public.cookies


def test_the_sign_in_form_refuses_an_over_long_user_name_never_cutting_it(
    public: TestClient, demo_database: str
) -> None:
    longest = "u" * identity.USER_ID_LENGTH_MAX
    add_user(demo_database, longest, "Long", DEMO_PASSWORD, HOLDER)
    sent = {"csrf_token": _login_token(public), "user_id": longest + "x", "password": DEMO_PASSWORD}
    with nothing_changes(demo_database):
        answer = public.post("/login", data=sent, follow_redirects=False)
    assert answer.status_code == 422 and "E_REQUEST_INVALID" in answer.text
    assert "carbonex_session" not in public.cookies
