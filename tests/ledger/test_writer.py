"""The writer process (`carbonex writer`, `carbonex.ledger.writer`): clients' single commands
are decided in group commits, each exactly as `submit` would decide it."""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pytest

from carbonex.ledger import Accepted, Ledger, Refused, Selection, Transfer, writer
from carbonex.ledger.failures import Code, Failure
from carbonex.ledger.outcomes import outcome_from_record
from carbonex.ledger.writer import (
    LOCK_ATTEMPTS_MAX,
    LOCK_MODE,
    SOCKET_MODE,
    SOCKET_PATH_BYTES_MAX,
    WRITER_REQUEST_BYTES_MAX,
    WriterClient,
    WriterError,
    WriterServer,
    WriterSocketError,
    frame,
    identity_of,
    lock_path_of,
    sendable,
    socket_path_problem,
)
from tests.conftest import drop_postgres_schema, new_postgres_schema
from tests.ledger.support import held, issue, open_accounts

CLIENTS = 4
COMMANDS_PER_CLIENT = 25
START_SECONDS_MAX = 30.0


def short_socket_path() -> str:
    return str(Path(tempfile.mkdtemp(prefix="cx-", dir="/tmp")) / "w.sock")


@contextmanager
def serving(database_url: str, socket_path: str | None = None) -> Iterator[WriterServer]:
    """A writer on its own thread (and its own connection), on a short socket path."""
    socket_path = socket_path or short_socket_path()
    ready = threading.Event()
    servers: list[WriterServer] = []

    def run() -> None:
        with Ledger.open(database_url) as ledger:
            servers.append(WriterServer(ledger, socket_path))
            servers[0].serve(ready)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert ready.wait(START_SECONDS_MAX), "the writer did not start"
    try:
        yield servers[0]
    finally:
        servers[0].stop.set()
        thread.join(START_SECONDS_MAX)


def received_hello(sock: socket.socket) -> dict[str, str]:
    """The writer's first frame on a new connection."""
    (size,) = struct.unpack(">I", sock.recv(4, socket.MSG_WAITALL))
    hello: dict[str, str] = orjson.loads(sock.recv(size, socket.MSG_WAITALL))
    return hello


def funded(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 10_000)


def one_unit(command_id: str, quantity_t: int = 1) -> Transfer:
    return Transfer(command_id, "A", "B", Selection("VCU", quantity=quantity_t))


def test_clients_of_one_writer_each_get_their_own_outcome(
    ledger: Ledger, database_url: str
) -> None:
    funded(ledger)
    outcomes: dict[str, object] = {}

    def client(number: int, socket_path: str) -> None:
        with Ledger.open(database_url, writer_socket=socket_path) as own:
            for sequence in range(COMMANDS_PER_CLIENT):
                command_id = f"c{number}-{sequence}"
                outcomes[command_id] = own.submit(one_unit(command_id))

    with serving(database_url) as server:
        threads = [
            threading.Thread(target=client, args=(number, server.socket_path))
            for number in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(START_SECONDS_MAX)
    assert len(outcomes) == CLIENTS * COMMANDS_PER_CLIENT
    assert all(isinstance(outcome, Accepted) for outcome in outcomes.values())
    assert server.commands == CLIENTS * COMMANDS_PER_CLIENT
    assert server.batches <= server.commands
    assert held(ledger, "B") == CLIENTS * COMMANDS_PER_CLIENT
    assert ledger.verify().ok


def test_a_refusal_and_a_resubmission_come_back_as_submit_gives_them(
    ledger: Ledger, database_url: str
) -> None:
    funded(ledger)
    with (
        serving(database_url) as server,
        Ledger.open(database_url, writer_socket=server.socket_path) as client,
    ):
        first = client.submit(one_unit("move-1", 5))
        again = client.submit(one_unit("move-1", 5))
        reused = client.submit(one_unit("move-1", 6))
        too_much = client.submit(one_unit("too-much", 1_000_000))
    assert isinstance(first, Accepted) and isinstance(again, Accepted)
    assert again.duplicate and (again.seq, again.entry_hash) == (first.seq, first.entry_hash)
    assert [list(effect) for effect in again.effects] == [list(e) for e in first.effects]
    assert isinstance(reused, Refused) and reused.codes == [Code.E_COMMAND_ID_REUSED]
    assert isinstance(too_much, Refused) and too_much.codes == [Code.E_UNITS_NOT_HELD]
    assert too_much.failures[0].message
    assert held(ledger, "B") == 5


def test_an_unreadable_request_is_refused_and_changes_nothing(
    ledger: Ledger, database_url: str
) -> None:
    funded(ledger)
    with serving(database_url) as server:
        client = WriterClient(server.socket_path, identity_of(ledger))
        try:
            for hostile in (b"not json", b'{"kind": "transfer"}', b"[1, 2]", b'{"kind": 7}'):
                refused = client.submit(hostile)
                assert isinstance(refused, Refused) and refused.codes == [Code.E_INVALID_COMMAND]
        finally:
            client.close()
    assert held(ledger, "B") == 0
    assert len(ledger.journal(limit=100)) == 3  # two openings and the issue


def test_an_oversized_frame_closes_only_that_connection(ledger: Ledger, database_url: str) -> None:
    funded(ledger)
    with serving(database_url) as server:
        hostile = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        hostile.settimeout(START_SECONDS_MAX)
        hostile.connect(server.socket_path)
        received_hello(hostile)
        hostile.sendall(struct.pack(">I", WRITER_REQUEST_BYTES_MAX + 1))
        assert hostile.recv(16) == b""  # closed by the writer
        hostile.close()
        with pytest.raises(WriterError):
            frame(b"x" * (WRITER_REQUEST_BYTES_MAX + 1))
        with Ledger.open(database_url, writer_socket=server.socket_path) as client:
            assert client.submit(one_unit("after")).accepted


def test_a_command_that_would_not_read_back_is_submitted_directly(
    ledger: Ledger, database_url: str
) -> None:
    funded(ledger)
    strange = Transfer(7, "A", "B", Selection("VCU", quantity=1))  # type: ignore[arg-type]
    assert sendable(strange) is None
    assert sendable(one_unit("fine")) is not None
    with (
        serving(database_url) as server,
        Ledger.open(database_url, writer_socket=server.socket_path) as client,
    ):
        refused = client.submit(strange)
    assert isinstance(refused, Refused) and Code.E_INVALID_COMMAND in refused.codes
    assert server.commands == 0


def test_without_a_writer_a_client_gets_an_error_not_an_outcome(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    funded(ledger)
    with (
        Ledger.open(database_url, writer_socket=str(tmp_path / "none.sock")) as client,
        pytest.raises(WriterError, match="no writer at"),
    ):
        client.submit(one_unit("lost"))
    assert held(ledger, "B") == 0


def test_the_writer_command_serves_until_terminated(ledger: Ledger, database_url: str) -> None:
    funded(ledger)
    directory = tempfile.mkdtemp(prefix="cx-", dir="/tmp")
    socket_path = str(Path(directory) / "w.sock")
    command = [sys.executable, "-m", "carbonex.cli", "writer", "--db", database_url]
    process = subprocess.Popen([*command, "--socket", socket_path], stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + START_SECONDS_MAX
        while not Path(socket_path).exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        with Ledger.open(database_url, writer_socket=socket_path) as client:
            for number in range(3):
                assert client.submit(one_unit(f"through-{number}")).accepted
    finally:
        process.terminate()
        _, errors = process.communicate(timeout=START_SECONDS_MAX)
    assert process.returncode == 0
    assert b"3 commands in" in errors
    assert not Path(socket_path).exists()
    assert held(ledger, "B") == 3


def test_outcomes_read_back_from_their_records() -> None:
    accepted = Accepted("t-1", 7, "ab" * 32, [("move", "VCU", 1, 5, "A", "B")], duplicate=True)
    refused = Refused("t-2", (Failure(Code.E_UNITS_NOT_HELD, "A holds 0 of 5", ("A",)),))
    for outcome in (accepted, refused):
        assert outcome_from_record(orjson.loads(orjson.dumps(outcome.to_record()))) == outcome


def test_an_answer_too_large_to_send_is_an_error_and_the_writer_serves_on(
    ledger: Ledger, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    funded(ledger)
    with serving(database_url) as server:
        monkeypatch.setattr(writer, "WRITER_ANSWER_BYTES_MAX", 100)
        with Ledger.open(database_url, writer_socket=server.socket_path) as client:
            with pytest.raises(WriterError, match="exceeds 100; the command was decided"):
                client.submit(one_unit("large-answer"))
            monkeypatch.setattr(writer, "WRITER_ANSWER_BYTES_MAX", 256_000_000)
            again = client.submit(one_unit("large-answer"))
    assert isinstance(again, Accepted) and again.duplicate  # it had been committed
    assert held(ledger, "B") == 1


def test_a_client_reconnects_to_a_restarted_writer(ledger: Ledger, database_url: str) -> None:
    funded(ledger)
    socket_path = short_socket_path()
    with Ledger.open(database_url, writer_socket=socket_path) as client:
        with serving(database_url, socket_path):
            assert isinstance(client.submit(one_unit("before")), Accepted)
        with pytest.raises(WriterError):
            client.submit(one_unit("while-down"))
        with serving(database_url, socket_path):
            assert isinstance(client.submit(one_unit("after")), Accepted)
            again = client.submit(one_unit("before"))
    assert isinstance(again, Accepted) and again.duplicate
    assert held(ledger, "B") == 2


# -- the socket path is the writer's own, and a client talks only to its ledger's writer ---------


@pytest.fixture
def other_database_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A second ledger on the same store as `database_url` (on PostgreSQL: another schema of the
    same database)."""
    if not database_url.startswith("postgresql"):
        yield str(tmp_path / "other.db")
        return
    schema, url = new_postgres_schema()
    try:
        yield url
    finally:
        drop_postgres_schema(schema)


def refusal_to_serve(database_url: str, socket_path: str) -> str:
    """The WriterSocketError a writer starting at `socket_path` raises (stopped before it
    serves, so that one that starts returns at once and fails the test)."""
    with Ledger.open(database_url) as ledger:
        server = WriterServer(ledger, socket_path)
        server.stop.set()
        with pytest.raises(WriterSocketError) as refused:
            server.serve()
    return str(refused.value)


def stale_socket(socket_path: str) -> None:
    """A socket left at `socket_path` by a writer that was killed: nobody listens on it."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as dead:
        dead.bind(socket_path)


def test_a_writer_refuses_a_path_that_is_a_file_and_leaves_the_file_as_it_was(
    database_url: str, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_bytes(b"my notes")
    message = refusal_to_serve(database_url, str(notes))
    assert "exists and is not a socket" in message
    assert notes.read_bytes() == b"my notes"


def test_a_writer_refuses_its_own_database_file_as_socket_path(tmp_path: Path) -> None:
    victim = tmp_path / "victim.db"
    with Ledger.open(str(victim)) as ledger:
        funded(ledger)
    before = victim.read_bytes()
    assert "is not a socket" in refusal_to_serve(str(victim), str(victim))
    assert victim.read_bytes() == before
    with Ledger.open(str(victim)) as ledger:
        assert held(ledger, "A") == 10_000


def test_a_writer_refuses_a_directory_a_missing_directory_and_a_path_too_long(
    database_url: str, tmp_path: Path
) -> None:
    assert "is not a socket" in refusal_to_serve(database_url, str(tmp_path))
    missing = str(tmp_path / "missing" / "w.sock")
    assert "does not exist" in refusal_to_serve(database_url, missing)
    too_long = "/tmp/" + "x" * SOCKET_PATH_BYTES_MAX
    assert f"at most {SOCKET_PATH_BYTES_MAX}" in refusal_to_serve(database_url, too_long)
    assert tmp_path.is_dir() and not Path(too_long).exists()


def test_a_second_writer_at_the_same_path_is_refused_and_the_first_serves_on(
    ledger: Ledger, database_url: str, other_database_url: str
) -> None:
    funded(ledger)
    with serving(database_url) as first:
        message = refusal_to_serve(other_database_url, first.socket_path)
        assert message == f"a writer already listens at {first.socket_path}"
        with Ledger.open(database_url, writer_socket=first.socket_path) as client:
            assert client.submit(one_unit("after-the-second")).accepted
    assert held(ledger, "B") == 1
    assert not Path(first.socket_path).exists()


def test_a_stale_socket_is_replaced(ledger: Ledger, database_url: str) -> None:
    funded(ledger)
    socket_path = short_socket_path()
    stale_socket(socket_path)
    with (
        serving(database_url, socket_path),
        Ledger.open(database_url, writer_socket=socket_path) as client,
    ):
        assert client.submit(one_unit("through-a-new-socket")).accepted
    assert not Path(socket_path).exists()


def test_a_stopping_writer_leaves_what_replaced_its_socket(database_url: str) -> None:
    socket_path = short_socket_path()
    with serving(database_url, socket_path):
        os.unlink(socket_path)
        stale_socket(socket_path)  # another writer's, say
        replacement = os.stat(socket_path).st_ino
    assert os.stat(socket_path).st_ino == replacement
    os.unlink(socket_path)
    with serving(database_url, socket_path):
        os.unlink(socket_path)
        Path(socket_path).write_bytes(b"a file")
    assert Path(socket_path).read_bytes() == b"a file"


def test_the_socket_is_made_for_this_user_only_whatever_the_umask(database_url: str) -> None:
    previous = os.umask(0)
    try:
        with serving(database_url) as server:
            mode = stat.S_IMODE(os.stat(server.socket_path).st_mode)
            umask_after_binding = os.umask(0)
    finally:
        os.umask(previous)
    assert mode == SOCKET_MODE == 0o600
    assert umask_after_binding == 0  # the caller's umask was put back


def test_a_client_refuses_the_writer_of_another_ledger_and_sends_nothing(
    ledger: Ledger, database_url: str, other_database_url: str
) -> None:
    funded(ledger)
    with Ledger.open(other_database_url) as other:
        funded(other)
    with (
        serving(other_database_url) as server,
        Ledger.open(database_url, writer_socket=server.socket_path) as client,
    ):
        with pytest.raises(
            WriterError, match=r"serves another ledger .*: the command was not sent"
        ):
            client.submit(one_unit("meant-for-this-ledger"))
        with pytest.raises(WriterError, match="serves another ledger"):
            WriterClient(server.socket_path, identity_of(client))
    assert server.commands == 0
    assert held(ledger, "B") == 0
    with Ledger.open(other_database_url) as other:
        assert held(other, "B") == 0
        assert len(other.journal(limit=100)) == 3


def test_a_ledger_has_one_identity_however_it_is_opened_and_another_has_another(
    database_url: str, other_database_url: str
) -> None:
    with Ledger.open(database_url) as one, Ledger.open(database_url) as again:
        identity = identity_of(one)
        assert identity_of(again) == identity
    with Ledger.open(other_database_url) as other:
        assert identity_of(other).key != identity.key


def test_a_sqlite_ledger_named_through_a_link_or_a_relative_path_is_the_same_ledger(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "ledger.db"
    (tmp_path / "link.db").symlink_to(path)
    monkeypatch.chdir(tmp_path)
    with Ledger.open(str(path)) as direct, Ledger.open("link.db") as linked:
        assert identity_of(direct) == identity_of(linked)
        assert identity_of(direct).shown == str(path.resolve())


def test_a_client_refuses_a_socket_that_is_not_a_writer(ledger: Ledger) -> None:
    socket_path = short_socket_path()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as impostor:
        impostor.bind(socket_path)
        impostor.listen(1)

        def answer_nonsense() -> None:
            accepted, _ = impostor.accept()
            with accepted:
                accepted.sendall(struct.pack(">I", 5) + b"hello")

        thread = threading.Thread(target=answer_nonsense, daemon=True)
        thread.start()
        with pytest.raises(WriterError, match="unreadable greeting"):
            WriterClient(socket_path, identity_of(ledger))
        thread.join(START_SECONDS_MAX)


# -- one lock beside the socket: a stale socket is replaced by exactly one writer ----------------

RACING_ROUNDS = 20


@dataclass
class Racer:
    """A writer thread that waits at `start`, then serves (`settled` is set once it serves or
    was refused)."""

    database_url: str
    socket_path: str
    start: threading.Barrier
    settled: threading.Event = field(default_factory=threading.Event)
    refusal: WriterSocketError | None = None
    server: WriterServer | None = None

    def run(self) -> None:
        with Ledger.open(self.database_url) as ledger:
            self.server = WriterServer(ledger, self.socket_path)
            self.start.wait(START_SECONDS_MAX)
            try:
                self.server.serve(self.settled)
            except WriterSocketError as refused:
                self.refusal = refused
                self.settled.set()


def stop_and_wake(server: WriterServer) -> None:
    """Stop a serving writer and connect once, so that its loop sees `stop` at once."""
    server.stop.set()
    with socket.socket(socket.AF_UNIX) as wake, contextlib.suppress(OSError):
        wake.connect(server.socket_path)


def race_two_writers(database_url: str, socket_path: str, command_id: str) -> list[Racer]:
    """Two writers started at the same instant on `socket_path`; a client submits one command
    through whichever serves there; both are stopped before this returns."""
    start = threading.Barrier(2)
    racers = [Racer(database_url, socket_path, start) for _ in range(2)]
    threads = [threading.Thread(target=racer.run, daemon=True) for racer in racers]
    for thread in threads:
        thread.start()
    try:
        for racer in racers:
            assert racer.settled.wait(START_SECONDS_MAX), "a writer neither served nor refused"
        with Ledger.open(database_url, writer_socket=socket_path) as client:
            assert client.submit(one_unit(command_id)).accepted
    finally:
        for racer in racers:
            if racer.server is not None and racer.refusal is None:
                stop_and_wake(racer.server)
        for thread in threads:
            thread.join(START_SECONDS_MAX)
    return racers


def test_two_writers_started_at_once_on_a_stale_socket_leave_exactly_one_serving(
    ledger: Ledger, database_url: str
) -> None:
    funded(ledger)
    socket_path = short_socket_path()
    for round_number in range(RACING_ROUNDS):
        stale_socket(socket_path)
        racers = race_two_writers(database_url, socket_path, f"race-{round_number}")
        served = [racer for racer in racers if racer.refusal is None]
        assert len(served) == 1, f"round {round_number}: {len(served)} writers served"
        assert served[0].server is not None and served[0].server.commands == 1
        assert not os.path.exists(socket_path)
    assert held(ledger, "B") == RACING_ROUNDS


def test_a_writer_cannot_start_while_another_holds_the_lock_though_its_socket_was_deleted(
    ledger: Ledger, database_url: str, other_database_url: str
) -> None:
    funded(ledger)
    with serving(database_url) as first:
        os.unlink(first.socket_path)  # by hand: the first writer still serves, unreachable
        message = refusal_to_serve(other_database_url, first.socket_path)
        assert message.startswith("another writer holds the lock file")
        assert socket_path_problem(first.socket_path) == message
        assert not os.path.exists(first.socket_path)  # the refused writer bound nothing
    with (
        serving(database_url, first.socket_path),
        Ledger.open(database_url, writer_socket=first.socket_path) as client,
    ):
        assert client.submit(one_unit("after-the-first-let-go")).accepted


def test_a_lock_path_that_is_a_symbolic_link_is_refused_and_its_target_left_alone(
    database_url: str,
) -> None:
    socket_path = short_socket_path()
    missing_target = Path(socket_path).parent / "made-through-the-link"
    os.symlink(missing_target, lock_path_of(socket_path))
    assert "is a symbolic link" in refusal_to_serve(database_url, socket_path)
    assert "is a symbolic link" in (socket_path_problem(socket_path) or "")
    assert not missing_target.exists() and not os.path.exists(socket_path)
    os.unlink(lock_path_of(socket_path))
    notes = Path(socket_path).parent / "notes.txt"
    notes.write_bytes(b"my notes")
    notes.chmod(0o644)
    os.symlink(notes, lock_path_of(socket_path))
    assert "is a symbolic link" in refusal_to_serve(database_url, socket_path)
    assert notes.read_bytes() == b"my notes" and stat.S_IMODE(notes.stat().st_mode) == 0o644


def test_a_lock_path_that_is_a_directory_or_a_fifo_is_refused_and_left_as_it_was(
    database_url: str,
) -> None:
    socket_path = short_socket_path()
    os.mkdir(lock_path_of(socket_path))
    assert "is not a regular file" in refusal_to_serve(database_url, socket_path)
    os.rmdir(lock_path_of(socket_path))
    os.mkfifo(lock_path_of(socket_path))
    assert "is not a regular file" in refusal_to_serve(database_url, socket_path)
    assert "is not a regular file" in (socket_path_problem(socket_path) or "")
    assert stat.S_ISFIFO(os.lstat(lock_path_of(socket_path)).st_mode)
    assert not os.path.exists(socket_path)


def lock_is_free(lock_path: str) -> bool:
    """Whether a writer could lock `lock_path` now (tried on its own open file, and let go)."""
    descriptor = os.open(lock_path, os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)
    return True


def test_the_lock_file_is_this_users_only_held_while_serving_and_kept_after(
    database_url: str,
) -> None:
    previous = os.umask(0)
    try:
        with serving(database_url) as server:
            lock_path = lock_path_of(server.socket_path)
            mode = stat.S_IMODE(os.stat(lock_path).st_mode)
            assert not lock_is_free(lock_path)
    finally:
        os.umask(previous)
    assert mode == LOCK_MODE == 0o600
    assert os.path.isfile(lock_path) and lock_is_free(lock_path)  # kept: never a new inode


def replacing_the_lock_file(
    lock_path: str, monkeypatch: pytest.MonkeyPatch, times: int
) -> list[int]:
    """Make the next `times` exclusive locks find `lock_path` replaced by a new file just before
    they lock; the inodes put there."""
    real_flock = fcntl.flock
    inodes: list[int] = []

    def flock(descriptor: int, operation: int) -> None:
        if operation & fcntl.LOCK_EX and len(inodes) < times:
            Path(lock_path + ".new").touch()
            os.replace(lock_path + ".new", lock_path)
            inodes.append(os.stat(lock_path).st_ino)
        real_flock(descriptor, operation)

    monkeypatch.setattr(fcntl, "flock", flock)
    return inodes


def test_a_lock_file_replaced_while_it_was_being_locked_is_locked_again_at_the_path(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket_path = short_socket_path()
    lock_path = lock_path_of(socket_path)
    inodes = replacing_the_lock_file(lock_path, monkeypatch, times=1)
    with serving(database_url, socket_path):
        monkeypatch.undo()
        assert len(inodes) == 1 and os.stat(lock_path).st_ino == inodes[0]
        assert not lock_is_free(lock_path)  # the file now at the path, not the replaced one


def test_a_lock_file_replaced_at_every_try_is_given_up_on(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    socket_path = short_socket_path()
    inodes = replacing_the_lock_file(lock_path_of(socket_path), monkeypatch, times=1_000)
    message = refusal_to_serve(database_url, socket_path)
    assert message.endswith(f"was replaced {LOCK_ATTEMPTS_MAX} times while being locked")
    assert len(inodes) == LOCK_ATTEMPTS_MAX
    assert not os.path.exists(socket_path)
