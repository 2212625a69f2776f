"""`carbonex bench crash`: kill a writer with SIGKILL at random moments and check what survived.

Each iteration starts `carbonex.bench.crash_writer` on the database, waits until it is ready,
sleeps a random delay and kills it with SIGKILL. Then it opens the database and checks:

* `Ledger.verify()` is ok (chain, replay, invariants);
* every command the writer acknowledged (printed after `submit_batch` returned accepted) is in
  the journal: none lost;
* every batch the writer began is in the journal whole or not at all: none partial.

A fresh database (SQLite file, or PostgreSQL schema with `postgres_url`) is used every
`ITERATIONS_PER_DATABASE` iterations, so verification time does not grow without bound.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carbonex.bench.common import Deadline, progress_bar
from carbonex.bench.postgres import fresh_schema
from carbonex.bench.workload import (
    ACCOUNT_KIND,
    attributes_for,
    crash_account_id,
    submit_all_accepted,
)
from carbonex.ledger import Command, Issue, Ledger, OpenAccount

ITERATIONS_DEFAULT = 200
ITERATIONS_PER_DATABASE = 25
CRASH_ACCOUNTS = 8
CRASH_ISSUANCE_T = 10**9
WRITER_READY_SECONDS_MAX = 60.0
KILL_DELAY_MAX_SECONDS = 1.5
READY_POLL_SECONDS = 0.01
SOAK_SECONDS_MAX = 3_600.0
"""Wall-clock cap of the whole soak: it stops early, and reports the iterations it ran."""
PROBLEM_TEXT_LENGTH_MAX = 300
RANDOM_SEED = 20_260_301


@dataclass(slots=True)
class WriterLog:
    """What the killed writer printed: the batches it began and those it saw accepted."""

    ready: bool = False
    intents: dict[int, list[str]] = field(default_factory=dict)
    acks: dict[int, list[str]] = field(default_factory=dict)
    refused: set[int] = field(default_factory=set)
    writer_gone: bool = False
    resubmitted: int = 0
    resubmitted_duplicates: int = 0

    @classmethod
    def parse(cls, text: bytes) -> WriterLog:
        log = cls()
        for line in text.split(b"\n")[:-1]:  # the last piece has no newline: not fully written
            log.add(json.loads(line))
        return log

    def add(self, record: dict[str, Any]) -> None:
        if "ready" in record:
            self.ready = True
        elif "intent" in record:
            self.intents[record["intent"]] = record["ids"]
        elif "ack" in record:
            self.acks[record["ack"]] = record["ids"]
        elif "refused" in record:
            self.refused.add(record["refused"])
        elif "writer_gone" in record:
            self.writer_gone = True
        elif "resubmitted" in record:
            self.resubmitted += 1
            self.resubmitted_duplicates += bool(record["duplicate"])

    def undecided(self) -> list[int]:
        """Batches begun whose outcome the process never learnt."""
        return [n for n in self.intents if n not in self.acks and n not in self.refused]


@dataclass(slots=True)
class Totals:
    iterations: int = 0
    acknowledged_commands: int = 0
    acknowledged_batches: int = 0
    begun_batches: int = 0
    lost_commands: int = 0
    partial_batches: int = 0
    verify_failures: int = 0
    writer_failures: int = 0
    refused_batches: int = 0
    resubmitted_commands: int = 0
    resubmitted_already_committed: int = 0
    first_problem: str = ""

    def problem(self, text: str) -> None:
        if not self.first_problem:
            self.first_problem = text[:PROBLEM_TEXT_LENGTH_MAX]

    def count(self, log: WriterLog) -> None:
        """Add what one process's log says it began, saw acknowledged and saw refused."""
        self.acknowledged_batches += len(log.acks)
        self.acknowledged_commands += sum(len(ids) for ids in log.acks.values())
        self.begun_batches += len(log.intents)
        self.refused_batches += len(log.refused)


def setup_accounts(url: str) -> None:
    commands: list[Command] = [
        OpenAccount(f"crash-open-{i}", crash_account_id(i), ACCOUNT_KIND, f"Crash {i}")
        for i in range(CRASH_ACCOUNTS)
    ]
    commands += [
        Issue(f"crash-issue-{i}", crash_account_id(i), CRASH_ISSUANCE_T, attributes_for(i))
        for i in range(CRASH_ACCOUNTS)
    ]
    with Ledger.open(url) as ledger:
        submit_all_accepted(ledger, commands)


@contextmanager
def crash_database(directory: Path, number: int, postgres_url: str | None) -> Iterator[str]:
    if postgres_url:
        with fresh_schema(postgres_url) as url:
            yield url
    else:
        yield str(directory / f"crash-{number}.db")


def wait_ready(process: subprocess.Popen[bytes], log_path: Path) -> bool:
    deadline = Deadline(WRITER_READY_SECONDS_MAX)
    while not deadline.expired:
        if b'"ready"' in log_path.read_bytes():
            return True
        if process.poll() is not None:
            return False
        time.sleep(READY_POLL_SECONDS)
    return False


def crash_writer_command(url: str, prefix: str, seed: int) -> list[str]:
    """The command line of a `carbonex.bench.crash_writer` process."""
    return [
        sys.executable,
        "-m",
        "carbonex.bench.crash_writer",
        url,
        "--prefix",
        prefix,
        "--seed",
        str(seed),
        "--accounts",
        str(CRASH_ACCOUNTS),
    ]


def _run_and_kill(
    url: str, prefix: str, seed: int, directory: Path, rng: random.Random
) -> tuple[WriterLog, int | None, str]:
    """Start a writer, kill it at a random moment; its log, exit code and stderr."""
    log_path, error_path = directory / f"{prefix}.out", directory / f"{prefix}.err"
    command = crash_writer_command(url, prefix, seed)
    with open(log_path, "wb") as out, open(error_path, "wb") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err)
        try:
            if wait_ready(process, log_path):
                time.sleep(rng.uniform(0.0, KILL_DELAY_MAX_SECONDS))
        finally:
            process.kill()  # SIGKILL on POSIX
            process.wait()
    return (
        WriterLog.parse(log_path.read_bytes()),
        process.returncode,
        error_path.read_text(errors="replace"),
    )


def check_logs(url: str, logs: list[WriterLog], totals: Totals) -> None:
    """Verify the ledger; count lost acknowledged commands and partially applied batches."""
    with Ledger.open(url) as ledger:
        report = ledger.verify()
        if not report.ok:
            totals.verify_failures += 1
            totals.problem(f"verify: {report.problems[0].message}")
        for log in logs:
            _check_log(ledger, log, totals)


def _check_log(ledger: Ledger, log: WriterLog, totals: Totals) -> None:
    for number, ids in log.intents.items():
        present = sum(
            1
            for command_id in ids
            if ledger.store.query_one("SELECT 1 FROM journal WHERE command_id = ?", (command_id,))
            is not None
        )
        if 0 < present < len(ids):
            totals.partial_batches += 1
            totals.problem(f"batch {number}: {present} of {len(ids)} commands present")
        if number in log.acks and present < len(ids):
            totals.lost_commands += len(ids) - present
            totals.problem(
                f"batch {number} was acknowledged but {len(ids) - present} commands are missing"
            )


def _iteration(url: str, number: int, directory: Path, rng: random.Random, totals: Totals) -> None:
    prefix = f"it{number}"
    log, returncode, stderr = _run_and_kill(url, prefix, number, directory, rng)
    if not log.ready or returncode not in (-9, None):
        totals.writer_failures += 1
        totals.problem(f"writer {prefix} exited with {returncode}: {stderr[-200:]}")
    check_logs(url, [log], totals)
    totals.iterations += 1
    totals.count(log)


Iteration = Callable[[str, int, Path, random.Random, Totals], None]
"""One kill-and-check round: (database url, iteration number, scratch directory, rng, totals)."""


def soak(
    iteration: Iteration, wanted: int, postgres_url: str | None, label: str
) -> tuple[Totals, float]:
    """Run `wanted` iterations, on a fresh database every ITERATIONS_PER_DATABASE, until done or
    SOAK_SECONDS_MAX passes; the totals and the seconds taken."""
    rng = random.Random(RANDOM_SEED)
    totals = Totals()
    deadline = Deadline(SOAK_SECONDS_MAX)
    with (
        tempfile.TemporaryDirectory(prefix="carbonex-crash-") as name,
        progress_bar(label, wanted) as bar,
    ):
        directory = Path(name)
        for start in range(0, wanted, ITERATIONS_PER_DATABASE):
            if deadline.expired:
                break
            with crash_database(directory, start, postgres_url) as url:
                setup_accounts(url)
                for number in range(start, min(start + ITERATIONS_PER_DATABASE, wanted)):
                    iteration(url, number, directory, rng, totals)
                    bar.advance()
                    if deadline.expired:
                        break
    return totals, time.perf_counter() - deadline.started


def iterations_wanted(scale: float, iterations: int | None) -> int:
    return iterations if iterations is not None else max(1, round(ITERATIONS_DEFAULT * scale))


def run_crash(
    *, scale: float = 1.0, iterations: int | None = None, postgres_url: str | None = None
) -> dict[str, Any]:
    """The crash soak; `iterations` defaults to ITERATIONS_DEFAULT scaled by `scale`."""
    wanted = iterations_wanted(scale, iterations)
    totals, seconds = soak(_iteration, wanted, postgres_url, "crash iterations")
    return results(totals, wanted, postgres_url, seconds)


def results(
    totals: Totals, wanted: int, postgres_url: str | None, seconds: float
) -> dict[str, Any]:
    return {
        "database": "postgresql" if postgres_url else "sqlite",
        "iterations": totals.iterations,
        "iterations_requested": wanted,
        "acknowledged_commands": totals.acknowledged_commands,
        "acknowledged_batches": totals.acknowledged_batches,
        "begun_batches": totals.begun_batches,
        "lost_commands": totals.lost_commands,
        "partial_batches": totals.partial_batches,
        "verify_failures": totals.verify_failures,
        "writer_failures": totals.writer_failures,
        "refused_batches": totals.refused_batches,
        "first_problem": totals.first_problem,
        "seconds": round(seconds, 3),
    }
