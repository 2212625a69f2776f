"""The writer process (`carbonex writer`, `carbonex.ledger.writer`): clients' single commands
are decided in group commits, each exactly as `submit` would decide it."""

from __future__ import annotations

import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from carbonex.ledger import Accepted, Ledger, Refused, Selection, Transfer, writer
from carbonex.ledger.failures import Code, Failure
from carbonex.ledger.outcomes import outcome_from_record
from carbonex.ledger.writer import (
    WRITER_REQUEST_BYTES_MAX,
    WriterClient,
    WriterError,
    WriterServer,
    frame,
    sendable,
)
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
        client = WriterClient(server.socket_path)
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
