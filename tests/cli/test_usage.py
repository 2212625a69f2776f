"""Bad usage and unusable databases exit 2 with a message, never a traceback; the script runs."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from tests.cli.helpers import EXIT_USAGE, invoke

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


def test_file_that_is_not_a_database_exits_two(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("not a database, just notes\n" * 100)
    result = invoke("account", "list", "--db", str(path))
    assert result.exit_code == EXIT_USAGE
    assert "cannot open database" in result.stderr


def test_a_database_from_a_newer_carbonex_exits_two_and_stays_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    assert invoke("summary", "--db", str(path)).exit_code == 0
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
