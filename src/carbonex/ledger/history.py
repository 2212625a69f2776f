"""The history indexes: which journal entries moved units of an account, and which moved a serial.

Statements and provenance are answered from the journal's own entries (their "move" effects);
these indexes only say which entries to read. They are posting lists, as a search engine keeps
them: one row per account (or serial bucket) per projection, holding the sequence numbers of
every entry of that projection that touched it, packed as little-endian 64-bit integers. A bulk
projection of thousands of entries writes one row per account it touched, instead of one index
row per movement: random B-tree inserts were most of what a transfer cost on SQLite.

Serial buckets: a move of serials [first, last] is filed under the smallest aligned power-of-two
bucket holding the whole range, no smaller than 2**SERIAL_BUCKET_BITS_MIN serials: level k, bucket
first >> k, where k = max(SERIAL_BUCKET_BITS_MIN, bit length of first XOR last). A serial s can
only be in moves filed under (k, s >> k) for some level k, so provenance reads one bucket per
level. A 10^9-unit move is one posting, at a high level; a one-unit move one posting at the lowest.

Pure: standard library only.
"""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

SERIAL_BUCKET_BITS_MIN = 20
"""The smallest serial bucket holds 2**20 (about a million) serials."""
SERIAL_BUCKET_BITS_MAX = 63
"""Serials stay below 2**62 (`limits.SERIAL_MAX`): levels above 63 never occur."""
SEQ = struct.Struct("<q")
MOVE = struct.Struct("<qqq")
"""A move in a serial posting: (seq, first_serial, last_serial)."""

AccountKey = str
SerialKey = tuple[str, int, int]
"""(serial_space, level, bucket)."""


def serial_level(first_serial: int, last_serial: int) -> int:
    """The level of the smallest aligned bucket (at least the minimum) holding both serials."""
    return max(SERIAL_BUCKET_BITS_MIN, (first_serial ^ last_serial).bit_length())


def serial_key(serial_space: str, first_serial: int, last_serial: int) -> SerialKey:
    level = serial_level(first_serial, last_serial)
    return (serial_space, level, first_serial >> level)


def keys_holding(serial_space: str, serial: int) -> list[SerialKey]:
    """Every bucket a move containing `serial` may be filed under: one per level."""
    return [
        (serial_space, level, serial >> level)
        for level in range(SERIAL_BUCKET_BITS_MIN, SERIAL_BUCKET_BITS_MAX + 1)
    ]


class HistoryPostings:
    """The postings of a run of entries, gathered entry by entry in journal order."""

    __slots__ = ("accounts", "serials")

    def __init__(self) -> None:
        self.accounts: dict[AccountKey, list[int]] = {}
        self.serials: dict[SerialKey, list[int]] = {}
        """Flat (seq, first, last, seq, first, last, ...) per bucket."""

    def add_moves(self, seq: int, moves: Sequence[Sequence[Any]]) -> None:
        """File the "move" effects of entry `seq`, in the entry's order: ("move", action, space,
        first, last, from, to)."""
        accounts = self.accounts
        # An account already filed for this entry ends with its seq, so it is filed once however
        # often it is named; the sets only save lookups when an entry names many moves.
        if len(moves) == 1:
            named: Iterable[str | None] = moves[0][5:7]
        else:
            named = {move[5] for move in moves} | {move[6] for move in moves}
        for account_id in named:
            if account_id is None:
                continue
            seqs = accounts.get(account_id)
            if seqs is None:
                accounts[account_id] = [seq]
            elif seqs[-1] != seq:
                seqs.append(seq)
        serials, level_min = self.serials, SERIAL_BUCKET_BITS_MIN
        for move in moves:
            first, last = move[3], move[4]
            # `serial_level`, inline: a call per move (and `max`'s) cost more than the rest.
            level = (first ^ last).bit_length()
            if level < level_min:
                level = level_min
            key = (move[2], level, first >> level)
            filed = serials.get(key)
            if filed is None:
                serials[key] = [seq, first, last]
            else:
                filed += (seq, first, last)

    def account_rows(self) -> list[tuple[str, int, bytes]]:
        """(account_id, last seq, packed seqs) per account, in key order."""
        return [
            (account_id, seqs[-1], pack_seqs(seqs))
            for account_id, seqs in sorted(self.accounts.items())
        ]

    def serial_rows(self) -> list[tuple[str, int, int, int, bytes]]:
        """(serial_space, level, bucket, last seq, packed moves) per bucket, in key order."""
        return [
            (space, level, bucket, moves[-3], pack_moves(moves))
            for (space, level, bucket), moves in sorted(self.serials.items())
        ]


def pack_seqs(seqs: Sequence[int]) -> bytes:
    return struct.pack(f"<{len(seqs)}q", *seqs)


def unpack_seqs(packed: bytes) -> tuple[int, ...]:
    if len(packed) % SEQ.size:
        raise ValueError(f"a packed list of sequence numbers has {len(packed)} bytes")
    return struct.unpack(f"<{len(packed) // SEQ.size}q", packed)


def pack_moves(flat_moves: Sequence[int]) -> bytes:
    return struct.pack(f"<{len(flat_moves)}q", *flat_moves)


def unpack_moves(packed: bytes) -> Iterator[tuple[int, int, int]]:
    """(seq, first_serial, last_serial) per move."""
    if len(packed) % MOVE.size:
        raise ValueError(f"a packed list of moves has {len(packed)} bytes")
    return MOVE.iter_unpack(packed)
