"""The live side of `verify`: digests of the live tables and the invariants checked in SQL.

Run in the verifying process, or, for large ledgers, in a second process (its own connection and
read transaction) while the first replays the journal: the two halves take about as long, and the
machine has more than one core. Row digests are SHA-256 over the canonical JSON of consecutive
chunks of rows, so the replayed state can be compared without holding both sides in memory.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from carbonex.store import SqlStore, open_store

DIGEST_CHUNK_ROWS = 10_000
PROBLEM_ROWS_MAX = 20
WORKER_SECONDS_MAX = 3_600

BLOCKS_BY_ID = (
    "SELECT block_id, issuance_id, serial_space, first_serial, last_serial, account_id, state, "
    "attributes_id, hold_id FROM blocks ORDER BY block_id"
)
MOVEMENTS_IN_ORDER = (
    "SELECT seq, position, action, serial_space, first_serial, last_serial, from_account, "
    "to_account FROM movements ORDER BY seq, position"
)

# Each check: (invariant, SQL returning offending rows, message built from one row).
SQL_CHECKS: tuple[tuple[str, str, str], ...] = (
    (
        "conservation",
        "SELECT b.block_id, b.issuance_id FROM blocks b LEFT JOIN issuances i "
        "ON i.issuance_id = b.issuance_id WHERE i.issuance_id IS NULL "
        "OR b.first_serial > b.last_serial OR b.first_serial < i.first_serial "
        "OR b.last_serial > i.last_serial OR b.serial_space <> i.serial_space LIMIT ?",
        "block {0} lies outside issuance {1}, or its range is empty",
    ),
    (
        "conservation",
        "SELECT i.issuance_id, i.last_serial - i.first_serial + 1, COALESCE(t.covered, 0) "
        "FROM issuances i LEFT JOIN (SELECT issuance_id, "
        "SUM(last_serial - first_serial + 1) AS covered FROM blocks GROUP BY issuance_id) t "
        "ON t.issuance_id = i.issuance_id "
        "WHERE COALESCE(t.covered, 0) <> i.last_serial - i.first_serial + 1 LIMIT ?",
        "issuance {0} issued {1} serials but its blocks cover {2}",
    ),
    (
        "no_overlap",
        "SELECT previous_block_id, block_id, serial_space, first_serial FROM ("
        "SELECT block_id, serial_space, first_serial, "
        "LAG(block_id) OVER (PARTITION BY serial_space ORDER BY first_serial) "
        "AS previous_block_id, "
        "LAG(last_serial) OVER (PARTITION BY serial_space ORDER BY first_serial) "
        "AS previous_last FROM blocks) ordered_blocks "
        "WHERE previous_last >= first_serial LIMIT ?",
        "blocks {0} and {1} overlap in {2} at serial {3}",
    ),
    (
        "references",
        "SELECT b.block_id, b.account_id FROM blocks b LEFT JOIN accounts a "
        "ON a.account_id = b.account_id WHERE a.account_id IS NULL LIMIT ?",
        "block {0} is in unknown account {1}",
    ),
    (
        "references",
        "SELECT b.block_id, b.attributes_id FROM blocks b LEFT JOIN unit_attributes a "
        "ON a.attributes_id = b.attributes_id WHERE a.attributes_id IS NULL LIMIT ?",
        "block {0} has unknown attributes {1}",
    ),
)


class RowDigest:
    """SHA-256 over rows in order, fed to the hash a chunk of canonical JSON at a time."""

    __slots__ = ("chunk", "count", "hash")

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.chunk: list[Any] = []
        self.count = 0

    def add(self, row: Any) -> None:
        self.chunk.append(row)
        if len(self.chunk) == DIGEST_CHUNK_ROWS:
            self._flush()

    def add_all(self, rows: Iterable[Any]) -> RowDigest:
        for row in rows:
            self.add(row)
        return self

    def _flush(self) -> None:
        self.hash.update(orjson.dumps(self.chunk))
        self.count += len(self.chunk)
        self.chunk = []

    def hexdigest(self) -> str:
        if self.chunk:
            self._flush()
        return self.hash.hexdigest()


@dataclass(slots=True)
class LiveSummary:
    head_seq: int
    blocks: int
    block_digest: str
    movements: int
    movement_digest: str
    problems: list[tuple[str, str]] = field(default_factory=list)


def summarize_live(store: SqlStore) -> LiveSummary:
    """Digest the live blocks and movements and run the SQL invariant checks (in the caller's
    read transaction)."""
    blocks = RowDigest().add_all(store.stream(BLOCKS_BY_ID))
    movements = RowDigest().add_all(store.stream(MOVEMENTS_IN_ORDER))
    summary = LiveSummary(
        head_seq=store.load_head().seq,
        blocks=0,
        block_digest=blocks.hexdigest(),
        movements=0,
        movement_digest=movements.hexdigest(),
    )
    summary.blocks, summary.movements = blocks.count, movements.count
    for invariant, sql, message in SQL_CHECKS:
        for row in store.query(sql, (PROBLEM_ROWS_MAX,)):
            summary.problems.append((invariant, message.format(*row)))
    return summary


def summarize_live_at(database: str) -> LiveSummary:
    """The worker's entry point: its own connection and read transaction."""
    store = open_store(database, migrate=False)
    try:
        store.begin_read()
        return summarize_live(store)
    finally:
        store.rollback()
        store.close()


class LiveSummaryWorker:
    """`summarize_live_at` in a child interpreter (`python -m carbonex.ledger.live_worker`): no
    fork of a process that may hold connections or threads, and no re-import of the caller's
    main module. The database URL goes through stdin, never the process list."""

    def __init__(self, database: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "carbonex.ledger.live_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        if self.process.stdin is None:
            raise RuntimeError("the worker's stdin was not opened")
        self.process.stdin.write(database.encode())
        self.process.stdin.close()

    def result(self) -> LiveSummary:
        if self.process.stdout is None:
            raise RuntimeError("the worker's stdout was not opened")
        output = self.process.stdout.read()
        self.process.wait(timeout=WORKER_SECONDS_MAX)
        if self.process.returncode != 0:
            raise RuntimeError(f"the verify worker exited with {self.process.returncode}")
        record = orjson.loads(output)
        record["problems"] = [tuple(problem) for problem in record["problems"]]
        return LiveSummary(**record)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
