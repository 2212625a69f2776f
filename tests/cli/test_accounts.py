"""`carbonex account ...` and the options every command shares (--db, --json, --command-id)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import (
    EXIT_REFUSED,
    EXIT_USAGE,
    OPEN_ACME,
    holdings,
    invoke,
    invoke_json,
    snapshot,
)

EXIT_NOT_FOUND = 1


def open_account(database_url: str, account_id: str, *extra: str) -> None:
    result = invoke(
        "account",
        "open",
        account_id,
        "--kind",
        "company_holding",
        "--holder",
        f"Holder of {account_id}",
        "--db",
        database_url,
        *extra,
    )
    assert result.exit_code == 0, result.output


def test_account_open_then_show_prints_the_account_and_its_holdings(database_url: str) -> None:
    open_account(database_url, "ACME")
    result = invoke("account", "show", "ACME", "--db", database_url)
    assert result.exit_code == 0
    assert "Holder of ACME" in result.stdout
    assert "company_holding" in result.stdout


def test_account_open_with_json_prints_the_accepted_outcome(database_url: str) -> None:
    record = invoke_json(
        "account",
        "open",
        "ACME",
        "--kind",
        "person_holding",
        "--holder",
        "Ada",
        "--registry",
        "VERRA",
        "--db",
        database_url,
    )
    assert record["accepted"] is True
    assert record["seq"] == 1
    shown = invoke_json("account", "show", "ACME", "--db", database_url)
    assert shown["account"]["registry"] == "VERRA"
    assert shown["holdings"] == []


def test_account_list_pages_through_accounts_in_id_order(database_url: str) -> None:
    for account_id in ("C", "A", "B"):
        open_account(database_url, account_id)
    first_page = invoke_json("account", "list", "--limit", "2", "--db", database_url)
    rest = invoke_json("account", "list", "--after", "B", "--db", database_url)
    assert [a["account_id"] for a in first_page] == ["A", "B"]
    assert [a["account_id"] for a in rest] == ["C"]
    assert (
        "More may follow: --after B"
        in invoke("account", "list", "--limit", "2", "--db", database_url).stdout
    )


def test_account_freeze_then_unfreeze_changes_its_status(database_url: str) -> None:
    open_account(database_url, "ACME")
    invoke_json("account", "freeze", "ACME", "--reason", "court order", "--db", database_url)
    assert (
        invoke_json("account", "show", "ACME", "--db", database_url)["account"]["status"]
        == "frozen"
    )
    invoke_json("account", "unfreeze", "ACME", "--reason", "order lifted", "--db", database_url)
    assert (
        invoke_json("account", "show", "ACME", "--db", database_url)["account"]["status"] == "open"
    )


def test_account_close_of_an_empty_account_is_accepted(database_url: str) -> None:
    open_account(database_url, "ACME")
    invoke_json("account", "close", "ACME", "--db", database_url)
    assert (
        invoke_json("account", "show", "ACME", "--db", database_url)["account"]["status"]
        == "closed"
    )


def test_refused_account_open_exits_one_and_prints_its_code(database_url: str) -> None:
    open_account(database_url, "ACME")
    before = snapshot(database_url)
    result = invoke(
        "account",
        "open",
        "ACME",
        "--kind",
        "company_holding",
        "--holder",
        "X",
        "--db",
        database_url,
    )
    assert result.exit_code == EXIT_REFUSED
    assert "E_ACCOUNT_EXISTS" in result.stderr
    assert result.stdout == ""
    assert snapshot(database_url) == before


def test_refused_command_with_json_prints_the_refusal_on_stdout(database_url: str) -> None:
    result = invoke("account", "freeze", "NOBODY", "--reason", "x", "--db", database_url, "--json")
    assert result.exit_code == EXIT_REFUSED
    record = json.loads(result.stdout)
    assert record["accepted"] is False
    assert [f["code"] for f in record["failures"]] == ["E_UNKNOWN_ACCOUNT"]


def test_account_show_of_an_unknown_account_exits_one(database_url: str) -> None:
    open_account(database_url, "ACME")
    result = invoke("account", "show", "NOBODY", "--db", database_url, "--json")
    assert result.exit_code == EXIT_REFUSED
    assert json.loads(result.stdout) is None
    assert "unknown account 'NOBODY'" in result.stderr


def test_resubmitting_a_command_id_returns_the_first_result(seeded: str) -> None:
    transfer = (
        "transfer",
        "--from",
        "DEV",
        "--to",
        "BUYER",
        "--unit-type",
        "VCU",
        "--quantity",
        "10",
        "--command-id",
        "move-10",
        "--db",
        seeded,
    )
    first = invoke_json(*transfer)
    again = invoke_json(*transfer)
    assert (again["duplicate"], again["seq"]) == (True, first["seq"])
    assert holdings(seeded, "BUYER") == {"active": 10}


def test_resubmitting_an_account_open_returns_the_first_result(database_url: str) -> None:
    open_acme = (
        "account",
        "open",
        "ACME",
        "--kind",
        "company_holding",
        "--holder",
        "A",
        "--command-id",
        "open-acme",
        "--db",
        database_url,
    )
    first = invoke_json(*open_acme)
    again = invoke_json(*open_acme)
    assert (again["duplicate"], again["seq"]) == (True, first["seq"])


def test_database_falls_back_to_the_environment_variable(database_url: str) -> None:
    open_account(database_url, "ACME")
    result = invoke("account", "list", "--json", env={"CARBONEX_DATABASE_URL": database_url})
    assert [a["account_id"] for a in json.loads(result.stdout)] == ["ACME"]


def test_database_defaults_to_carbonex_db_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    opened = invoke(*OPEN_ACME, env={"CARBONEX_DATABASE_URL": None})
    assert opened.exit_code == 0, opened.output
    assert (tmp_path / "carbonex.db").exists()
    result = invoke("account", "list", "--json", env={"CARBONEX_DATABASE_URL": None})
    assert [a["account_id"] for a in json.loads(result.stdout)] == ["ACME"]


@pytest.mark.parametrize(
    "database", ["", "  ", "mysql://registry/carbon"], ids=["empty", "blank", "mysql"]
)
def test_an_empty_or_unknown_database_exits_2_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: str
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(*OPEN_ACME, "--db", database, env={"CARBONEX_DATABASE_URL": None})
    assert result.exit_code == EXIT_USAGE
    assert "empty" in result.stderr or "unknown database URL scheme 'mysql'" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_an_unknown_account_of_any_length_gives_a_short_message(database_url: str) -> None:
    open_account(database_url, "ACME")
    hostile = "A" * 100_000
    for command in (("account", "show"), ("statement",), ("holdings",)):
        result = invoke(*command, hostile, "--db", database_url)
        assert result.exit_code == EXIT_NOT_FOUND
        assert "unknown account 'AAAA" in result.stderr and len(result.stderr) < 300
