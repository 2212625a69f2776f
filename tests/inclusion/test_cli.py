"""`carbonex inclusion ...` on both stores: record, verify, reject, points, aggregate,
contributions, history and factors; refusals print their codes and exit 1, malformed input exits
2 before anything is recorded.

The group is mounted on a Typer app of its own here, so these tests do not depend on where
`carbonex.cli.main` registers it."""

from __future__ import annotations

import json
from typing import Any

import pytest
import typer
from typer.testing import CliRunner, Result

from carbonex.cli.inclusion import inclusion_app
from carbonex.ledger import Ledger
from tests.inclusion.support import AGGREGATOR, CATALOG, every_table, open_aggregator, people

RUNNER = CliRunner()
EXIT_REFUSED = 1
EXIT_USAGE = 2
APP = typer.Typer()
APP.add_typer(inclusion_app, name="inclusion")
AGGREGATE = (
    "aggregate",
    "AGG-2026-02",
    "--account",
    AGGREGATOR,
    "--period-start",
    "2026-02-01",
    "--period-end",
    "2026-03-01",
    "--project",
    "CI-DEMO",
    "--country",
    "CN",
)


def invoke(*args: str) -> Result:
    return RUNNER.invoke(APP, ["inclusion", *args], catch_exceptions=False)


def invoke_json(*args: str) -> Any:
    result = invoke(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture
def database(database_url: str) -> str:
    with Ledger.open(database_url) as ledger:
        open_aggregator(ledger)
    return database_url


def record_args(action_id: str, person_id: str, quantity: str, database: str) -> tuple[str, ...]:
    return (
        "record",
        action_id,
        "--person",
        person_id,
        "--type",
        "ev_charging_kwh",
        "--quantity",
        quantity,
        "--day",
        "2026-02-10",
        "--db",
        database,
    )


def tables(database: str) -> dict[str, list[tuple[Any, ...]]]:
    with Ledger.open(database) as ledger:
        return every_table(ledger)


def test_points_recorded_and_verified_are_aggregated_into_units_with_contributions(
    database: str,
) -> None:
    persons = people(34)
    for person in persons:
        recorded = invoke_json(*record_args(f"ev-{person}", person, "100", database))
        assert (recorded["points"], recorded["status"]) == ("30", "recorded")
    ids = [f"ev-{person}" for person in persons]
    verified = invoke_json("verify", *ids, "--verifier", "charging-operator", "--db", database)
    assert verified["changed"] == ids
    assert invoke_json("points", "P000", "--db", database)["available"] == "30"
    done = invoke_json(*AGGREGATE, "--db", database)
    assert (done["units"], done["unit_type"], done["people"]) == (1, CATALOG.unit_type, 34)
    listed = invoke_json("contributions", "AGG-2026-02", "--db", database)
    used = [row["used_milli"] for row in listed["contributions"]]
    assert sum(used) == 1_000_000 and len(used) == 34
    assert listed["aggregation"]["serial_space"] == "CARBONEX/CIER"
    again = invoke_json(*AGGREGATE, "--db", database)
    assert again["duplicate"] is True and again["journal_seq"] == done["journal_seq"]
    shown = invoke("contributions", "AGG-2026-02", "--limit", "5", "--db", database)
    assert shown.exit_code == 0 and "More may follow: --after P004" in shown.stdout
    human = invoke(*AGGREGATE, "--db", database)
    assert "already done earlier" in human.stdout


def test_a_refused_recording_prints_its_code_and_exits_1_changing_nothing(database: str) -> None:
    invoke_json(*record_args("ev-1", "P-1", "60", database))
    before = tables(database)
    over_cap = invoke(*record_args("ev-2", "P-1", "41", database))
    assert over_cap.exit_code == EXIT_REFUSED
    assert "E_OVER_DAILY_CAP" in over_cap.stderr
    reused = invoke(*record_args("ev-1", "P-1", "61", database), "--json")
    assert reused.exit_code == EXIT_REFUSED
    assert json.loads(reused.stdout)["failures"][0]["code"] == "E_ACTION_ID_REUSED"
    assert tables(database) == before


@pytest.mark.parametrize(
    ("quantity", "quoted"), [("1e999999999", "1E+999999999"), ("1e999999", "1E+999999")]
)
def test_a_quantity_far_beyond_the_daily_cap_is_refused_briefly_changing_nothing(
    database: str, quantity: str, quoted: str
) -> None:
    invoke_json(*record_args("ev-1", "P-1", "60", database))
    before = tables(database)
    refused = invoke(*record_args("ev-2", "P-1", quantity, database))
    assert refused.exit_code == EXIT_REFUSED
    assert "E_OVER_DAILY_CAP" in refused.stderr and f"{quoted} more" in refused.stderr
    assert len(refused.stderr) < 500  # not the quantity's million digits written out
    as_json = invoke(*record_args("ev-2", "P-1", quantity, database), "--json")
    assert as_json.exit_code == EXIT_REFUSED
    assert json.loads(as_json.stdout)["failures"][0]["code"] == "E_OVER_DAILY_CAP"
    assert tables(database) == before


def test_a_megabyte_long_action_id_is_refused_briefly_changing_nothing(database: str) -> None:
    before = tables(database)
    huge = "ev-" + "x" * 1_000_000
    refused = invoke(*record_args(huge, "P-1", "1", database))
    assert refused.exit_code == EXIT_REFUSED
    assert "E_ACTION_ID_INVALID" in refused.stderr and "'ev-xxxx" in refused.stderr
    assert len(refused.stderr) < 1_000  # the id's start, not the megabyte
    as_json = invoke(*record_args(huge, "P-1", "1", database), "--json")
    assert as_json.exit_code == EXIT_REFUSED and len(as_json.stdout) < 1_000
    assert tables(database) == before


@pytest.mark.parametrize("quantity", ["abc", "1e", "", "9" * 41])
def test_a_malformed_quantity_exits_2_before_anything_is_recorded(
    database: str, quantity: str
) -> None:
    before = tables(database)
    result = invoke(*record_args("ev-1", "P-1", quantity, database))
    assert result.exit_code == EXIT_USAGE
    assert tables(database) == before


def test_a_malformed_day_exits_2(database: str) -> None:
    args = list(record_args("ev-1", "P-1", "1", database))
    args[args.index("2026-02-10")] = "10/02/2026"
    assert invoke(*args).exit_code == EXIT_USAGE


def test_verifying_an_unknown_action_and_aggregating_too_little_exit_1(database: str) -> None:
    invoke_json(*record_args("ev-1", "P-1", "10", database))
    unknown = invoke("verify", "ev-1", "ev-9", "--verifier", "op", "--db", database)
    assert unknown.exit_code == EXIT_REFUSED and "E_UNKNOWN_ACTION" in unknown.stderr
    assert "ev-9" in unknown.stderr
    invoke_json("verify", "ev-1", "--verifier", "op", "--db", database)
    too_little = invoke(*AGGREGATE, "--db", database)
    assert too_little.exit_code == EXIT_REFUSED and "E_NOTHING_TO_ISSUE" in too_little.stderr


def test_a_rejected_action_earns_nothing(database: str) -> None:
    invoke_json(*record_args("ev-1", "P-1", "10", database))
    rejected = invoke("reject", "ev-1", "--verifier", "auditor", "--db", database)
    assert rejected.exit_code == 0 and "Rejected: 1 actions" in rejected.stdout
    balance = invoke_json("points", "P-1", "--db", database)
    assert (balance["available"], balance["pending"]) == ("0", "0")
    refused = invoke("verify", "ev-1", "--verifier", "op", "--db", database)
    assert refused.exit_code == EXIT_REFUSED and "E_ACTION_REJECTED" in refused.stderr


def test_contributions_of_an_unknown_aggregation_exit_1(database: str) -> None:
    result = invoke("contributions", "NOPE", "--db", database, "--json")
    assert result.exit_code == EXIT_REFUSED
    assert json.loads(result.stdout) is None
    assert "unknown aggregation" in result.stderr


def test_history_pages_with_a_day_and_action_cursor(database: str) -> None:
    for number in range(3):
        invoke_json(*record_args(f"ev-{number}", "P-1", "1", database))
    first = invoke("history", "P-1", "--limit", "2", "--db", database)
    assert first.exit_code == 0
    assert "More may follow: --after 2026-02-10/ev-1" in first.stdout
    rest = invoke_json("history", "P-1", "--after", "2026-02-10/ev-1", "--db", database)
    assert [row["action_id"] for row in rest] == ["ev-2"]
    assert rest[0]["quantity"] == "1" and rest[0]["activity_unit"] == "kWh"
    bad = invoke("history", "P-1", "--after", "ev-1", "--db", database)
    assert bad.exit_code == EXIT_USAGE


def test_points_are_shown_as_a_table(database: str) -> None:
    invoke_json(*record_args("ev-1", "P-1", "10.5", database))
    shown = invoke("points", "P-1", "--db", database)
    assert shown.exit_code == 0
    assert "Points of P-1" in shown.stdout and "3.15" in shown.stdout


def test_factors_list_every_action_type_with_its_source() -> None:
    listed = invoke_json("factors")
    assert [row["code"] for row in listed] == list(CATALOG.action_types)
    assert all(row["source"] for row in listed)
    shown = invoke("factors")
    assert shown.exit_code == 0 and "1,000 points = 1 CIER unit" in shown.stdout
