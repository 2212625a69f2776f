"""`carbonex demo`: the scripted scenario on a fresh database, reproducible and verifiable."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import EXIT_USAGE, invoke, snapshot


def run_demo(database: str, *extra: str) -> dict[str, Any]:
    result = invoke("demo", "--db", database, "--json", *extra)
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.stdout)
    return document


def test_demo_then_verify_exits_zero(database_url: str) -> None:
    document = run_demo(database_url)
    assert document["verify"]["ok"] is True
    assert invoke("verify", "--db", database_url).exit_code == 0


def test_demo_shows_the_refused_code_holdings_totals_and_journal_head(tmp_path: Path) -> None:
    result = invoke("demo", "--db", str(tmp_path / "demo.db"))
    assert result.exit_code == 0, result.output
    for expected in (
        "E_RETIRED_UNITS_CANNOT_MOVE",
        "Holdings per account",
        "By unit type",
        "Blocks of MERLION-DEV",
        "OK:",
        "Journal head: entry 24",
    ):
        assert expected in result.stdout


def test_demo_exercises_every_kind_of_movement(tmp_path: Path) -> None:
    document = run_demo(str(tmp_path / "demo.db"))
    totals = document["summary"]["totals"]
    assert all(totals[state] > 0 for state in ("retired", "cancelled", "surrendered", "converted"))
    assert set(document["summary"]["by_unit_type"]) == {"VCU", "EUA", "CER", "A6.4ER"}
    assert [f["code"] for f in document["refused"]["failures"]] == ["E_RETIRED_UNITS_CANNOT_MOVE"]


def test_demo_writes_the_same_journal_on_every_run(tmp_path: Path) -> None:
    first = run_demo(str(tmp_path / "first.db"))
    second = run_demo(str(tmp_path / "second.db"))
    assert first["journal_head"] == second["journal_head"]


def test_demo_refuses_a_database_that_already_holds_a_journal(tmp_path: Path) -> None:
    database = str(tmp_path / "demo.db")
    head = run_demo(database)["journal_head"]
    before = snapshot(database)
    result = invoke("demo", "--db", database)
    assert result.exit_code == EXIT_USAGE
    assert "--force" in result.stderr
    assert snapshot(database) == before
    assert run_demo(database, "--force")["journal_head"] == head


@pytest.mark.parametrize("database", ["", "mysql://registry/carbon"])
def test_demo_on_a_database_no_store_opens_exits_2_before_deleting_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "keep.db").write_bytes(b"someone's file")
    result = invoke("demo", "--db", database, "--force")
    assert result.exit_code == EXIT_USAGE
    assert sorted(path.name for path in tmp_path.iterdir()) == ["keep.db"]
