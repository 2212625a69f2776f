"""One writer process for many local clients: single commands, group-committed.

Every process that writes through its own `Ledger` takes the writer lock, catches up with the
others' journal entries and commits on its own: with several busy processes the lock is held
for a whole transaction per command. A writer process instead owns the cache; clients send it
their commands over a local (UNIX) socket, it decides every command that arrived meanwhile with
`Ledger.submit_many` (one transaction, one durable commit) and answers each client after the
commit. Each command is accepted or refused on its own merits, exactly as `submit` would.

Frames on the socket: a 4-byte big-endian length, then JSON. On each connection the writer first
sends a hello, {"ledger": identity, "shown": where}: the identity of the ledger it serves (see
`ledger_identity`). A client compares it with the identity of the ledger it opened itself and,
when they differ, sends nothing (a writer started on another database at the same socket path
must not decide its commands). A request is a command record (`Command.to_record`); an answer is
an outcome record (`Outcome.to_record`) or {"error": text} when the writer could not run the
batch (the command was then not applied) or could not send the answer.

The socket path is the writer's own: it starts only where nothing is, or where a stale socket is
(one that nobody answers on, left by a writer that was killed), and it refuses a path that holds
anything else (a file, a directory, a socket another process listens on). On stopping it removes
the socket only if it is still the one it bound.

Two writers started at once on one stale socket would both find it dead, and the second would
unlink the first one's fresh socket and bind its own. So a writer first takes an exclusive
`flock` on a lock file beside the socket (the socket path + ".lock", this user's only), holds it
for its whole life, and looks at, replaces and binds the socket only under it: a stale socket is
replaced by exactly one writer, and a second writer is refused even if the socket was deleted by
hand. The kernel releases the lock when its holder dies, killed or not. The lock file is never
deleted (deleting it would let a third writer lock a new file at the path while the old one is
still held); a lock path that is a symbolic link or not a regular file is refused.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import selectors
import socket
import stat
import struct
import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from carbonex.ledger.commands import Command, CommandFormatError, command_from_record
from carbonex.ledger.failures import Code, Failure
from carbonex.ledger.outcomes import Outcome, Refused, outcome_from_record

if TYPE_CHECKING:
    from carbonex.store import SqlStore

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
WRITER_PROBE_TIMEOUT_S = 2.0
"""How long a starting writer waits to connect to a socket already at its path: one that
accepts (or cannot answer in time) belongs to a live process and is left alone."""
WRITER_HELLO_BYTES_MAX = 64_000
"""Largest hello a client reads (a ledger's identity and where it is)."""
SOCKET_PATH_BYTES_MAX = 107
"""Longest UNIX socket path, encoded: `sun_path` holds 108 bytes with the terminating NUL."""
SOCKET_MODE = 0o600
"""The socket's permissions: this user's processes only."""
SOCKET_UMASK = 0o177
"""The umask in force while the socket is bound, so that it is made with `SOCKET_MODE` whatever
the caller's umask (a chmod after bind would leave it open to others for a moment)."""
LOCK_SUFFIX = ".lock"
"""The lock file is the socket path with this appended."""
LOCK_MODE = 0o600
"""The lock file's permissions: only this user's writers can lock it (or lock others out)."""
LOCK_ATTEMPTS_MAX = 5
"""How many times a starting writer opens and locks the lock file again when the path no longer
names the file it locked (someone removed or replaced it meanwhile) before it gives up."""
LOCK_OPEN_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC
"""Never through a symbolic link, never blocking on a FIFO, never inherited by a child."""
FRAME_HEADER = struct.Struct(">I")


class WriterError(RuntimeError):
    """The writer could not decide a command (its batch failed, or the connection broke), or the
    client would not send it (the writer serves another ledger)."""


class WriterSocketError(WriterError):
    """The writer cannot serve at this socket path (nothing was changed at the path)."""


@dataclass(frozen=True, slots=True)
class LedgerIdentity:
    """Which ledger a store opened: `key` is compared, `shown` names it in messages."""

    key: str
    shown: str


def ledger_identity(store: SqlStore) -> LedgerIdentity:
    """The identity of the ledger behind `store`, the same for every process that opened it
    however it was named (relative path, symbolic link, another host name for the server).
    SQLite: the database file's device and inode. PostgreSQL: the cluster's system identifier
    and the object id of the journal table the connection writes (its database and schema).
    Call it inside a read transaction (`Ledger.read`)."""
    from carbonex.store.sqlite import SqliteStore

    if isinstance(store, SqliteStore):
        try:
            status = os.stat(store.path)
        except OSError:  # an in-memory database: no other process can open the same one
            return LedgerIdentity(f"sqlite-unshared:{os.getpid()}:{id(store)}", store.path)
        return LedgerIdentity(
            f"sqlite:{status.st_dev}:{status.st_ino}", os.path.realpath(store.path)
        )
    row = store.query_one(
        "SELECT (SELECT system_identifier FROM pg_control_system()), "
        "to_regclass('journal')::oid, current_database(), current_schema()"
    )
    if row is None:
        raise WriterError("the database did not say which it is")
    system, journal, database, schema = row
    return LedgerIdentity(
        f"postgresql:{system}:{journal}", f"PostgreSQL database {database}, schema {schema}"
    )


def identity_of(ledger: Any) -> LedgerIdentity:
    """The identity of the ledger a `Ledger` opened (one read transaction)."""
    identity: LedgerIdentity = ledger.read(ledger_identity, read_models=False)
    return identity


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
        """Lock and claim the socket path (WriterSocketError, with nothing changed, when it
        cannot), then serve until `stop` is set; remove the socket if it is still the one bound
        here, then release the lock."""
        hello = frame(orjson.dumps(_hello_record(identity_of(self.ledger))))
        listener, bound, lock = _claim(self.socket_path)
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(listener, selectors.EVENT_READ, None)
                if ready is not None:
                    ready.set()
                try:
                    while not self.stop.is_set():
                        requests: list[tuple[_Connection, bytes]] = []
                        for key, _ in selector.select(WRITER_POLL_S):
                            if key.data is None:
                                _accept(listener, selector, hello)
                            else:
                                requests += _receive(key.data, selector)
                        for start in range(0, len(requests), WRITER_BATCH_MAX):
                            self._decide(requests[start : start + WRITER_BATCH_MAX], selector)
                finally:
                    for key in list(selector.get_map().values()):
                        key.fileobj.close()  # type: ignore[union-attr]
        finally:
            listener.close()
            _remove_own_socket(self.socket_path, bound)
            os.close(lock)  # only now may another writer claim the path

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


def _hello_record(identity: LedgerIdentity) -> dict[str, str]:
    return {"ledger": identity.key, "shown": identity.shown}


def socket_path_problem(socket_path: str) -> str | None:
    """Why a writer cannot serve at `socket_path`, or None: a path too long for a UNIX socket, a
    directory that is not there, anything there but a socket, a socket a live process listens on
    (a writer, most likely), or a lock file that another writer holds or that is not a plain file
    of its own. A stale socket is no problem: the writer replaces it. Checked without the lock,
    so that a caller can refuse before it opens anything; `WriterServer.serve` checks again under
    the lock."""
    return (
        _path_problem(socket_path)
        or _socket_problem(socket_path)
        or _lock_problem(lock_path_of(socket_path))
    )


def lock_path_of(socket_path: str) -> str:
    """The lock file of the writer at `socket_path`."""
    return socket_path + LOCK_SUFFIX


def _path_problem(socket_path: str) -> str | None:
    if not socket_path:
        return "the socket path is empty"
    size = len(os.fsencode(socket_path))
    if size > SOCKET_PATH_BYTES_MAX:
        return (
            f"the socket path {socket_path} is {size} bytes long; "
            f"a UNIX socket path has at most {SOCKET_PATH_BYTES_MAX}"
        )
    directory = os.path.dirname(socket_path) or "."
    if not os.path.isdir(directory):
        return f"the socket's directory {directory} does not exist (or is not a directory)"
    return None


def _socket_problem(socket_path: str) -> str | None:
    try:
        status = os.lstat(socket_path)
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"cannot look at {socket_path}: {error.strerror}"
    if not stat.S_ISSOCK(status.st_mode):
        return f"{socket_path} exists and is not a socket: the writer would not replace it"
    if _answers(socket_path):
        return f"a writer already listens at {socket_path}"
    return None


def _lock_problem(lock_path: str) -> str | None:
    """Why the lock file cannot be taken now, looked at without creating it: a shared lock tried
    and let go at once shows whether a writer holds it."""
    problem = _lock_file_problem(lock_path)
    if problem is not None:
        return problem
    try:
        descriptor = os.open(lock_path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as error:
        return _lock_open_problem(lock_path, error)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return _lock_held(lock_path)
    finally:
        os.close(descriptor)
    return None


def _lock_file_problem(lock_path: str) -> str | None:
    try:
        status = os.lstat(lock_path)
    except FileNotFoundError:
        return None
    except OSError as error:
        return f"cannot look at the lock file {lock_path}: {error.strerror}"
    return _lock_status_problem(lock_path, status)


def _lock_status_problem(lock_path: str, status: os.stat_result) -> str | None:
    if stat.S_ISLNK(status.st_mode):
        return f"the lock file {lock_path} is a symbolic link: the writer would not follow it"
    if not stat.S_ISREG(status.st_mode):
        return f"the lock file {lock_path} exists and is not a regular file"
    return None


def _lock_open_problem(lock_path: str, error: OSError) -> str:
    if error.errno == errno.ELOOP:  # O_NOFOLLOW met a symbolic link made after our look
        return f"the lock file {lock_path} is a symbolic link: the writer would not follow it"
    return f"cannot open the lock file {lock_path}: {error.strerror}"


def _lock_held(lock_path: str) -> str:
    return f"another writer holds the lock file {lock_path}: it serves or is starting there"


def take_lock(socket_path: str) -> int:
    """An open descriptor of the lock file beside `socket_path`, exclusively locked: the writer
    holds it for its whole life, and the kernel lets it go when the writer dies however it dies.
    WriterSocketError when another writer holds it or the lock path is no regular file (neither
    is opened for writing). The path must still name the file locked once it is locked: if
    someone removed or replaced it between our open and our lock, a third writer could lock the
    new file beside our lock on the old one, so we let go and try again."""
    lock_path = lock_path_of(socket_path)
    for _ in range(LOCK_ATTEMPTS_MAX):
        problem = _lock_file_problem(lock_path)  # before opening: a FIFO or device is not opened
        if problem is not None:
            raise WriterSocketError(problem)
        descriptor = _open_lock(lock_path)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            if _still_named(lock_path, descriptor):
                return descriptor
        except BlockingIOError:
            os.close(descriptor)
            raise WriterSocketError(_lock_held(lock_path)) from None
        except BaseException:
            os.close(descriptor)
            raise
        os.close(descriptor)
    raise WriterSocketError(
        f"the lock file {lock_path} was replaced {LOCK_ATTEMPTS_MAX} times while being locked"
    )


def _open_lock(lock_path: str) -> int:
    """The lock file opened (created this user's only if missing), checked to be a regular
    file."""
    try:
        descriptor = os.open(lock_path, LOCK_OPEN_FLAGS, LOCK_MODE)
    except OSError as error:
        raise WriterSocketError(_lock_open_problem(lock_path, error)) from error
    problem = _lock_status_problem(lock_path, os.fstat(descriptor))
    if problem is not None:
        os.close(descriptor)
        raise WriterSocketError(problem)
    return descriptor


def _still_named(lock_path: str, descriptor: int) -> bool:
    """Whether `lock_path` still names the file open at `descriptor`."""
    try:
        named = os.lstat(lock_path)
    except FileNotFoundError:
        return False
    opened = os.fstat(descriptor)
    return (named.st_dev, named.st_ino) == (opened.st_dev, opened.st_ino)


def _answers(socket_path: str) -> bool:
    """Whether a process accepts connections on the socket (or might: any error but refusal,
    a busy backlog or no permission included, counts as live)."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(WRITER_PROBE_TIMEOUT_S)
        try:
            probe.connect(socket_path)
        except OSError as error:
            return error.errno not in (errno.ECONNREFUSED, errno.ENOENT)
    return True


def _claim(socket_path: str) -> tuple[socket.socket, tuple[int, int], int]:
    """The lock (`take_lock`), then a listening socket at `socket_path` and the (device, inode)
    it was bound as. The path and any socket there are looked at before the lock too, so that a
    path no writer could use is refused as it was before there was a lock (no lock file made
    beside a regular file, say) and a live writer's socket is named as such."""
    problem = _path_problem(socket_path) or _socket_problem(socket_path)
    if problem is not None:
        raise WriterSocketError(problem)
    lock = take_lock(socket_path)
    try:
        listener, bound = _listen(socket_path)
    except BaseException:
        os.close(lock)
        raise
    return listener, bound, lock


def _listen(socket_path: str) -> tuple[socket.socket, tuple[int, int]]:
    """A listening socket at `socket_path` (a stale one there replaced) and the (device, inode)
    it was bound as; WriterSocketError, with nothing changed, when the path is not usable. Call
    it holding the lock (`take_lock`): the check, the unlink and the bind are then one step."""
    problem = _path_problem(socket_path) or _socket_problem(socket_path)
    if problem is not None:
        raise WriterSocketError(problem)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(socket_path)  # a stale socket (checked just now): nobody answers on it
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        previous = os.umask(SOCKET_UMASK)
        try:
            listener.bind(socket_path)
        finally:
            os.umask(previous)
        status = os.stat(socket_path)
        listener.listen(WRITER_CLIENTS_MAX)
        listener.setblocking(False)
    except OSError as error:  # e.g. a process that is no writer bound it meanwhile
        listener.close()
        raise WriterSocketError(f"cannot listen at {socket_path}: {error.strerror}") from error
    return listener, (status.st_dev, status.st_ino)


def _remove_own_socket(socket_path: str, bound: tuple[int, int]) -> None:
    """Remove the socket at `socket_path` only if it is the one this writer bound: another
    writer's, or a file put there meanwhile, stays."""
    try:
        status = os.lstat(socket_path)
    except OSError:
        return
    if stat.S_ISSOCK(status.st_mode) and (status.st_dev, status.st_ino) == bound:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(socket_path)


def _accept(listener: socket.socket, selector: selectors.BaseSelector, hello: bytes) -> None:
    try:
        sock, _ = listener.accept()
    except BlockingIOError:
        return
    if len(selector.get_map()) > WRITER_CLIENTS_MAX:
        sock.close()
        return
    sock.setblocking(True)
    sock.settimeout(WRITER_SEND_TIMEOUT_S)  # a client that stops reading stalls us this long
    try:
        sock.sendall(hello)
    except OSError:  # gone already (a starting writer's probe, for one)
        sock.close()
        return
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
    (`broken`), its stream may be cut mid-frame: the client must not be used again.

    It connects only to a writer that serves `ledger` (the identity of the ledger the client
    opened): a writer of another ledger is refused (WriterError) before any command is sent."""

    def __init__(
        self, socket_path: str, ledger: LedgerIdentity, timeout_s: float = WRITER_ANSWER_TIMEOUT_S
    ) -> None:
        self.broken = False
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(timeout_s)
        try:
            self.sock.connect(socket_path)
        except OSError as error:
            self.sock.close()
            raise WriterError(f"no writer at {socket_path}: {error}") from error
        try:
            self._check_hello(socket_path, ledger)
        except BaseException:
            self.sock.close()
            raise

    def _check_hello(self, socket_path: str, ledger: LedgerIdentity) -> None:
        try:
            (size,) = FRAME_HEADER.unpack(self._read(FRAME_HEADER.size))
            if size > WRITER_HELLO_BYTES_MAX:
                raise WriterError(f"no writer at {socket_path}: a greeting of {size} bytes")
            hello = orjson.loads(self._read(size))
        except OSError as error:
            raise WriterError(f"no writer at {socket_path}: {error}") from error
        except ValueError as error:
            raise WriterError(f"no writer at {socket_path}: unreadable greeting") from error
        if not isinstance(hello, dict) or not isinstance(hello.get("ledger"), str):
            raise WriterError(f"no writer at {socket_path}: unreadable greeting")
        if hello["ledger"] != ledger.key:
            raise WriterError(
                f"the writer at {socket_path} serves another ledger ({hello.get('shown')}), "
                f"not this one ({ledger.shown}): the command was not sent"
            )

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
