"""Running the CLI in-process, and reading the ledger it wrote, for the CLI tests."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from typer.testing import CliRunner, Result

from carbonex.catalog import Catalog
from carbonex.catalog.loader import DATA_DIR
from carbonex.cli.main import app
from carbonex.ledger import Issue, Ledger, OpenAccount, UnitAttributes
from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX

RUNNER = CliRunner()
EXIT_REFUSED = 1
EXIT_USAGE = 2

GRID_POWER = UnitAttributes(
    "VCU",
    "Verra VCS",
    "VCS-1736",
    dt.date(2021, 1, 1),
    dt.date(2021, 12, 31),
    "SG",
    methodology="AM0029",
)
ISSUED_QUANTITY = 1_000
OPEN_ACME = ("account", "open", "ACME", "--kind", "company_holding", "--holder", "Acme")
"""Opening one account: the smallest command that makes a new ledger file."""


def invoke(*args: str, env: Mapping[str, str | None] | None = None) -> Result:
    """Run `carbonex ARGS`; an unexpected exception fails the test instead of exiting 1."""
    return RUNNER.invoke(app, list(args), env=env, catch_exceptions=False)


def invoke_json(*args: str) -> Any:
    """Run `carbonex ARGS --json`, expect exit 0, and return the parsed document."""
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


SEED_COMMANDS = (
    OpenAccount("seed-dev", "DEV", "company_holding", "Developer Pte. Ltd."),
    OpenAccount("seed-buyer", "BUYER", "company_holding", "Buyer plc"),
    OpenAccount("seed-retire", "RETIRE", "retirement", "Retirement account"),
    Issue("seed-issue", "DEV", ISSUED_QUANTITY, GRID_POWER),
)


def seed(database_url: str, catalog: Catalog | None = None) -> None:
    """Accounts DEV, BUYER (company holdings), RETIRE (retirement) and 1,000 VCUs in DEV,
    decided under `catalog` (the shipped one by default)."""
    with Ledger.open(database_url, catalog) as ledger:
        outcomes = ledger.submit_many(SEED_COMMANDS)
    assert all(outcome.accepted for outcome in outcomes)


def seed_as_before_catalogs_were_named(database_url: str) -> None:
    """The same, as a Carbonex from before entries named their catalog recorded them."""
    with Ledger.open(database_url) as ledger:
        at = ledger.clock().isoformat()
        entries = [(command, at) for command in SEED_COMMANDS]
        outcomes = ledger.decide_recorded(entries, ledger.catalog, catalog_named=False)
    assert all(outcome.accepted for outcome in outcomes)


def earlier_catalog_directory(parent: Path) -> Path:
    """A copy of the shipped catalog without country AQ (Antarctica): other rules, another
    digest."""
    directory = parent / "catalog-of-2025"
    shutil.copytree(DATA_DIR, directory)
    countries = directory / "countries.toml"
    countries.write_text(countries.read_text().replace('"AQ", ', "", 1))
    return directory


def snapshot(database_url: str) -> tuple[dict[str, Any], int, list[dict[str, Any]]]:
    """What a refused or malformed request must leave unchanged: totals, journal, accounts."""
    with Ledger.open(database_url) as ledger:
        journal = ledger.journal(limit=QUERY_PAGE_SIZE_MAX)
        return ledger.summary(), len(journal), ledger.accounts(limit=QUERY_PAGE_SIZE_MAX)


def holdings(database_url: str, account_id: str) -> dict[str, int]:
    """Quantity per state held by an account."""
    totals: dict[str, int] = {}
    with Ledger.open(database_url) as ledger:
        for row in ledger.holdings(account_id):
            totals[row["state"]] = totals.get(row["state"], 0) + row["quantity"]
    return totals
