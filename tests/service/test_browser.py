"""The main journeys of the web interface in a real browser: Debian's Chromium driven by
Playwright, against `carbonex serve`'s app (uvicorn in a subprocess) on a fresh demo database.

Sign in and see holdings and charts; transfer; retire for a beneficiary; request a large
transfer that waits for a second person, who approves it; look up a serial in the public
explorer. Screenshots go to test-artifacts/screenshots/. Chromium is launched by path (never
downloaded): without it, or without the playwright package, these tests skip, unless
CARBONEX_REQUIRE_BROWSER=1 (CI sets it), which turns that into a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NoReturn

import pytest

from carbonex.ledger import Ledger
from carbonex.service.demo import DEMO_PASSWORD, load_demo

try:
    from playwright.sync_api import Browser, Locator, Page, expect, sync_playwright
except ImportError:  # the dev extra is not installed
    sync_playwright = None

REQUIRE_BROWSER = os.environ.get("CARBONEX_REQUIRE_BROWSER") == "1"
CHROMIUM_FALLBACK_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
SERVER_START_TIMEOUT_S = 60
SERVER_POLL_INTERVAL_S = 0.2
SERVER_STOP_TIMEOUT_S = 10
VIEWPORT = {"width": 1280, "height": 900}
DEVELOPER, AIRLINE = "MERLION-DEV", "SKYWAYS-AIR"
LARGE_TRANSFER = 10_000
VERRA_EXPORT = Path(__file__).parents[1] / "imports" / "fixtures" / "vcus_singapore.csv"
NewPage = Callable[[], "Page"]


def _unavailable(reason: str) -> NoReturn:
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason} (CARBONEX_REQUIRE_BROWSER=1)")
    pytest.skip(reason)


def _chromium_path() -> str | None:
    found = shutil.which("chromium")
    if found:
        return found
    return CHROMIUM_FALLBACK_PATH if Path(CHROMIUM_FALLBACK_PATH).exists() else None


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_serving(url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the server exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/login", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(SERVER_POLL_INTERVAL_S)
    pytest.fail(f"the server did not answer within {SERVER_START_TIMEOUT_S} s:\n{log.read_text()}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`carbonex serve`'s app on a free loopback port, over a fresh demo database."""
    directory = tmp_path_factory.mktemp("web_browser")
    database = str(directory / "demo.db")
    with Ledger.open(database) as ledger:
        assert load_demo(ledger)
    port, log = _free_port(), directory / "server.log"
    command = [sys.executable, "-m", "uvicorn", "--factory",
               "carbonex.service.app:app_from_environment", "--host", "127.0.0.1",
               "--port", str(port), "--log-level", "warning"]  # fmt: skip
    environment = os.environ | {"CARBONEX_DATABASE_URL": database}
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=environment, stdout=output, stderr=output)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(url, process, log)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    executable = _chromium_path()
    if executable is None:
        _unavailable("Chromium is not installed (apt-get install -y chromium)")
    if sync_playwright is None:
        _unavailable("the playwright package is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: Browser, server: str) -> Iterator[NewPage]:
    """new_page() -> a page in a fresh browser context (its own cookies), at the server. The
    pages must log no error to the console (a script blocked by the CSP would)."""
    contexts, errors = [], []

    def open_page() -> Page:
        context = browser.new_context(base_url=server, viewport=VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        page.on(
            "console",
            lambda message: errors.append(message.text) if message.type == "error" else None,
        )
        page.on("pageerror", lambda error: errors.append(str(error)))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert not [e for e in errors if "status of 4" not in e], errors


def screenshot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def sign_in(page: Page, user_id: str) -> None:
    page.goto("/login")
    form = page.get_by_test_id("login-form")
    form.locator("input[name=user_id]").fill(user_id)
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()


def fill_transfer(page: Page, to_account_id: str, quantity: int) -> None:
    form = page.get_by_test_id("transfer-form")
    form.locator("input[name=to_account_id]").fill(to_account_id)
    form.locator("select[name=unit_type]").select_option("VCU")
    form.locator("input[name=quantity]").fill(str(quantity))
    form.locator("button[type=submit]").click()


def test_sign_in_shows_holdings_and_charts(new_page: NewPage) -> None:
    page = new_page()
    sign_in(page, "merlion")
    expect(page).to_have_url(re.compile(r"/$"))
    holdings = page.get_by_test_id("holdings-panel")
    expect(holdings).to_contain_text(DEVELOPER)
    expect(holdings).to_contain_text("VCS-1736")
    expect(page.get_by_test_id("units-held")).to_contain_text("Units you hold")
    bars = page.locator("#chart-vintage svg rect.bar")
    expect(bars.first).to_be_visible()
    assert bars.count() >= 2
    expect(page.locator("#chart-category svg rect.bar").first).to_be_visible()
    screenshot(page, "01-dashboard-merlion")


def test_transfer_a_small_quantity(new_page: NewPage) -> None:
    page = new_page()
    sign_in(page, "merlion")
    page.goto(f"/accounts/{DEVELOPER}")
    fill_transfer(page, AIRLINE, 25)
    notice = page.get_by_test_id("notice")
    expect(notice).to_contain_text("Transfer accepted")
    expect(page).to_have_url(re.compile(f"/accounts/{DEVELOPER}$"))  # htmx swapped the page
    expect(page.get_by_test_id("statement-table")).to_contain_text(AIRLINE)
    screenshot(page, "02-transfer-accepted")


def test_retire_with_a_beneficiary(new_page: NewPage) -> None:
    page = new_page()
    sign_in(page, "merlion")
    page.goto(f"/accounts/{DEVELOPER}")
    form = page.get_by_test_id("retire-form")
    form.locator("select[name=unit_type]").select_option("VCU")
    form.locator("input[name=quantity]").fill("40")
    form.locator("input[name=beneficiary]").fill("Merlion Power staff travel")
    form.locator("input[name=purpose]").fill("Voluntary offsetting of 2025 business travel")
    form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("notice")).to_contain_text("Retirement accepted")
    screenshot(page, "03-retirement-accepted")
    page.goto("/explorer/retirements")
    expect(page.get_by_test_id("retirements")).to_contain_text("Merlion Power staff travel")
    screenshot(page, "04-explorer-retirements")


def _approval_row(page: Page) -> Locator:
    summary = f"transfer {LARGE_TRANSFER} VCU from {DEVELOPER} to {AIRLINE}"
    return page.get_by_test_id("approvals").locator("tr", has_text=summary)


def test_large_transfer_waits_for_a_second_person(new_page: NewPage) -> None:
    requester = new_page()
    sign_in(requester, "merlion")
    requester.goto(f"/accounts/{DEVELOPER}")
    fill_transfer(requester, AIRLINE, LARGE_TRANSFER)
    expect(requester.get_by_test_id("notice")).to_contain_text("Pending approval")
    screenshot(requester, "05-large-transfer-pending")

    requester.goto("/approvals")
    own = _approval_row(requester)
    expect(own).to_contain_text("Waiting for a second person")
    assert own.locator("[data-action=approve]").count() == 0
    approval_id = own.get_attribute("data-approval-id")
    csrf_token = requester.locator("input[name=csrf_token]").first.input_value()
    forced = requester.request.post(
        f"/approvals/{approval_id}/approve",
        form={"csrf_token": csrf_token, "idempotency_key": "forced-self-approval"},
    )
    assert forced.status == 403 and "E_FORBIDDEN" in forced.text()
    screenshot(requester, "06-approvals-requester")

    approver = new_page()
    sign_in(approver, "merlion2")
    approver.goto("/approvals")
    _approval_row(approver).locator("[data-action=approve]").click()
    expect(approver.get_by_test_id("notice")).to_contain_text("Request approved")
    expect(_approval_row(approver)).to_have_count(0)
    screenshot(approver, "07-approved-by-second-person")
    approver.goto(f"/accounts/{DEVELOPER}")
    expect(approver.get_by_test_id("statement-table")).to_contain_text(f"{LARGE_TRANSFER:,}")


def test_choosing_a_unit_type_redraws_the_charts_and_the_totals_together(
    new_page: NewPage,
) -> None:
    page = new_page()
    page.goto("/explorer")
    totals = page.get_by_test_id("totals")
    expect(totals).to_contain_text("427,000")
    expect(totals).to_contain_text("all tCO2e unit types")
    expect(page.locator("#chart-vintage text", has_text="2016")).to_have_count(1)
    page.locator("#charts nav.segmented").get_by_role("link", name="VCU", exact=True).click()
    expect(page).to_have_url(re.compile(r"/explorer\?unit_type=VCU$"))
    expect(totals).to_contain_text("140,000")  # VCUs issued: the totals followed the charts
    expect(totals).to_contain_text("VCU units")
    expect(page.locator("#chart-vintage text", has_text="2016")).to_have_count(0)  # no VCU of 2016


def test_public_explorer_serial_lookup(new_page: NewPage) -> None:
    page = new_page()
    page.goto("/explorer")
    expect(page.locator("#chart-vintage svg rect.bar").first).to_be_visible()
    screenshot(page, "08-explorer")
    form = page.get_by_test_id("serial-form")
    form.locator("input[name=registry]").fill("VERRA")
    form.locator("input[name=unit_type]").fill("VCU")
    form.locator("input[name=serial]").fill("1")
    form.locator("button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/explorer/serial\?registry=VERRA&unit_type=VCU&serial=1"))
    expect(page.get_by_test_id("current-state")).to_contain_text("retired")
    history = page.get_by_test_id("provenance-history")
    expect(history).to_contain_text("Skyways Airlines plc")
    expect(history).to_contain_text("CORSIA first-phase offsetting requirement")
    expect(history).not_to_contain_text("VERRA-ISSUANCE")  # the public sees no accounts
    screenshot(page, "09-serial-provenance")


def test_import_a_verra_export_with_progress(new_page: NewPage) -> None:
    page = new_page()
    sign_in(page, "admin")
    page.goto("/import")
    form = page.get_by_test_id("import-form")
    form.locator("input[name=file]").set_input_files(str(VERRA_EXPORT))
    form.locator("button[type=submit]").click()
    result = page.get_by_test_id("import-result")
    expect(result).to_contain_text("Import complete")
    expect(result).to_contain_text("92")
    expect(page.get_by_test_id("import-progress").locator("progress").last).to_be_visible()
    screenshot(page, "10-import-complete")
