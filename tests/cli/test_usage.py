"""Bad usage and unusable databases exit 2 with a message, never a traceback; the script runs."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from carbonex.store import open_store
from tests.cli.helpers import EXIT_USAGE, OPEN_ACME, invoke

SUBPROCESS_TIMEOUT_SECONDS = 60


def run_script(*args: str) -> subprocess.CompletedProcess[str]:
    """`python -m carbonex.cli ARGS` in a child process, as a user would run it."""
    environment = {**os.environ, "COLUMNS": "120"}
    environment.pop("CARBONEX_DATABASE_URL", None)
    return subprocess.run(
        [sys.executable, "-m", "carbonex.cli", *args],
        capture_output=True,
        text=True,
        timeout=SUBPROCESS_TIMEOUT_SECONDS,
        env=environment,
        check=False,
    )


def test_database_in_a_missing_directory_exits_two(tmp_path: Path) -> None:
    result = invoke("summary", "--db", str(tmp_path / "missing" / "x.db"))
    assert result.exit_code == EXIT_USAGE
    assert "does not exist" in result.stderr


READ_ONLY_COMMANDS = [
    ("verify",),
    ("summary",),
    ("holdings", "ACME"),
    ("blocks", "ACME"),
    ("statement", "ACME"),
    ("provenance", "VERRA/VCU", "1"),
    ("journal",),
    ("account", "list"),
    ("account", "show", "ACME"),
    ("project", "list"),
    ("project", "show", "P-1"),
    ("inclusion", "points", "person-1"),
    ("inclusion", "history", "person-1"),
    ("report", "double-issuance"),
]


@pytest.mark.parametrize("command", READ_ONLY_COMMANDS, ids=" ".join)
def test_a_command_that_only_reads_refuses_a_missing_file_and_creates_none(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    """A mistyped path must not become a new empty ledger (which would then verify as OK)."""
    path = tmp_path / "typo.db"
    result = invoke(*command, "--db", str(path))
    assert result.exit_code == EXIT_USAGE, result.output
    assert f"database file {path} does not exist" in result.stderr
    assert not path.exists()


@pytest.mark.parametrize("command", [("verify",), ("summary",), ("journal",)], ids=" ".join)
def test_a_command_that_only_reads_refuses_a_database_without_a_ledger(
    database_url: str, command: tuple[str, ...]
) -> None:
    """An empty PostgreSQL schema, or an empty SQLite file: nothing is made in it."""
    on_sqlite = not database_url.startswith("postgresql")
    if on_sqlite:
        Path(database_url).touch()
    result = invoke(*command, "--db", database_url)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "holds no Carbonex ledger" in result.stderr
    if on_sqlite:
        assert Path(database_url).stat().st_size == 0
    else:
        store = open_store(database_url, migrate=False)
        try:
            assert store.table_names() == set()
        finally:
            store.close()


def test_a_command_that_only_reads_leaves_another_applications_database_as_it_was(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notes.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE notes (body TEXT)")
        connection.execute("INSERT INTO notes VALUES ('not a ledger')")
    connection.close()
    before = path.read_bytes()
    result = invoke("verify", "--db", str(path))
    assert result.exit_code == EXIT_USAGE, result.output
    assert "holds no Carbonex ledger" in result.stderr
    assert path.read_bytes() == before  # still in its own journal mode, no table added
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["notes.db"]


def test_export_and_backup_refuse_a_missing_source_and_create_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "typo.db"
    for command in (
        ("journal-export", str(tmp_path / "out.jsonl")),
        ("backup", str(tmp_path / "copy.db")),
    ):
        result = invoke(*command, "--db", str(missing))
        assert result.exit_code == EXIT_USAGE, result.output
        assert "does not exist" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == []


def test_a_command_that_writes_creates_a_new_ledger(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    result = invoke(*OPEN_ACME, "--db", str(path))
    assert result.exit_code == 0, result.output
    assert invoke("verify", "--db", str(path)).exit_code == 0


def test_file_that_is_not_a_database_exits_two(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database, just notes\n" * 100)
    result = invoke("account", "list", "--db", str(path))
    assert result.exit_code == EXIT_USAGE
    assert "cannot open database" in result.stderr


def test_a_database_from_a_newer_carbonex_exits_two_and_stays_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    assert invoke(*OPEN_ACME, "--db", str(path)).exit_code == 0
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    result = invoke("summary", "--db", str(path))
    assert result.exit_code == EXIT_USAGE
    assert "revision 9999" in result.stderr and "newer Carbonex" in result.stderr
    assert "Traceback" not in result.output
    with sqlite3.connect(path) as connection:
        assert connection.execute("SELECT version_num FROM alembic_version").fetchall() == [
            ("9999",)
        ]


def test_unreachable_postgres_exits_two_without_printing_its_password() -> None:
    result = invoke("summary", "--db", "postgresql://user:s3cret@127.0.0.1:1/none")
    assert result.exit_code == EXIT_USAGE
    assert "s3cret" not in result.output
    assert "***" in result.stderr


def test_missing_required_option_exits_two() -> None:
    assert invoke("transfer", "--from", "A").exit_code == EXIT_USAGE


def test_script_runs_the_demo_and_verifies_it_end_to_end(tmp_path: Path) -> None:
    database = str(tmp_path / "demo.db")
    demo = run_script("demo", "--db", database, "--json")
    assert demo.returncode == 0, demo.stderr
    assert json.loads(demo.stdout)["verify"]["ok"] is True
    verify = run_script("verify", "--db", database)
    assert verify.returncode == 0
    assert "OK" in verify.stdout


def test_script_reports_a_malformed_batch_without_a_traceback(tmp_path: Path) -> None:
    batch = tmp_path / "batch.json"
    batch.write_text("[{]")
    result = run_script("batch", str(batch), "--db", str(tmp_path / "x.db"))
    assert result.returncode == EXIT_USAGE
    assert "not valid JSON" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_argument_that_is_not_utf8_exits_two_before_anything_runs(tmp_path: Path) -> None:
    """Bytes that are not UTF-8 reach Python as lone surrogates: named, never a traceback."""
    database = tmp_path / "never.db"
    result = subprocess.run(
        [sys.executable, "-m", "carbonex.cli.main", "holdings", b"A\xff", "--db", database],
        capture_output=True,
        check=False,
    )
    assert result.returncode == EXIT_USAGE
    assert b"argument 2 is not UTF-8 text" in result.stderr
    assert b"Traceback" not in result.stderr
    assert not database.exists()


@pytest.mark.parametrize(
    "command",
    [("summary",), ("account", "show", "ACME"), ("import", "verra", "/nonexistent/export.csv")],
    ids=" ".join,
)
def test_a_usage_error_under_json_is_one_json_document_on_stdout(
    tmp_path: Path, command: tuple[str, ...]
) -> None:
    result = invoke(*command, "--db", str(tmp_path / "missing" / "x.db"), "--json")
    assert result.exit_code == EXIT_USAGE
    document = json.loads(result.stdout)
    assert document["error"]["code"] == "E_USAGE"
    assert document["error"]["message"] in result.stderr


def test_a_usage_error_without_json_leaves_stdout_empty_even_after_a_json_run(
    tmp_path: Path,
) -> None:
    missing = str(tmp_path / "missing" / "x.db")
    assert invoke("summary", "--db", missing, "--json").exit_code == EXIT_USAGE
    result = invoke("summary", "--db", missing)
    assert result.exit_code == EXIT_USAGE and result.stdout == ""
