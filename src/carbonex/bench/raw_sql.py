"""The reference: the same transfers as a plain guarded-UPDATE loop on Python's sqlite3, in the
store's SQLite mode (WAL, synchronous NORMAL), one commit per batch. It checks nothing but the
balance, journals nothing and keeps no serials: an upper bound for any ledger on SQLite."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from pathlib import Path

from carbonex.bench.common import Bar, Deadline
from carbonex.bench.workload import ISSUANCE_PER_ACCOUNT_T, TransferSpec, account_id

DEBIT = "UPDATE balances SET quantity_t = quantity_t - ? WHERE account_id = ? AND quantity_t >= ?"
CREDIT = "UPDATE balances SET quantity_t = quantity_t + ? WHERE account_id = ?"


def _open(path: Path, accounts: int) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    connection.execute(
        "CREATE TABLE balances (account_id TEXT PRIMARY KEY, quantity_t INTEGER NOT NULL)"
    )
    connection.executemany(
        "INSERT INTO balances VALUES (?, ?)",
        [(account_id(i), ISSUANCE_PER_ACCOUNT_T) for i in range(accounts)],
    )
    return connection


RawTransfer = tuple[str, str, int]


def _transfer_batch(connection: sqlite3.Connection, batch: Sequence[RawTransfer]) -> int:
    moved = 0
    execute = connection.execute
    execute("BEGIN IMMEDIATE")
    for source, target, quantity_t in batch:
        if execute(DEBIT, (quantity_t, source, quantity_t)).rowcount == 1:
            execute(CREDIT, (quantity_t, target))
            moved += 1
    execute("COMMIT")
    return moved


def run_raw_transfers(
    path: Path,
    accounts: int,
    specs: Sequence[TransferSpec],
    per_commit: int,
    deadline: Deadline,
    bar: Bar,
) -> tuple[int, float]:
    """Run the transfers; the number done and the seconds they took (set-up excluded)."""
    connection = _open(path, accounts)
    transfers = [(account_id(s.source), account_id(s.target), s.quantity_t) for s in specs]
    done = 0
    started = time.perf_counter()
    try:
        for start in range(0, len(transfers), per_commit):
            batch = transfers[start : start + per_commit]
            _transfer_batch(connection, batch)
            done += len(batch)
            bar.advance(len(batch))
            if deadline.expired:
                break
        return done, time.perf_counter() - started
    finally:
        connection.close()
