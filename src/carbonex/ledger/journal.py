"""The journal: one entry per accepted command, hash-chained over a canonical encoding.

Canonical encoding: UTF-8 JSON with keys sorted and no insignificant white space (orjson with
OPT_SORT_KEYS). An entry's hash is SHA-256 over the previous entry's hash (64 lowercase hex
characters), a newline, and the entry's payload bytes; the first entry's previous hash is 64 zeros.
The payload is stored as written, so verifying the chain never re-encodes anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import orjson

GENESIS_HASH = "0" * 64
_SORTED = orjson.OPT_SORT_KEYS


def canonical(value: Any) -> bytes:
    return orjson.dumps(value, option=_SORTED)


def content_hash(record: dict[str, Any]) -> tuple[bytes, str]:
    """The canonical bytes of a command's content and their SHA-256 (hex)."""
    encoded = orjson.dumps(record, option=_SORTED)
    return encoded, hashlib.sha256(encoded).hexdigest()


def chain_hash(previous_hash: str, payload: bytes) -> str:
    return hashlib.sha256(previous_hash.encode() + b"\n" + payload).hexdigest()


@dataclass(frozen=True, slots=True)
class JournalRow:
    seq: int
    command_id: str
    command_kind: str
    content_hash: str
    payload: bytes
    previous_hash: str
    entry_hash: str
    recorded_at: str


def encode_payload(
    seq: int, command_content: bytes, effects: list[tuple[Any, ...]], recorded_at: str
) -> bytes:
    """The entry payload; the command's canonical bytes are embedded without re-encoding."""
    return orjson.dumps(
        {
            "command": orjson.Fragment(command_content),
            "effects": effects,
            "recorded_at": recorded_at,
            "seq": seq,
        },
        option=_SORTED,
    )


def decode_payload(payload: bytes) -> dict[str, Any]:
    decoded: dict[str, Any] = orjson.loads(payload)
    return decoded


@dataclass(frozen=True, slots=True)
class ChainBreak:
    seq: int
    reason: str


def verify_chain(rows: Iterable[tuple[int, bytes, str, str]]) -> tuple[int, ChainBreak | None]:
    """Check (seq, payload, previous_hash, entry_hash) rows in seq order.

    Returns the number of entries checked and the first break, if any: a gap in the sequence,
    a previous hash that is not the prior entry's hash, or an entry hash that does not match.
    """
    expected_previous = GENESIS_HASH
    expected_seq = 1
    count = 0
    sha256 = hashlib.sha256
    for seq, payload, previous_hash, entry_hash in rows:
        if seq != expected_seq:
            return count, ChainBreak(seq, f"journal sequence jumps from {expected_seq - 1} to {seq}")
        if previous_hash != expected_previous:
            return count, ChainBreak(seq, f"entry {seq}: previous hash does not match entry "
                                          f"{seq - 1}'s hash")
        if sha256(previous_hash.encode() + b"\n" + bytes(payload)).hexdigest() != entry_hash:
            return count, ChainBreak(seq, f"entry {seq}: hash does not match its content")
        expected_previous = entry_hash
        expected_seq += 1
        count += 1
    return count, None
