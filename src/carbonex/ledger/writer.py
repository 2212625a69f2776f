"""One writer process for many local clients: single commands, group-committed.

Every process that writes through its own `Ledger` takes the writer lock, catches up with the
others' journal entries and commits on its own: with several busy processes the lock is held
for a whole transaction per command. A writer process instead owns the cache; clients send it
their commands over a local (UNIX) socket, it decides every command that arrived meanwhile with
`Ledger.submit_many` (one transaction, one durable commit) and answers each client after the
commit. Each command is accepted or refused on its own merits, exactly as `submit` would.

Frames on the socket: a 4-byte big-endian length, then JSON. A request is a command record
(`Command.to_record`); an answer is an outcome record (`Outcome.to_record`) or {"error": text}
when the writer could not run the batch (the command was then not applied) or could not send
the answer.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import struct
import threading
from dataclasses import dataclass, field
from typing import Any

import orjson

from carbonex.ledger.commands import Command, CommandFormatError, command_from_record
from carbonex.ledger.failures import Code, Failure
from carbonex.ledger.outcomes import Outcome, Refused, outcome_from_record

WRITER_CLIENTS_MAX = 256
"""Connections the writer serves at once; more are refused at accept."""
WRITER_REQUEST_BYTES_MAX = 4_000_000
"""Largest request (a command naming 10,000 serial ranges takes ~0.5 MB); a longer frame closes
the connection."""
WRITER_ANSWER_BYTES_MAX = 256_000_000
"""Largest answer: an accepted command's effects may name up to 100,000 blocks, tens of MB. A
longer one is replaced by an error answer (the command stands; `Ledger.journal` shows it)."""
WRITER_BATCH_MAX = 1_000
"""Commands one group commit takes; the rest wait for the next."""
WRITER_POLL_S = 0.5
"""How often the serving loop looks at its stop flag when idle."""
WRITER_ANSWER_TIMEOUT_S = 60.0
"""How long a client waits for its answer before it gives up (the command may still commit:
resubmit its id to learn its fate)."""
WRITER_SEND_TIMEOUT_S = 5.0
"""How long the writer waits to hand a client its answer before dropping that client."""
FRAME_HEADER = struct.Struct(">I")


class WriterError(RuntimeError):
    """The writer could not decide a command (its batch failed, or the connection broke)."""


def _encoded(outcome: Outcome) -> bytes:
    return orjson.dumps(outcome.to_record())


def sendable(command: Command) -> bytes | None:
    """The command's record, or None when it would not read back as the same command (such a
    command is submitted directly, so the writer never changes what a command means)."""
    try:
        record = orjson.dumps(command.to_record())
        same = command_from_record(orjson.loads(record)) == command
    except (CommandFormatError, TypeError, ValueError):
        return None
    return record if same else None


def frame(payload: bytes, limit: int = WRITER_REQUEST_BYTES_MAX) -> bytes:
    if len(payload) > limit:
        raise WriterError(f"frame of {len(payload)} bytes exceeds {limit}")
    return FRAME_HEADER.pack(len(payload)) + payload


@dataclass(slots=True)
class _Connection:
    sock: socket.socket
    received: bytearray = field(default_factory=bytearray)

    def take_frames(self) -> list[bytes] | None:
        """Complete frames received so far; None if the peer sent an oversized frame."""
        frames = []
        while len(self.received) >= FRAME_HEADER.size:
            (size,) = FRAME_HEADER.unpack_from(self.received)
            if size > WRITER_REQUEST_BYTES_MAX:
                return None
            if len(self.received) < FRAME_HEADER.size + size:
                break
            frames.append(bytes(self.received[FRAME_HEADER.size : FRAME_HEADER.size + size]))
            del self.received[: FRAME_HEADER.size + size]
        return frames


class WriterServer:
    """Serves one ledger's writes to the clients of a UNIX socket until `stop` is set."""

    def __init__(self, ledger: Any, socket_path: str) -> None:
        self.ledger = ledger
        self.socket_path = socket_path
        self.stop = threading.Event()
        self.batches = 0
        self.commands = 0

    def serve(self, ready: threading.Event | None = None) -> None:
        listener = _listen(self.socket_path)
        with selectors.DefaultSelector() as selector:
            selector.register(listener, selectors.EVENT_READ, None)
            if ready is not None:
                ready.set()
            try:
                while not self.stop.is_set():
                    requests: list[tuple[_Connection, bytes]] = []
                    for key, _ in selector.select(WRITER_POLL_S):
                        if key.data is None:
                            _accept(listener, selector)
                        else:
                            requests += _receive(key.data, selector)
                    for start in range(0, len(requests), WRITER_BATCH_MAX):
                        self._decide(requests[start : start + WRITER_BATCH_MAX], selector)
            finally:
                for key in list(selector.get_map().values()):
                    key.fileobj.close()  # type: ignore[union-attr]
                _unlink(self.socket_path)

    def _decide(
        self, requests: list[tuple[_Connection, bytes]], selector: selectors.BaseSelector
    ) -> None:
        """One group commit for every command received in this pass; then every answer."""
        answers: dict[int, bytes] = {}
        commands: list[tuple[int, Command]] = []
        for index, (_, payload) in enumerate(requests):
            try:
                commands.append((index, command_from_record(orjson.loads(payload))))
            except (CommandFormatError, ValueError) as error:
                failure = Failure(Code.E_INVALID_COMMAND, f"unreadable command: {error}")
                answers[index] = _encoded(Refused("", (failure,)))
        if commands:
            answers |= self._submit(commands)
        for index, (connection, _) in enumerate(requests):
            try:
                connection.sock.sendall(_answer_frame(answers[index]))
            except OSError:  # the client went away: its command stands, as any commit does
                _close(connection, selector)

    def _submit(self, commands: list[tuple[int, Command]]) -> dict[int, bytes]:
        try:
            outcomes = self.ledger.submit_many([command for _, command in commands])
        except Exception as error:  # reported to each client; the batch rolled back whole
            answer = orjson.dumps({"error": f"{type(error).__name__}: {error}"})
            return {index: answer for index, _ in commands}
        self.batches += 1
        self.commands += len(commands)
        return {
            index: _encoded(outcome) for (index, _), outcome in zip(commands, outcomes, strict=True)
        }


def _answer_frame(answer: bytes) -> bytes:
    limit = WRITER_ANSWER_BYTES_MAX
    if len(answer) > limit:
        message = f"the answer ({len(answer)} bytes) exceeds {limit}; the command was decided"
        answer = orjson.dumps({"error": message})
    return frame(answer, limit)


def _listen(socket_path: str) -> socket.socket:
    _unlink(socket_path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    os.chmod(socket_path, 0o600)  # this user's processes only
    listener.listen(WRITER_CLIENTS_MAX)
    listener.setblocking(False)
    return listener


def _unlink(socket_path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(socket_path)


def _accept(listener: socket.socket, selector: selectors.BaseSelector) -> None:
    try:
        sock, _ = listener.accept()
    except BlockingIOError:
        return
    if len(selector.get_map()) > WRITER_CLIENTS_MAX:
        sock.close()
        return
    sock.setblocking(True)
    sock.settimeout(WRITER_SEND_TIMEOUT_S)  # a client that stops reading stalls us this long
    selector.register(sock, selectors.EVENT_READ, _Connection(sock))


def _receive(
    connection: _Connection, selector: selectors.BaseSelector
) -> list[tuple[_Connection, bytes]]:
    try:
        data = connection.sock.recv(65_536)
    except OSError:
        data = b""
    if not data:
        _close(connection, selector)
        return []
    connection.received += data
    frames = connection.take_frames()
    if frames is None:
        _close(connection, selector)
        return []
    return [(connection, payload) for payload in frames]


def _close(connection: _Connection, selector: selectors.BaseSelector) -> None:
    with contextlib.suppress(KeyError, ValueError):
        selector.unregister(connection.sock)
    connection.sock.close()


class WriterClient:
    """A client's end: sends one command, waits for its outcome. Once the connection fails
    (`broken`), its stream may be cut mid-frame: the client must not be used again."""

    def __init__(self, socket_path: str, timeout_s: float = WRITER_ANSWER_TIMEOUT_S) -> None:
        self.broken = False
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout_s)
        try:
            self.sock.connect(socket_path)
        except OSError as error:
            self.sock.close()
            raise WriterError(f"no writer at {socket_path}: {error}") from error

    def submit(self, record: bytes) -> Outcome:
        request = frame(record)
        try:
            self.sock.sendall(request)
            (size,) = FRAME_HEADER.unpack(self._read(FRAME_HEADER.size))
            if size > WRITER_ANSWER_BYTES_MAX:
                raise WriterError(f"answer of {size} bytes exceeds {WRITER_ANSWER_BYTES_MAX}")
            answer = orjson.loads(self._read(size))
        except OSError as error:
            self.broken = True
            raise WriterError(f"writer connection failed: {error}") from error
        except WriterError:
            self.broken = True
            raise
        except ValueError as error:  # not JSON: the stream is out of step
            self.broken = True
            raise WriterError(f"unreadable answer from the writer: {error}") from error
        if "error" in answer:
            raise WriterError(answer["error"])
        return outcome_from_record(answer)

    def _read(self, size: int) -> bytes:
        chunks = bytearray()
        while len(chunks) < size:
            data = self.sock.recv(size - len(chunks))
            if not data:
                raise WriterError("the writer closed the connection")
            chunks += data
        return bytes(chunks)

    def close(self) -> None:
        self.sock.close()
