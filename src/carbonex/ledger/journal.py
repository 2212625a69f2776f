"""The journal: one entry per accepted command, hash-chained over a canonical encoding.

Canonical encoding: UTF-8 JSON with keys sorted and no insignificant white space (orjson with
OPT_SORT_KEYS). An entry's hash is SHA-256 over the previous entry's hash (64 lowercase hex
characters), a newline, and the entry's payload bytes; the first entry's previous hash is 64 zeros.
The payload is stored as written, so verifying the chain never re-encodes anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, NamedTuple

import orjson

GENESIS_HASH = "0" * 64
_SORTED = orjson.OPT_SORT_KEYS


def canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=_SORTED)


def exact_size(encoded: bytes) -> bytes:
    """`encoded` in a bytes object of its own length, for encodings kept in numbers (journal
    payloads until they are written, attribute records in verify). orjson's output keeps
    the whole buffer it was written into: 4 KiB at least, 8 KiB past 1 KiB, whatever its length
    (measured with orjson 3.10 to 3.13); a 100,000-row import peaked at 1,229 MB with the
    payloads as orjson made them and at 610 MB with copies (docs/performance.md)."""
    return memoryview(encoded).tobytes()


def chain_hash(previous_hash: str, payload: bytes) -> str:
    return hashlib.sha256(previous_hash.encode() + b"\n" + payload).hexdigest()


class JournalRow(NamedTuple):
    seq: int
    command_id: str
    command_kind: str
    payload: bytes
    previous_hash: str
    entry_hash: str
    recorded_at: str


def encode_payload(
    seq: int,
    command_content: bytes,
    effects: list[tuple[Any, ...]],
    recorded_at: str,
    catalog_digest: str | None,
) -> bytes:
    """The entry payload; the command's canonical bytes are embedded without re-encoding.
    `catalog_digest`: the catalog the command was decided under (None only when deciding again
    an entry recorded before entries named it)."""
    entry = {
        "command": orjson.Fragment(command_content),
        "effects": effects,
        "recorded_at": recorded_at,
        "seq": seq,
    }
    if catalog_digest is not None:
        entry["catalog"] = catalog_digest
    return exact_size(orjson.dumps(entry, option=_SORTED))


def decode_payload(payload: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = orjson.loads(payload)
    return decoded


class ChainChecker:
    """Checks journal rows one at a time, in seq order: no gap in the sequence, each previous
    hash equal to the prior entry's hash, each entry hash equal to the hash of its content."""

    __slots__ = ("expected_previous", "expected_seq")

    def __init__(self) -> None:
        self.expected_previous = GENESIS_HASH
        self.expected_seq = 1

    def check(self, seq: int, payload: bytes, previous_hash: str, entry_hash: str) -> str | None:
        problem = None
        if seq != self.expected_seq:
            problem = f"journal sequence jumps from {self.expected_seq - 1} to {seq}"
        elif previous_hash != self.expected_previous:
            problem = f"entry {seq}: previous hash is not entry {seq - 1}'s hash"
        elif chain_hash(previous_hash, payload) != entry_hash:
            problem = f"entry {seq}: hash does not match its content (altered)"
        self.expected_previous, self.expected_seq = entry_hash, seq + 1
        return problem


def verify_chain(rows: Iterable[tuple[int, bytes, str, str]]) -> tuple[int, str | None]:
    """Check (seq, payload, previous_hash, entry_hash) rows; the count and the first break."""
    # The common case inline (this loop bounds `carbonex verify` on long journals); the checker
    # names the problem once a link fails.
    sha256 = hashlib.sha256
    expected_previous, expected_seq = GENESIS_HASH, 1
    count = 0
    for seq, payload, previous_hash, entry_hash in rows:
        if (
            seq != expected_seq
            or previous_hash != expected_previous
            or sha256(previous_hash.encode() + b"\n" + payload).hexdigest() != entry_hash
        ):
            checker = ChainChecker()
            checker.expected_previous, checker.expected_seq = expected_previous, expected_seq
            return count, checker.check(seq, bytes(payload), previous_hash, entry_hash)
        expected_previous, expected_seq = entry_hash, seq + 1
        count += 1
    return count, None
