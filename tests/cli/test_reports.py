"""`carbonex report double-issuance`: the table, the JSON document, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner, Result

from carbonex.cli.reports import report_app
from carbonex.ledger import Ledger
from tests.cli.helpers import EXIT_USAGE
from tests.projects.test_duplicate_sources import import_both, register_kutch

RUNNER = CliRunner()
APP = typer.Typer()
APP.add_typer(report_app, name="report")  # as carbonex.cli.main registers it


def report(*args: str) -> Result:
    return RUNNER.invoke(
        APP, ["report", "double-issuance", *args], env={"COLUMNS": "200"}, catch_exceptions=False
    )


def kutch_database(database_url: str, tmp_path: Path) -> str:
    """Verra and Gold Standard imports of one wind farm, registered here under its Verra id and
    citing its Gold Standard id."""
    with Ledger.open(database_url) as ledger:
        import_both(ledger, tmp_path)
    register_kutch(database_url)
    return database_url


def test_the_table_lists_each_pair_with_its_overlap_and_reasons(
    database_url: str, tmp_path: Path
) -> None:
    result = report("--db", kutch_database(database_url, tmp_path))
    assert result.exit_code == 0, result.output
    for text in ("CARBONEX VCS-2001", "GS GS5001", "2021-01-01..2021-12-31"):
        assert text in result.stdout
    assert "CROSS_REFERENCE" in result.stdout and "SAME_HOST_COUNTRY" in result.stdout
    assert "1 candidate pair(s)" in result.stdout


def test_json_lists_the_candidates_with_reasons_and_exclusive_ends(
    database_url: str, tmp_path: Path
) -> None:
    result = report("--db", kutch_database(database_url, tmp_path), "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    pairs = [(c["first"]["project_id"], c["second"]["project_id"]) for c in document["candidates"]]
    assert pairs == [("VCS-2001", "GS5001")]
    first = document["candidates"][0]
    assert first["reasons"] == [
        "CROSS_REFERENCE",
        "SAME_METHOD",
        "SAME_HOST_COUNTRY",
        "OVERLAPPING_PERIOD",
    ]
    assert first["overlaps"][0]["end_exclusive"] == "2022-01-01"
    assert document["problems"] == [] and "periods overlap" in document["rule"]


def test_no_candidates_is_said_and_exits_zero(database_url: str) -> None:
    Ledger.open(database_url).close()
    result = report("--db", database_url)
    assert result.exit_code == 0, result.output
    assert "No candidate double issuances" in result.stdout
    assert json.loads(report("--db", database_url, "--json").stdout)["candidates"] == []


def test_a_file_that_is_not_a_database_exits_two(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database, just notes\n" * 100)
    result = report("--db", str(path))
    assert result.exit_code == EXIT_USAGE
    assert "cannot open database" in result.stderr


def test_a_missing_database_file_exits_two_and_is_not_created(tmp_path: Path) -> None:
    path = tmp_path / "missing.db"
    result = report("--db", str(path))
    assert result.exit_code == EXIT_USAGE
    assert "does not exist" in result.stderr
    assert not path.exists()


def test_an_unreachable_server_exits_two_without_printing_its_password() -> None:
    result = report("--db", "postgresql://user:s3cret@127.0.0.1:1/none")
    assert result.exit_code == EXIT_USAGE
    assert "s3cret" not in result.output
    assert "***" in result.stderr
