"""`carbonex restore`: a backup is verified, then put in place whole; over a ledger only with
--replace, only when nothing uses it, and with no side file of the old ledger left beside the new
one. Every refusal leaves every file as it was."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path
from typing import BinaryIO

import pytest

from carbonex.cli import restore as restore_command
from carbonex.ledger import Ledger, Selection, Transfer
from tests.cli.helpers import EXIT_REFUSED, EXIT_USAGE, invoke, invoke_json, seed
from tests.cli.test_upgrade import older_ledger
from tests.conftest import POSTGRES_URL
from tests.databases import every_table

SIDE_FILES = ("-wal", "-shm", "-journal")
COPIED_BEFORE_THE_DISK_FILLS_BYTES = 8192


def backed_up(directory: Path) -> tuple[Path, Path]:
    """A seeded ledger (4 journal entries) and a backup of it made by `carbonex backup`."""
    ledger, backup = directory / "ledger.db", directory / "backup.db"
    seed(str(ledger))
    assert invoke_json("backup", str(backup), "--db", str(ledger))["verified"] is True
    return ledger, backup


def files_in(directory: Path) -> dict[str, bytes]:
    """Every file in `directory`, name and bytes: what a refusal must leave as it was. (Read only
    while no connection of this process holds a lock: closing a file SQLite has locked drops
    those locks.)"""
    return {path.name: path.read_bytes() for path in sorted(directory.iterdir()) if path.is_file()}


def head_of(database: Path) -> dict[str, object]:
    with Ledger.open(str(database), must_exist=True) as ledger:
        return ledger.head()


def move_on(database: Path) -> None:
    """One more journal entry: the ledger is no longer what the backup holds."""
    with Ledger.open(str(database)) as ledger:
        assert ledger.submit(
            Transfer("after-the-backup", "DEV", "BUYER", Selection("VCU", quantity=10))
        ).accepted


def test_a_backup_is_restored_to_a_new_private_file_that_verifies(tmp_path: Path) -> None:
    ledger, backup = backed_up(tmp_path)
    restored = tmp_path / "restored.db"
    record = invoke_json("restore", str(backup), "--db", str(restored))
    head = head_of(ledger)
    assert record == {
        "restored": str(restored),
        "from": str(backup),
        "journal_seq": 4,
        "journal_head_hash": head["entry_hash"],
        "schema_revision": record["schema_revision"],
        "replaced": False,
        "verified": True,
        "problems": [],
    }
    assert stat.S_IMODE(restored.stat().st_mode) == 0o600
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "backup.db",
        "ledger.db",
        "restored.db",
    ]


def test_a_ledger_backed_up_then_restored_is_the_same_ledger(tmp_path: Path) -> None:
    ledger, backup = backed_up(tmp_path)
    restored = tmp_path / "restored.db"
    assert invoke("restore", str(backup), "--db", str(restored)).exit_code == 0
    assert head_of(restored) == head_of(ledger)
    summaries = [invoke_json("summary", "--db", str(path)) for path in (ledger, restored)]
    assert summaries[0] == summaries[1]
    assert every_table(str(restored)) == every_table(str(ledger))


def test_replace_puts_the_backup_in_place_of_a_ledger_that_moved_on_and_says_it_is_gone(
    tmp_path: Path,
) -> None:
    ledger, backup = backed_up(tmp_path)
    at_backup = head_of(ledger)
    move_on(ledger)
    ledger.chmod(0o640)
    result = invoke("restore", str(backup), "--db", str(ledger), "--replace")
    assert result.exit_code == 0, result.output
    assert f"journal at entry 4 ({at_backup['entry_hash']})" in result.stdout
    assert f"The ledger that was at {ledger} is gone" in result.stdout
    assert "carbonex backup" in result.stdout
    assert head_of(ledger) == at_backup
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o640
    assert invoke("verify", "--db", str(ledger)).exit_code == 0


def test_a_backup_altered_by_hand_is_refused_and_nothing_is_touched(tmp_path: Path) -> None:
    ledger, backup = backed_up(tmp_path)
    with sqlite3.connect(backup) as connection:
        connection.execute("UPDATE blocks SET last_serial = last_serial - 1")
    connection.close()
    before = files_in(tmp_path)
    result = invoke("restore", str(backup), "--db", str(ledger), "--replace")
    assert result.exit_code == EXIT_REFUSED, result.output
    assert "does not verify" in result.stdout and "conservation" in result.stdout
    assert files_in(tmp_path) == before


def test_a_backup_damaged_below_the_ledger_is_refused_by_sqlites_own_check(
    tmp_path: Path,
) -> None:
    ledger, backup = backed_up(tmp_path)
    with sqlite3.connect(backup) as connection:
        page_size = connection.execute("PRAGMA page_size").fetchone()[0]
        root = connection.execute(
            "SELECT rootpage FROM sqlite_master WHERE name = 'blocks'"
        ).fetchone()[0]
    connection.close()
    with open(backup, "r+b") as written:  # the blocks table's page, overwritten
        written.seek((root - 1) * page_size)
        written.write(b"\xff" * page_size)
    before = files_in(tmp_path)
    result = invoke("restore", str(backup), "--db", str(ledger), "--replace", "--json")
    assert result.exit_code == EXIT_REFUSED, result.output
    record = json.loads(result.stdout)
    assert record["restored"] is None and record["verified"] is False
    assert {problem["invariant"] for problem in record["problems"]} == {"sqlite_integrity"}
    assert files_in(tmp_path) == before


def test_an_existing_file_is_replaced_only_with_replace(tmp_path: Path) -> None:
    ledger, backup = backed_up(tmp_path)
    move_on(ledger)
    before = files_in(tmp_path)
    result = invoke("restore", str(backup), "--db", str(ledger))
    assert result.exit_code == EXIT_USAGE
    assert "--replace" in result.stderr and "carbonex backup" in result.stderr
    assert files_in(tmp_path) == before


def test_replace_refuses_a_ledger_another_connection_is_writing(tmp_path: Path) -> None:
    ledger, backup = backed_up(tmp_path)
    before = files_in(tmp_path)
    writer = sqlite3.connect(ledger, isolation_level=None)
    try:
        writer.execute("BEGIN IMMEDIATE")
        writer.execute("UPDATE accounts SET holder = holder")
        result = invoke("restore", str(backup), "--db", str(ledger), "--replace")
        assert result.exit_code == EXIT_USAGE
        assert "is in use" in result.stderr and "carbonex serve" in result.stderr
        writer.execute("ROLLBACK")
    finally:
        writer.close()
    assert files_in(tmp_path) == before


def test_replace_refuses_a_ledger_a_running_service_holds_open_even_idle(tmp_path: Path) -> None:
    """Its connections would carry on with the old file, and write its log beside the new one."""
    ledger, backup = backed_up(tmp_path)
    move_on(ledger)
    with Ledger.open(str(ledger)) as service:
        service.head()  # connected, in WAL mode, between requests
        result = invoke("restore", str(backup), "--db", str(ledger), "--replace")
        assert result.exit_code == EXIT_USAGE
        assert "is in use" in result.stderr
        assert service.head()["seq"] == 5


def test_replace_leaves_no_side_file_of_the_old_ledger_beside_the_restored_one(
    tmp_path: Path,
) -> None:
    ledger, backup = backed_up(tmp_path)
    crash_leaving_a_log(ledger)
    assert Path(f"{ledger}-wal").stat().st_size > 0
    result = invoke("restore", str(backup), "--db", str(ledger), "--replace")
    assert result.exit_code == 0, result.output
    assert [suffix for suffix in SIDE_FILES if Path(f"{ledger}{suffix}").exists()] == []
    assert head_of(ledger)["seq"] == 4
    move_on(ledger)  # the first writer puts the file in WAL mode: no old log is read then
    assert head_of(ledger)["seq"] == 5
    assert invoke("verify", "--db", str(ledger)).exit_code == 0


def crash_leaving_a_log(ledger: Path, seeding: bool = False) -> None:
    """A process that committed to the ledger's write-ahead log (a transfer, after the seed when
    `seeding`) and died before the log was copied into the file: `ledger`-wal holds it."""
    program = (
        "import os, sys\n"
        "from carbonex.ledger import Ledger, Selection, Transfer\n"
        "from tests.cli.helpers import SEED_COMMANDS\n"
        "ledger = Ledger.open(sys.argv[1])\n"
        "if sys.argv[2] == 'seeding':\n"
        "    assert all(outcome.accepted for outcome in ledger.submit_many(SEED_COMMANDS))\n"
        "lost = Transfer('lost', 'DEV', 'BUYER', Selection('VCU', quantity=7))\n"
        "assert ledger.submit(lost).accepted\n"
        "os._exit(0)\n"
    )
    then = "seeding" if seeding else "transfer only"
    subprocess.run([sys.executable, "-c", program, str(ledger), then], check=True, timeout=60)


@pytest.mark.parametrize("kind", ["symbolic link", "directory"])
def test_a_target_that_is_a_symbolic_link_or_a_directory_is_refused(
    tmp_path: Path, kind: str
) -> None:
    ledger, backup = backed_up(tmp_path)
    target = tmp_path / "target.db"
    if kind == "symbolic link":
        target.symlink_to(ledger)
    else:
        target.mkdir()
    before = files_in(tmp_path)
    result = invoke("restore", str(backup), "--db", str(target), "--replace")
    assert result.exit_code == EXIT_USAGE
    assert ("symbolic link" if kind == "symbolic link" else "is not a file") in result.stderr
    assert target.is_symlink() if kind == "symbolic link" else target.is_dir()
    assert files_in(tmp_path) == before


@pytest.mark.parametrize("named", ["by the same path", "by a hard link"])
def test_a_file_is_never_restored_onto_itself(tmp_path: Path, named: str) -> None:
    ledger, _ = backed_up(tmp_path)
    backup = ledger
    if named == "by a hard link":
        backup = tmp_path / "link.db"
        os.link(ledger, backup)
    before = files_in(tmp_path)
    result = invoke("restore", str(backup), "--db", str(ledger), "--replace")
    assert result.exit_code == EXIT_USAGE
    assert "are the same file" in result.stderr
    assert files_in(tmp_path) == before


@pytest.mark.parametrize("where", ["--db", "BACKUP"])
def test_postgres_is_restored_with_pg_restore(tmp_path: Path, where: str) -> None:
    _, backup = backed_up(tmp_path)
    before = files_in(tmp_path)
    arguments = ("restore", str(backup), "--db", POSTGRES_URL)
    if where == "BACKUP":
        arguments = ("restore", POSTGRES_URL, "--db", str(tmp_path / "new.db"))
    result = invoke(*arguments)
    assert result.exit_code == EXIT_USAGE
    assert "pg_restore" in result.stderr
    assert files_in(tmp_path) == before


@pytest.mark.parametrize("target_exists", [True, False], ids=["replacing", "new file"])
def test_a_copy_that_fails_midway_leaves_no_temporary_file_and_the_target_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, target_exists: bool
) -> None:
    ledger, backup = backed_up(tmp_path)
    target = ledger if target_exists else tmp_path / "new.db"

    def disk_full(source: BinaryIO, destination: BinaryIO) -> None:
        destination.write(source.read(COPIED_BEFORE_THE_DISK_FILLS_BYTES))
        destination.flush()
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(restore_command, "_copy_file", disk_full)
    before = files_in(tmp_path)
    result = invoke("restore", str(backup), "--db", str(target), "--replace")
    assert result.exit_code == EXIT_USAGE
    assert "No space left on device" in result.stderr
    assert files_in(tmp_path) == before


@pytest.mark.parametrize("suffix", ["-wal", "-journal"])
def test_a_backup_with_a_log_beside_it_is_refused(tmp_path: Path, suffix: str) -> None:
    """SQLite would apply the log to the file: the file alone is not what would be read."""
    _, backup = backed_up(tmp_path)
    Path(f"{backup}{suffix}").write_bytes(b"a log of the backup's")
    before = files_in(tmp_path)
    result = invoke("restore", str(backup), "--db", str(tmp_path / "new.db"))
    assert result.exit_code == EXIT_USAGE
    assert f"backup.db{suffix} exists" in result.stderr
    assert files_in(tmp_path) == before


@pytest.mark.parametrize("suffix", SIDE_FILES)
def test_a_new_target_with_another_databases_side_file_beside_it_is_refused(
    tmp_path: Path, suffix: str
) -> None:
    _, backup = backed_up(tmp_path)
    Path(f"{tmp_path / 'new.db'}{suffix}").write_bytes(b"another database's log")
    before = files_in(tmp_path)
    result = invoke("restore", str(backup), "--db", str(tmp_path / "new.db"))
    assert result.exit_code == EXIT_USAGE
    assert f"new.db{suffix} exists" in result.stderr
    assert files_in(tmp_path) == before


def test_a_temporary_file_another_restore_left_is_left_as_it_was(tmp_path: Path) -> None:
    _, backup = backed_up(tmp_path)
    Path(f"{tmp_path / 'new.db'}.restoring").write_bytes(b"another restore, still copying")
    before = files_in(tmp_path)
    result = invoke("restore", str(backup), "--db", str(tmp_path / "new.db"))
    assert result.exit_code == EXIT_USAGE
    assert "new.db.restoring exists" in result.stderr
    assert files_in(tmp_path) == before


def test_replace_refuses_a_database_that_holds_no_ledger_and_makes_no_side_file(
    tmp_path: Path,
) -> None:
    _, backup = backed_up(tmp_path)
    notes = tmp_path / "notes.db"
    with sqlite3.connect(notes) as connection:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("CREATE TABLE notes (body TEXT)")
    connection.close()
    before = files_in(tmp_path)
    result = invoke("restore", str(backup), "--db", str(notes), "--replace")
    assert result.exit_code == EXIT_USAGE
    assert "holds no Carbonex ledger" in result.stderr
    assert files_in(tmp_path) == before


def test_a_backup_of_an_older_schema_is_refused_until_a_copy_is_upgraded(tmp_path: Path) -> None:
    older = older_ledger(str(tmp_path / "older.db"))
    backup = tmp_path / "backup.db"
    assert invoke_json("backup", str(backup), "--db", older)["verified"] is None
    before = files_in(tmp_path)
    result = invoke("restore", str(backup), "--db", str(tmp_path / "new.db"))
    assert result.exit_code == EXIT_USAGE
    assert "carbonex upgrade --db COPY" in result.stderr
    assert files_in(tmp_path) == before
    copy = tmp_path / "copy.db"
    shutil.copyfile(backup, copy)
    assert invoke("upgrade", "--db", str(copy)).exit_code == 0
    assert invoke("restore", str(copy), "--db", str(tmp_path / "new.db")).exit_code == 0


def test_a_ledger_file_copied_by_hand_is_restored_as_one_self_contained_file(
    tmp_path: Path,
) -> None:
    """A closed ledger's file is in WAL mode; the restored one is in rollback-journal mode, as
    `carbonex backup` writes them, until the first command writes to it."""
    ledger = tmp_path / "ledger.db"
    seed(str(ledger))
    copied = tmp_path / "copied.db"
    shutil.copyfile(ledger, copied)
    restored = tmp_path / "restored.db"
    assert invoke_json("restore", str(copied), "--db", str(restored))["journal_seq"] == 4
    with sqlite3.connect(f"{restored.as_uri()}?mode=ro", uri=True) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    connection.close()
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "copied.db",
        "ledger.db",
        "restored.db",
    ]


def test_a_backup_that_changes_while_it_is_read_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Something writes to it: the copy could hold two states of it."""
    _, backup = backed_up(tmp_path)

    def written_meanwhile(source: BinaryIO, destination: BinaryIO) -> None:
        shutil.copyfileobj(source, destination)
        with open(backup, "ab") as appended:
            appended.write(b"\0" * COPIED_BEFORE_THE_DISK_FILLS_BYTES)

    monkeypatch.setattr(restore_command, "_copy_file", written_meanwhile)
    result = invoke("restore", str(backup), "--db", str(tmp_path / "new.db"))
    assert result.exit_code == EXIT_USAGE
    assert "changed while it was read" in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["backup.db", "ledger.db"]


def test_replace_takes_a_ledger_whose_log_a_crash_left_holding_all_of_it(tmp_path: Path) -> None:
    """Its file alone holds no ledger yet: the log is read (and removed) under the lock."""
    _, backup = backed_up(tmp_path)
    crashed = tmp_path / "crashed.db"
    crash_leaving_a_log(crashed, seeding=True)
    assert restore_command._file_revision(crashed) is None
    result = invoke("restore", str(backup), "--db", str(crashed), "--replace")
    assert result.exit_code == 0, result.output
    assert [suffix for suffix in SIDE_FILES if Path(f"{crashed}{suffix}").exists()] == []
    assert head_of(crashed)["seq"] == 4
