"""`carbonex bench writer-crash`: kill a `carbonex writer` process with SIGKILL while several
clients submit single commands through it, and check what survived.

Each iteration starts the writer on the database, then WRITER_CLIENTS client processes
(`carbonex.bench.crash_writer --writer-socket`), sleeps a random delay and kills the writer.
Each client notices the writer is gone (its call raises `WriterError`) and submits its command in
flight again, directly. Then the checks of `carbonex bench crash`, per client:

* `Ledger.verify()` is ok (chain, replay, invariants);
* every command a client saw accepted is in the journal: none lost, whether the writer answered
  it or the direct resubmission did;
* every client learnt the fate of every command it began (none left undecided), and each
  resubmission of a command the writer had already committed came back as that original
  outcome, applied once.
"""

from __future__ import annotations

import random
import socket
import subprocess
import sys
import time
from contextlib import ExitStack, suppress
from pathlib import Path
from typing import Any

from carbonex.bench.common import Deadline
from carbonex.bench.crash import (
    KILL_DELAY_MAX_SECONDS,
    READY_POLL_SECONDS,
    WRITER_READY_SECONDS_MAX,
    Totals,
    WriterLog,
    check_logs,
    crash_writer_command,
    iterations_wanted,
    results,
    soak,
    wait_ready,
)

WRITER_CLIENTS = 3
CLIENT_EXIT_SECONDS_MAX = 60.0
"""How long a client may take to notice the writer is gone and resubmit; longer is a failure."""


def _writer_listening(process: subprocess.Popen[bytes], socket_path: Path) -> bool:
    """Wait until the writer accepts connections (or has died)."""
    deadline = Deadline(WRITER_READY_SECONDS_MAX)
    while not deadline.expired and process.poll() is None:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe, suppress(OSError):
            probe.connect(str(socket_path))
            return True
        time.sleep(READY_POLL_SECONDS)
    return False


def _run_and_kill_writer(
    url: str, number: int, directory: Path, rng: random.Random, totals: Totals
) -> list[WriterLog]:
    """Start the writer and its clients, kill the writer at a random moment, let the clients
    finish; their logs. A writer or client that misbehaves counts as a writer failure."""
    socket_path = directory / f"w{number}.sock"
    writer_command = [sys.executable, "-m", "carbonex.cli", "writer", "--db", url]
    with ExitStack() as files:
        writer_err = files.enter_context(open(directory / f"w{number}.err", "wb"))
        writer = subprocess.Popen(
            [*writer_command, "--socket", str(socket_path)],
            stdout=subprocess.DEVNULL,
            stderr=writer_err,
        )
        clients: list[tuple[subprocess.Popen[bytes], Path]] = []
        try:
            if not _writer_listening(writer, socket_path):
                totals.writer_failures += 1
                totals.problem(f"writer {number} never listened")
                return []
            for client in range(WRITER_CLIENTS):
                log_path = directory / f"w{number}-c{client}.out"
                out = files.enter_context(open(log_path, "wb"))
                err = files.enter_context(open(log_path.with_suffix(".err"), "wb"))
                seed = number * WRITER_CLIENTS + client
                command = crash_writer_command(url, f"w{number}c{client}", seed)
                command += ["--writer-socket", str(socket_path)]
                clients.append((subprocess.Popen(command, stdout=out, stderr=err), log_path))
            if all(wait_ready(process, log_path) for process, log_path in clients):
                time.sleep(rng.uniform(0.0, KILL_DELAY_MAX_SECONDS))
        finally:
            writer.kill()  # SIGKILL on POSIX
            writer.wait()
        return [_finished_log(process, log_path, totals) for process, log_path in clients]


def _finished_log(process: subprocess.Popen[bytes], log_path: Path, totals: Totals) -> WriterLog:
    try:
        returncode = process.wait(timeout=CLIENT_EXIT_SECONDS_MAX)
    except subprocess.TimeoutExpired:
        process.kill()
        returncode = process.wait()
    log = WriterLog.parse(log_path.read_bytes())
    undecided = log.undecided()
    if returncode != 0 or not log.writer_gone or undecided:
        stderr = log_path.with_suffix(".err").read_text(errors="replace")
        totals.writer_failures += 1
        totals.problem(
            f"client {log_path.name} exited with {returncode}, noticed the writer gone: "
            f"{log.writer_gone}, undecided batches: {undecided}: {stderr[-200:]}"
        )
    return log


def _iteration(url: str, number: int, directory: Path, rng: random.Random, totals: Totals) -> None:
    logs = _run_and_kill_writer(url, number, directory, rng, totals)
    check_logs(url, logs, totals)
    totals.iterations += 1
    for log in logs:
        totals.count(log)
        totals.resubmitted_commands += log.resubmitted
        totals.resubmitted_already_committed += log.resubmitted_duplicates


def run_writer_crash(
    *, scale: float = 1.0, iterations: int | None = None, postgres_url: str | None = None
) -> dict[str, Any]:
    """The writer-crash soak; `iterations` defaults to the crash soak's."""
    wanted = iterations_wanted(scale, iterations)
    totals, seconds = soak(_iteration, wanted, postgres_url, "writer-crash iterations")
    return results(totals, wanted, postgres_url, seconds) | {
        "clients_per_iteration": WRITER_CLIENTS,
        "resubmitted_commands": totals.resubmitted_commands,
        "resubmitted_already_committed": totals.resubmitted_already_committed,
    }
