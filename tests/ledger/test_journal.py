"""Journal encodings: payloads are canonical and take their own size in memory, however orjson
allocated the buffer it wrote them into (a unit of work keeps the payloads it has not written
yet, and verify the attribute records it replays)."""

from __future__ import annotations

import tracemalloc

import orjson

from carbonex.ledger.journal import canonical, decode_payload, encode_payload, exact_size

ENTRIES = 1_000
SLACK_BYTES = 200
"""Per object beyond its length: the bytes header, the allocator's rounding."""


def effects(n: int) -> list[tuple[object, ...]]:
    return [("block", n, n, "VERRA/VCU", 1_000 * n, 1_000 * n + 9, "ACC", "active", "a" * 24, None)]


def test_a_payload_embeds_the_command_bytes_and_decodes_to_what_was_encoded() -> None:
    command = canonical({"kind": "transfer", "command_id": "t-1", "quantity": 5})
    payload = encode_payload(7, command, effects(1), "2026-01-01T00:00:00+00:00", "d" * 32)
    decoded = decode_payload(payload)
    assert canonical(decoded["command"]) == command
    assert (decoded["seq"], decoded["catalog"]) == (7, "d" * 32)
    assert decoded["effects"] == [list(effect) for effect in effects(1)]
    assert canonical(decoded) == payload  # canonical: keys sorted, no whitespace


def test_payloads_kept_in_numbers_take_their_own_size_in_memory() -> None:
    command = canonical({"kind": "transfer", "command_id": "t-1", "quantity": 5})
    tracemalloc.start()
    try:
        kept = [
            encode_payload(n, command, effects(n), "2026-01-01T00:00:00+00:00", "d" * 32)
            for n in range(ENTRIES)
        ]
        traced_bytes, _peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    longest = max(len(payload) for payload in kept)
    assert traced_bytes < ENTRIES * (longest + SLACK_BYTES), traced_bytes / ENTRIES


def test_exact_size_copies_the_bytes_unchanged() -> None:
    encoded = orjson.dumps({"a": [1, 2, 3]})
    assert exact_size(encoded) == encoded
    assert exact_size(b"") == b""
