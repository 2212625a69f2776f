"""`carbonex backup`: a consistent copy of a running SQLite ledger that verifies, never over an
existing file, and a clear refusal for PostgreSQL (its own tools do this)."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest

from carbonex.bench.workload import (
    setup_commands,
    submit_all_accepted,
    transfer_commands,
    transfer_specs,
)
from carbonex.ledger import Ledger
from carbonex.store import sqlite as sqlite_store
from tests.cli.helpers import EXIT_USAGE, invoke, invoke_json, seed
from tests.conftest import POSTGRES_URL
from tests.databases import every_table

ACCOUNTS = 20
TRANSFERS = 2_000
TRANSFERS_PER_COMMIT = 50


def test_a_backup_is_the_same_ledger_and_verifies(tmp_path: Path) -> None:
    source = str(tmp_path / "ledger.db")
    seed(source)
    copy = str(tmp_path / "copy.db")
    record = invoke_json("backup", copy, "--db", source)
    assert record["verified"] is True and record["problems"] == []
    assert record["journal_seq"] == 4 and record["bytes"] == Path(copy).stat().st_size
    assert every_table(copy) == every_table(source)
    assert not Path(copy + ".partial").exists() and not Path(copy + "-wal").exists()


def test_a_backup_taken_while_a_writer_commits_is_one_consistent_snapshot(
    tmp_path: Path,
) -> None:
    source = str(tmp_path / "busy.db")
    with Ledger.open(source) as ledger:
        submit_all_accepted(ledger, setup_commands(ACCOUNTS))
    commands = transfer_commands(transfer_specs(ACCOUNTS, TRANSFERS, 7), "busy")

    def write() -> None:
        with Ledger.open(source) as writer:
            for start in range(0, TRANSFERS, TRANSFERS_PER_COMMIT):
                writer.submit_many(commands[start : start + TRANSFERS_PER_COMMIT])

    thread = threading.Thread(target=write)
    thread.start()
    try:
        record = invoke_json("backup", str(tmp_path / "snapshot.db"), "--db", source)
    finally:
        thread.join()
    assert record["verified"] is True, record["problems"]
    assert record["journal_seq"] % TRANSFERS_PER_COMMIT == (2 * ACCOUNTS) % TRANSFERS_PER_COMMIT


def test_a_backup_never_overwrites_a_file(tmp_path: Path) -> None:
    source = str(tmp_path / "ledger.db")
    seed(source)
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"precious")
    result = invoke("backup", str(existing), "--db", source)
    assert result.exit_code == EXIT_USAGE
    assert "never overwrites" in result.stderr
    assert existing.read_bytes() == b"precious"


@pytest.mark.parametrize("suffix", ["-wal", "-shm", "-journal"])
def test_a_backup_refuses_a_destination_with_a_file_sqlite_would_apply_to_it(
    tmp_path: Path, suffix: str
) -> None:
    source = str(tmp_path / "ledger.db")
    seed(source)
    copy = tmp_path / "copy.db"
    stale = Path(f"{copy}{suffix}")
    stale.write_bytes(b"another database's log")
    result = invoke("backup", str(copy), "--db", source)
    assert result.exit_code == EXIT_USAGE
    assert f"copy.db{suffix} exists" in result.stderr
    assert not copy.exists() and stale.read_bytes() == b"another database's log"


def test_a_backup_never_writes_through_a_symbolic_link(tmp_path: Path) -> None:
    source = str(tmp_path / "ledger.db")
    seed(source)
    link = tmp_path / "link.db"
    link.symlink_to(tmp_path / "elsewhere.db")  # dangling: exists() says no
    result = invoke("backup", str(link), "--db", source)
    assert result.exit_code == EXIT_USAGE
    assert "symbolic link" in result.stderr
    assert not (tmp_path / "elsewhere.db").exists()


@pytest.mark.parametrize("where", ["missing-directory/copy.db", "ledger.db"])
def test_a_backup_needs_a_new_file_in_an_existing_directory(tmp_path: Path, where: str) -> None:
    source = str(tmp_path / "ledger.db")
    seed(source)
    result = invoke("backup", str(tmp_path / where), "--db", source)
    assert result.exit_code == EXIT_USAGE
    assert not (tmp_path / "missing-directory").exists()


def test_postgres_backups_are_left_to_its_own_tools(postgres_available: bool) -> None:
    if not postgres_available:
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL} (CI requires it)")
    result = invoke("backup", "/tmp/never-written.db", "--db", POSTGRES_URL)
    assert result.exit_code == EXIT_USAGE
    assert "pg_dump" in result.stderr
    assert not Path("/tmp/never-written.db").exists()


def test_a_backup_that_fails_midway_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = str(tmp_path / "ledger.db")
    seed(source)
    copy = tmp_path / "copy.db"

    def disk_full(connection: object, path: Path) -> None:
        path.write_bytes(b"half a copy")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(sqlite_store, "_copy_into", disk_full)
    result = invoke("backup", str(copy), "--db", source)
    assert result.exit_code == EXIT_USAGE and "No space left" in result.stderr
    assert not copy.exists() and not Path(f"{copy}.partial").exists()


def test_a_backup_leaves_a_partial_file_it_did_not_make_as_it_was(tmp_path: Path) -> None:
    source = str(tmp_path / "ledger.db")
    seed(source)
    copy = tmp_path / "copy.db"
    someone_elses = Path(f"{copy}.partial")
    someone_elses.write_bytes(b"another backup, still copying")
    result = invoke("backup", str(copy), "--db", source)
    assert result.exit_code == EXIT_USAGE and "cannot write" in result.stderr
    assert f"{copy}.partial exists" in result.stderr
    assert someone_elses.read_bytes() == b"another backup, still copying"
    assert not copy.exists()


def test_a_backup_where_no_file_can_be_made_cannot_write(tmp_path: Path) -> None:
    source = str(tmp_path / "ledger.db")
    seed(source)
    result = invoke("backup", "/proc/carbonex-backup.db", "--db", source)
    assert result.exit_code == EXIT_USAGE
    assert "cannot write /proc/carbonex-backup.db" in result.stderr


def test_a_backup_that_sqlite_refuses_to_write_cannot_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = str(tmp_path / "ledger.db")
    seed(source)
    copy = tmp_path / "copy.db"

    def sqlite_refuses(connection: object, path: Path) -> None:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(sqlite_store, "_copy_into", sqlite_refuses)
    result = invoke("backup", str(copy), "--db", source)
    assert result.exit_code == EXIT_USAGE
    assert f"cannot write {copy}: unable to open database file" in result.stderr
    assert not copy.exists() and not Path(f"{copy}.partial").exists()
