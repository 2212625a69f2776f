"""The live side of `verify`: digests of the live tables and the invariants checked on them.

Runs in the verifying process; for large ledgers a second process replays the journal meanwhile
(`verify.ReplayWorker`). Row digests are SHA-256 over the compact JSON of each row in order, so
the replayed state can be compared without holding both sides in one process.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import orjson

from carbonex.ledger.history import (
    MOVE,
    SEQ,
    HistoryPostings,
    pack_moves,
    pack_seqs,
    unpack_moves,
    unpack_seqs,
)
from carbonex.store import SqlStore
from carbonex.store.sql import BLOCK_COLUMNS
from carbonex.store.sqlite import SqliteStore

DIGEST_CHUNK_ROWS = 10_000
PROBLEM_ROWS_MAX = 20

ACCOUNT_HISTORY_IN_ORDER = (
    "SELECT account_id, last_seq, seqs FROM account_history ORDER BY account_id, last_seq"
)
SERIAL_HISTORY_IN_ORDER = (
    "SELECT serial_space, level, bucket, last_seq, moves FROM serial_history "
    "ORDER BY serial_space, level, bucket, last_seq"
)

# Digested rows are in the form the replay holds them, so that it copies nothing: a block as its
# journal effect ("block", block_id, ...).
BLOCK_ROW = f"'block', {BLOCK_COLUMNS}"
BLOCKS_TO_DIGEST = f"SELECT {BLOCK_ROW} FROM blocks ORDER BY block_id"
# The first chunk of blocks as JSON, then the chunk after a given block_id.
BLOCKS_AS_JSON = (
    "SELECT COUNT(*), group_concat(row_json, ','), MAX(block_id) FROM (SELECT block_id, "
    f"json_array({BLOCK_ROW}) AS row_json FROM blocks ORDER BY block_id LIMIT ?)"
)
BLOCKS_AS_JSON_AFTER = BLOCKS_AS_JSON.replace(
    "FROM blocks ORDER BY", "FROM blocks WHERE block_id > ? ORDER BY"
)

BLOCKS_IN_SERIAL_ORDER = (
    "SELECT serial_space, first_serial, last_serial, block_id FROM blocks "
    "ORDER BY serial_space, first_serial"
)

# Each check: (invariant, SQL returning offending rows, message built from one row).
SqlCheck = tuple[str, str, str]
CONSERVATION_CHECKS: tuple[SqlCheck, ...] = (
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
)
REFERENCE_CHECKS: tuple[SqlCheck, ...] = (
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


def chunks(rows: Iterable[Any], size: int = DIGEST_CHUNK_ROWS) -> Iterator[list[Any]]:
    """Consecutive lists of up to `size` rows (built in C, not one Python call per row)."""
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


class RowDigest:
    """SHA-256 over rows in order, each row as a compact JSON array followed by a comma. The
    bytes do not depend on how the rows are grouped into chunks."""

    __slots__ = ("count", "hash")

    def __init__(self) -> None:
        self.hash = hashlib.sha256()
        self.count = 0

    def add_rows(self, rows: Sequence[Any]) -> None:
        if rows:
            # orjson encodes the chunk as one array: drop its brackets, keep the commas.
            self.hash.update(memoryview(orjson.dumps(rows))[1:-1])
            self.hash.update(b",")
            self.count += len(rows)

    def add_encoded_rows(self, rows: Sequence[bytes]) -> None:
        """Rows already encoded as compact JSON arrays without their brackets: the same bytes
        `add_rows` hashes for the rows decoded."""
        if rows:
            self.hash.update(b"[" + b"],[".join(rows) + b"]")
            self.hash.update(b",")
            self.count += len(rows)

    def add_row(self, row: Any) -> None:
        self.hash.update(orjson.dumps(row))
        self.hash.update(b",")
        self.count += 1

    def add_json(self, rows_json: str, count: int) -> None:
        """`count` rows the database already rendered as compact JSON arrays joined by commas."""
        if count:
            self.hash.update(rows_json.encode())
            self.hash.update(b",")
            self.count += count

    def hexdigest(self) -> str:
        return self.hash.hexdigest()


@dataclass(slots=True)
class LiveSummary:
    blocks: int
    block_digest: str
    account_history_digest: str
    serial_history_digest: str
    problems: list[tuple[str, str]] = field(default_factory=list)


def renders_json(store: SqlStore) -> bool:
    """SQLite's json_array writes integers, text and NULL byte for byte as orjson does, and
    saves building a Python object per column."""
    if not isinstance(store, SqliteStore):
        return False
    try:
        store.query("SELECT json_array(1)")
    except sqlite3.OperationalError:  # built without JSON functions
        return False
    return True


def digest_blocks(store: SqlStore, as_json: bool) -> RowDigest:
    """With `as_json`, SQLite renders and joins each chunk of blocks itself, walking the primary
    key a chunk at a time: Python sees one string per chunk instead of ten objects per block.
    (group_concat takes the rows in the order of a subquery with ORDER BY and LIMIT; were that
    ever to change, the digests would disagree and verify would compare row by row.)"""
    digest = RowDigest()
    if not as_json:
        for chunk in chunks(store.stream(BLOCKS_TO_DIGEST)):
            digest.add_rows(chunk)
        return digest
    count, rows_json, last_id = store.query(BLOCKS_AS_JSON, (DIGEST_CHUNK_ROWS,))[0]
    while count:
        digest.add_json(rows_json, count)
        after = (last_id, DIGEST_CHUNK_ROWS)
        count, rows_json, last_id = store.query(BLOCKS_AS_JSON_AFTER, after)[0]
    return digest


def postings_digest(joined: Mapping[Any, bytes]) -> str:
    """SHA-256 over history postings joined per key, in key order: each key as JSON, then the
    byte length of its joined packed list, then the list. The bytes do not depend on how the
    postings were split into rows, so a replay that files the whole journal at once and the
    live rows, filed projection by projection, digest alike."""
    digest = hashlib.sha256()
    for key in sorted(joined):
        packed = joined[key]
        digest.update(orjson.dumps(list(key) if isinstance(key, tuple) else key))
        digest.update(len(packed).to_bytes(8, "little"))
        digest.update(packed)
    return digest.hexdigest()


def history_digests(postings: HistoryPostings) -> tuple[str, str]:
    """The replay's side: its postings, packed as the live rows pack them."""
    return (
        postings_digest({key: pack_seqs(seqs) for key, seqs in postings.accounts.items()}),
        postings_digest({key: pack_moves(moves) for key, moves in postings.serials.items()}),
    )


@dataclass(slots=True)
class JoinedPostings:
    """Posting rows joined per key, and what is wrong with how they were filed."""

    joined: dict[Any, list[bytes]] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)

    def digest(self) -> str:
        return postings_digest({key: b"".join(rows) for key, rows in self.joined.items()})


_NO_KEY = object()
"""The key before the first row: equal to no key a row can have."""


def join_postings(rows: Iterable[Sequence[Any]], item_bytes: int, strictly: bool) -> JoinedPostings:
    """Rows (key..., last_seq, packed), in key order and each key's rows in last_seq order. Each
    row must hold whole items, end with the entry its key names, and start after the row before
    it ended (strictly after for accounts, which list an entry once; serial buckets may list
    several moves of one entry). What the items say is the replay's to check."""
    result = JoinedPostings()
    problems = result.problems
    first_of = SEQ.unpack_from
    # A key's rows come together (the query orders by key): the row before is the only one to
    # compare with, and a key is hashed once, not once per row.
    key: Any = _NO_KEY
    filed: list[bytes] = []
    after: int | None = None
    for row in rows:
        row_key = row[0] if len(row) == 3 else tuple(row[:-2])
        last_seq, packed = row[-2], bytes(row[-1])
        if not packed or len(packed) % item_bytes:
            _add_problem(problems, f"history of {row_key}: a row is not a packed list")
            continue
        if row_key != key:
            key, after = row_key, None
            if key in result.joined:
                _add_problem(problems, f"history of {key}: its rows are not together")
            filed = result.joined.setdefault(key, [])
        first_filed = first_of(packed, 0)[0]
        last_filed = first_of(packed, len(packed) - item_bytes)[0]
        if last_filed != last_seq or (
            after is not None and (first_filed <= after if strictly else first_filed < after)
        ):
            _add_problem(problems, f"history of {key} is out of order")
        after = last_filed
        filed.append(packed)
    return result


def _add_problem(problems: list[tuple[str, str]], message: str) -> None:
    if len(problems) < PROBLEM_ROWS_MAX:
        problems.append(("history", message))


def live_history_digests(store: SqlStore) -> tuple[str, str, list[tuple[str, str]]]:
    accounts = join_postings(store.stream(ACCOUNT_HISTORY_IN_ORDER), SEQ.size, strictly=True)
    serials = join_postings(store.stream(SERIAL_HISTORY_IN_ORDER), MOVE.size, strictly=False)
    return accounts.digest(), serials.digest(), accounts.problems + serials.problems


def live_history(store: SqlStore) -> tuple[HistoryPostings, list[tuple[str, str]]]:
    """The posting rows unpacked per account and per bucket (for naming what differs), and what
    is wrong with their filing."""
    postings = HistoryPostings()
    accounts = join_postings(store.stream(ACCOUNT_HISTORY_IN_ORDER), SEQ.size, strictly=True)
    serials = join_postings(store.stream(SERIAL_HISTORY_IN_ORDER), MOVE.size, strictly=False)
    for account_id, chunks in accounts.joined.items():
        postings.accounts[account_id] = list(unpack_seqs(b"".join(chunks)))
    for key, chunks in serials.joined.items():
        moves = unpack_moves(b"".join(chunks))
        postings.serials[key] = [value for move in moves for value in move]
    return postings, accounts.problems + serials.problems


def overlapping_blocks(store: SqlStore) -> list[tuple[str, str]]:
    """Invariant 2: blocks of a serial space never overlap. One ordered pass, each block against
    the one before it (any overlap makes some neighbouring pair overlap); cheaper than a window
    query over every block."""
    problems: list[tuple[str, str]] = []
    previous_space, previous_last, previous_id = None, 0, None
    for chunk in chunks(store.stream(BLOCKS_IN_SERIAL_ORDER)):
        for space, first, last, block_id in chunk:
            if first <= previous_last and space == previous_space:
                message = f"blocks {previous_id} and {block_id} overlap in {space}"
                problems.append(("no_overlap", f"{message} at serial {first}"))
                if len(problems) >= PROBLEM_ROWS_MAX:
                    return problems
            previous_space, previous_last, previous_id = space, last, block_id
    return problems


def summarize_live(store: SqlStore) -> LiveSummary:
    """Digest the live blocks and history and check the invariants on them (in the caller's
    read transaction)."""
    blocks = digest_blocks(store, renders_json(store))
    account_digest, serial_digest, history_problems = live_history_digests(store)
    summary = LiveSummary(
        blocks=blocks.count,
        block_digest=blocks.hexdigest(),
        account_history_digest=account_digest,
        serial_history_digest=serial_digest,
        problems=history_problems,
    )
    summary.problems += run_checks(store, CONSERVATION_CHECKS)
    summary.problems += overlapping_blocks(store)
    summary.problems += run_checks(store, REFERENCE_CHECKS)
    return summary


def run_checks(store: SqlStore, checks: Iterable[SqlCheck]) -> list[tuple[str, str]]:
    return [
        (invariant, message.format(*row))
        for invariant, sql, message in checks
        for row in store.query(sql, (PROBLEM_ROWS_MAX,))
    ]
