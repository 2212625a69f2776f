"""Several OS processes writing to one PostgreSQL schema at once, each with its own Ledger.

Processes start with the spawn context (no state inherited from the parent), open their ledger,
report ready, wait for one start signal and then submit single transfer commands among the same
accounts for a fixed time. The parent sums what they accepted and what failed.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.synchronize import Event
from typing import Any

from carbonex.bench.common import process_peak_rss_mb
from carbonex.bench.tally import Tally
from carbonex.bench.workload import (
    TRANSFER_QUANTITY_MAX_T,
    TRANSFER_QUANTITY_MIN_T,
    TransferSpec,
    transfer_command,
)
from carbonex.ledger import Ledger

CLIENT_START_SECONDS_MAX = 60.0
"""Time allowed for every client to import, connect and report ready."""
CLIENT_FINISH_GRACE_SECONDS = 60.0
"""Time allowed past the run for a client to finish its last command and report."""
CLIENT_SEED_BASE = 7_000
READY_POLL_SECONDS = 0.5
WRITER_START_SECONDS_MAX = 60.0
WRITER_STOP_SECONDS_MAX = 30.0
WRITER_POLL_SECONDS = 0.05


@contextmanager
def writer_process(url: str, socket_path: str) -> Iterator[None]:
    """`carbonex writer` on `url`, serving `socket_path` until the block ends."""
    command = [sys.executable, "-m", "carbonex.cli", "writer", "--db", url]
    process = subprocess.Popen([*command, "--socket", socket_path], stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + WRITER_START_SECONDS_MAX
        while not os.path.exists(socket_path):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the writer process did not start (exit {process.poll()})")
            time.sleep(WRITER_POLL_SECONDS)
        yield
    finally:
        process.terminate()
        try:
            process.wait(WRITER_STOP_SECONDS_MAX)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(slots=True)
class ClientResults:
    tally: Tally
    peak_rss_mb: float | None = None
    """The largest peak RSS among the clients (None where the platform does not say)."""


@dataclass(frozen=True, slots=True)
class ClientRun:
    url: str
    clients: int
    accounts: int
    seconds: float
    writer_socket: str | None = None
    """Submit through this writer process (`carbonex writer`) instead of each on its own."""


def _project_counted(ledger: Ledger, tally: Tally) -> None:
    """Bring the read models up to the journal's head inside the timed run (whichever client
    comes first does it, from the journal; the others find nothing left)."""
    try:
        ledger.project()
    except Exception as error:  # reported with the tally
        tally.fail(f"projecting: {type(error).__name__}: {error}", 0)


def client_main(run: ClientRun, client: int, ready: Any, go: Event, results: Any) -> None:
    """One client process: transfers among all accounts until `run.seconds` have passed."""
    rng = random.Random(CLIENT_SEED_BASE + client)
    tally = Tally()
    accounts, seconds = run.accounts, run.seconds
    with Ledger.open(run.url, writer_socket=run.writer_socket) as ledger:
        ready.put(client)
        if not go.wait(CLIENT_START_SECONDS_MAX):
            results.put((client, tally.to_record(), process_peak_rss_mb()))
            return
        started = time.perf_counter()
        while time.perf_counter() - started < seconds:
            source, target = rng.sample(range(accounts), 2)
            spec = TransferSpec(
                source, target, rng.randint(TRANSFER_QUANTITY_MIN_T, TRANSFER_QUANTITY_MAX_T)
            )
            command = transfer_command(spec, f"client{client}-{tally.commands}")
            try:
                tally.count(ledger.submit(command))
            except Exception as error:  # counted as a failed command and reported
                tally.commands += 1
                tally.fail(f"{type(error).__name__}: {error}")
        _project_counted(ledger, tally)
        tally.seconds = time.perf_counter() - started
    results.put((client, tally.to_record(), process_peak_rss_mb()))


def run_clients(run: ClientRun) -> ClientResults:
    """Start the clients, run them for `run.seconds`, and sum their tallies."""
    context = multiprocessing.get_context("spawn")
    ready, results, go = context.Queue(), context.Queue(), context.Event()
    processes = [
        context.Process(
            target=client_main,
            args=(run, client, ready, go, results),
            daemon=True,
        )
        for client in range(run.clients)
    ]
    for process in processes:
        process.start()
    try:
        if not _all_ready(ready, processes):
            _stop(processes, grace_seconds=0.0)
            return ClientResults(
                Tally(failed=run.clients, first_failure="a client failed to start")
            )
        go.set()
        return _collect(results, run)
    finally:
        _stop(processes, CLIENT_FINISH_GRACE_SECONDS)


def _stop(processes: list[Any], grace_seconds: float) -> None:
    for process in processes:
        process.join(grace_seconds)
        if process.is_alive():
            process.kill()
            process.join()


def _all_ready(ready: Any, processes: list[Any]) -> bool:
    """Wait until every client reported ready; False if one died or time ran out."""
    deadline = time.perf_counter() + CLIENT_START_SECONDS_MAX
    waiting = len(processes)
    while waiting and time.perf_counter() < deadline:
        try:
            ready.get(timeout=READY_POLL_SECONDS)
            waiting -= 1
        except queue.Empty:
            if any(process.exitcode is not None for process in processes):
                return False
    return waiting == 0


def _collect(results: Any, run: ClientRun) -> ClientResults:
    collected = ClientResults(Tally())
    timeout = run.seconds + CLIENT_FINISH_GRACE_SECONDS
    for _ in range(run.clients):
        try:
            _, record, rss_mb = results.get(timeout=timeout)
        except queue.Empty:
            collected.tally.fail("a client did not report its results in time")
            continue
        _add(collected.tally, Tally.from_record(record))
        if rss_mb is not None:
            collected.peak_rss_mb = max(rss_mb, collected.peak_rss_mb or 0.0)
    return collected


def _add(total: Tally, tally: Tally) -> None:
    total.commands += tally.commands
    total.accepted += tally.accepted
    total.business_refused += tally.business_refused
    total.failed += tally.failed
    total.seconds = max(total.seconds, tally.seconds)
    if tally.first_failure and not total.first_failure:
        total.first_failure = tally.first_failure
