"""`carbonex writer`: a socket path it cannot serve at (a file, its own database, a directory, a
missing directory, a path too long, a live writer's socket) is refused with exit code 2 and a
clear message, nothing at the path changed; a stopping writer removes only its own socket; the
lock beside the socket keeps a second writer out while the first lives, and only then."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from carbonex.ledger import Ledger, Selection, Transfer
from carbonex.ledger.writer import SOCKET_PATH_BYTES_MAX, lock_path_of
from tests.cli.helpers import EXIT_USAGE, invoke, seed
from tests.ledger.support import held

START_SECONDS_MAX = 30.0


def short_directory() -> Path:
    return Path(tempfile.mkdtemp(prefix="cx-", dir="/tmp"))  # socket paths must stay short


def writer_process(database: str, socket_path: Path) -> subprocess.Popen[bytes]:
    """`carbonex writer` in its own process, once its socket accepts connections."""
    command = [sys.executable, "-m", "carbonex.cli", "writer", "--db", database]
    process = subprocess.Popen([*command, "--socket", str(socket_path)], stderr=subprocess.PIPE)
    deadline = time.monotonic() + START_SECONDS_MAX
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(str(socket_path))
                return process
            except OSError:
                time.sleep(0.05)
    process.kill()
    raise AssertionError("the writer did not start")


def stopped(process: subprocess.Popen[bytes]) -> tuple[int, bytes]:
    process.send_signal(signal.SIGTERM)
    _, errors = process.communicate(timeout=START_SECONDS_MAX)
    return process.returncode, errors


def test_the_writer_refuses_its_own_database_as_socket_and_keeps_it(tmp_path: Path) -> None:
    victim = tmp_path / "victim.db"
    seed(str(victim))
    before = victim.read_bytes()
    result = invoke("writer", "--db", str(victim), "--socket", str(victim))
    assert result.exit_code == EXIT_USAGE
    assert "is the database file's" in result.stderr
    assert "Traceback" not in result.output + result.stderr
    assert victim.read_bytes() == before


def test_the_writer_refuses_a_socket_path_that_names_a_new_database_and_makes_no_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "new.db"
    result = invoke("writer", "--db", str(path), "--socket", str(path))
    assert result.exit_code == EXIT_USAGE
    assert not path.exists()


def test_the_writer_refuses_a_regular_file_and_leaves_it(database_url: str, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes")
    result = invoke("writer", "--db", database_url, "--socket", str(notes))
    assert result.exit_code == EXIT_USAGE
    assert f"{notes} exists and is not a socket" in result.stderr
    assert notes.read_text() == "my notes"


def test_the_writer_refuses_unusable_socket_paths_without_a_traceback(tmp_path: Path) -> None:
    database = str(tmp_path / "ledger.db")
    too_long = "/tmp/" + "x" * SOCKET_PATH_BYTES_MAX
    cases = {
        str(tmp_path / "missing" / "w.sock"): "does not exist",
        str(tmp_path): "is not a socket",
        too_long: f"at most {SOCKET_PATH_BYTES_MAX}",
    }
    for socket_path, expected in cases.items():
        result = invoke("writer", "--db", database, "--socket", socket_path)
        assert result.exit_code == EXIT_USAGE, socket_path
        assert expected in result.stderr
        assert "Traceback" not in result.output + result.stderr
    assert not Path(database).exists()  # refused before the ledger was opened


def test_a_second_writer_is_refused_and_the_first_serves_and_cleans_up(tmp_path: Path) -> None:
    first_db, second_db = str(tmp_path / "wa.db"), str(tmp_path / "wb.db")
    seed(first_db)
    seed(second_db)
    socket_path = short_directory() / "s.sock"
    first = writer_process(first_db, socket_path)
    try:
        result = invoke("writer", "--db", second_db, "--socket", str(socket_path))
        assert result.exit_code == EXIT_USAGE
        assert f"a writer already listens at {socket_path}" in result.stderr
        move = Transfer("t-1", "DEV", "BUYER", Selection("VCU", quantity=5))
        with Ledger.open(first_db, writer_socket=str(socket_path)) as client:
            assert client.submit(move).accepted
    finally:
        returncode, errors = stopped(first)
    assert returncode == 0, errors
    assert not socket_path.exists()
    with Ledger.open(first_db) as first_ledger, Ledger.open(second_db) as second_ledger:
        assert held(first_ledger, "BUYER") == 5
        assert held(second_ledger, "BUYER") == 0


def test_a_writer_started_on_a_stale_socket_replaces_it(tmp_path: Path) -> None:
    database = str(tmp_path / "ledger.db")
    seed(database)
    socket_path = short_directory() / "w.sock"
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(str(socket_path))  # left behind: nobody listens
    process = writer_process(database, socket_path)
    returncode, errors = stopped(process)
    assert returncode == 0, errors
    assert not socket_path.exists()


def test_a_writer_killed_with_sigkill_is_followed_by_a_new_one_on_its_stale_socket(
    tmp_path: Path,
) -> None:
    database = str(tmp_path / "ledger.db")
    seed(database)
    socket_path = short_directory() / "w.sock"
    killed = writer_process(database, socket_path)
    killed.kill()  # SIGKILL: no clean-up; the kernel lets its lock go
    killed.communicate(timeout=START_SECONDS_MAX)
    assert socket_path.is_socket() and Path(lock_path_of(str(socket_path))).is_file()
    follower = writer_process(database, socket_path)
    try:
        move = Transfer("t-1", "DEV", "BUYER", Selection("VCU", quantity=5))
        with Ledger.open(database, writer_socket=str(socket_path)) as client:
            assert client.submit(move).accepted
    finally:
        returncode, errors = stopped(follower)
    assert returncode == 0, errors
    assert not socket_path.exists()


def test_a_writer_is_refused_while_another_holds_the_lock_though_its_socket_was_deleted(
    tmp_path: Path,
) -> None:
    database = str(tmp_path / "ledger.db")
    seed(database)
    socket_path = short_directory() / "w.sock"
    first = writer_process(database, socket_path)
    try:
        socket_path.unlink()  # by hand, while the first writer serves
        never_made = tmp_path / "never-made.db"
        result = invoke("writer", "--db", str(never_made), "--socket", str(socket_path))
        assert result.exit_code == EXIT_USAGE
        assert f"another writer holds the lock file {socket_path}.lock" in result.stderr
        assert not never_made.exists()  # refused before the ledger was opened
        assert not socket_path.exists()
    finally:
        returncode, errors = stopped(first)
    assert returncode == 0, errors


def test_the_writer_refuses_a_lock_file_that_is_its_database_and_keeps_it() -> None:
    directory = short_directory()
    victim = directory / "w.sock.lock"
    seed(str(victim))
    before = victim.read_bytes()
    socket_path = directory / "w.sock"
    command = [sys.executable, "-m", "carbonex.cli", "writer", "--db", str(victim)]
    result = subprocess.run(  # a writer that started would serve on: the timeout fails the test
        [*command, "--socket", str(socket_path)], capture_output=True, timeout=START_SECONDS_MAX
    )
    assert result.returncode == EXIT_USAGE
    assert b"lock file" in result.stderr and b"is the database file" in result.stderr
    assert victim.read_bytes() == before and not socket_path.exists()
