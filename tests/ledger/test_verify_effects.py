"""Any field of any effect in a journal entry set to what the ledger never writes (a wrong type,
an integer out of range, a serial range running backwards, an item missing or added, nested
junk, no effect at all): `verify` names the entry, the effect and the broken invariant, and never
raises; with every later hash recomputed, so that only the replay can tell, and without."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from carbonex.ledger import Ledger
from carbonex.ledger.journal import chain_hash
from carbonex.ledger.verify import ReplayedBlocks, ReplayState, VerifyReport, effect_problem
from tests.ledger.support import execute_raw
from tests.ledger.test_verify import realistic

NESTED_JUNK = [["x", {"y": [1, None, {"z": []}]}]]
NOT_INTEGERS = (1.5, True, None, "7", [], {}, NESTED_JUNK)
NOT_TEXTS = (7, 1.5, True, [], {}, NESTED_JUNK)
NEVER_WRITTEN: dict[str, tuple[Any, ...]] = {
    "id": (0, -1, 2**63, 2**64 - 1, 2**64, -(2**63) - 1, *NOT_INTEGERS),
    "serial": (0, -1, 2**62 + 1, 2**63, 2**64 - 1, -(2**63) - 1, *NOT_INTEGERS),
    "quantity": (0, -1, 2**62 + 1, 2**63, *NOT_INTEGERS),
    "text": (None, *NOT_TEXTS),
    "text or null": NOT_TEXTS,
    "name": ("bogus", "", None, *NOT_TEXTS),
    "record": (None, "x", 7, [], NESTED_JUNK),
}
"""Values the ledger never writes in a field of each sort (a name: a state, status or action)."""
LAYOUT: dict[str, tuple[str, ...]] = {
    "account": ("text", "text", "text", "text", "name"),
    "attributes": ("text", "record"),
    "issuance": ("id", "text", "serial", "serial", "text", "text", "text or null"),
    "block": ("id", "id", "text", "serial", "serial", "text", "name", "text", "text or null"),
    "unblock": ("id",),
    "hold": ("text", "text", "quantity", "name", "text"),
    "move": ("name", "text", "serial", "serial", "text or null", "text"),
}
"""Each effect's fields after its kind, as `carbonex.ledger.effects` writes them."""
FIRST_SERIAL_AT = {"issuance": 3, "block": 4, "move": 3}
NOT_EFFECTS = (7, "block", None, {}, [], NESTED_JUNK, ["bogus", 1], [7, 1])
WELL_FORMED = (
    ["account", "A", "VERRA", "company_holding", "Acme", "open"],
    ["attributes", "a1", {"unit_type": "VCU"}],
    ["issuance", 1, "VERRA/VCU", 1, 100, "a1", "A", None],
    ["block", 1, 1, "VERRA/VCU", 1, 100, "A", "active", "a1", None],
    ["block", 2, 1, "VERRA/VCU", 101, 200, "A", "retired", "a1", "h1"],
    ["hold", "h1", "A", 10, "pending", "order"],
    ["move", "issue", "VERRA/VCU", 1, 100, None, "A"],
    ["move", "transfer", "VERRA/VCU", 1, 100, "A", "B"],
    ["unblock", 1],
)


def malformations(effect: list[Any], every_value: bool = True) -> Iterator[tuple[str, Any]]:
    """(what was done, the effect malformed) for each field of `effect` and its whole; with
    `every_value` False, one value the ledger never writes per field, taken in turn."""
    for index, sort in enumerate(LAYOUT[effect[0]], start=1):
        values = NEVER_WRITTEN[sort]
        for value in values if every_value else values[index % len(values) :][:1]:
            yield f"field {index} set to {value!r}", [*effect[:index], value, *effect[index + 1 :]]
    yield "its last item missing", effect[:-1]
    yield "an item added", [*effect, "more"]
    if effect[0] in FIRST_SERIAL_AT:
        at = FIRST_SERIAL_AT[effect[0]]
        backwards = [*effect[:at], effect[at + 1] + 1, *effect[at + 1 :]]
        yield "its serials running backwards", backwards
    for junk in NOT_EFFECTS if every_value else NOT_EFFECTS[:2]:
        yield f"replaced by {junk!r}", junk


def replay_problems(effects: list[Any]) -> list[tuple[str, str]]:
    report = VerifyReport()
    ReplayState().apply(7, effects, report)
    return [(problem.invariant, problem.message) for problem in report.problems]


def test_the_effects_the_ledger_writes_are_replayed_without_a_problem() -> None:
    assert replay_problems([list(effect) for effect in WELL_FORMED]) == []
    assert all(effect_problem(effect) is None for effect in WELL_FORMED)


def test_every_field_of_every_effect_malformed_is_named_with_its_entry_and_place() -> None:
    missed = []
    for effect in WELL_FORMED:
        for what, malformed in malformations(list(effect)):
            problems = replay_problems([["unblock", 9], malformed])
            named = [message for invariant, message in problems if invariant == "replay"]
            if len(problems) != 1 or not named or not named[0].startswith("entry 7, effect 1: "):
                missed.append(f"{effect[0]} with {what}: {problems}")
    assert not missed, missed


def test_an_effect_nested_past_any_recursion_limit_or_huge_is_named_in_a_few_words() -> None:
    deep: list[Any] = []
    for _ in range(5_000):
        deep = [deep]
    problems = replay_problems([deep, ["block", deep], list(range(100_000)), ["x" * 100_000]])
    assert [invariant for invariant, _ in problems] == ["replay"] * 4
    assert all(len(message) < 400 for _, message in problems), problems


def test_an_entry_whose_effects_are_no_list_is_named() -> None:
    for effects in (None, 7, "effects", {"block": 1}):
        assert replay_problems(effects) == [
            ("replay", f"entry 7: its effects are {effects!r}, not a list")
        ]


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**64), max_value=2**64)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["active", "retired", "pending", "open", "transfer", "A", "", "bogus"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=5,
)


@st.composite
def effects_changed(draw: st.DrawFn) -> Any:
    """A well-formed effect with some fields replaced, some cut off or added."""
    effect = list(draw(st.sampled_from(WELL_FORMED)))
    for index in draw(st.lists(st.integers(0, len(effect) - 1), max_size=3)):
        effect[index] = draw(JSON_VALUES | st.integers(min_value=1, max_value=2**62))
    return effect[: draw(st.integers(0, len(effect) + 1))] + draw(st.lists(JSON_VALUES, max_size=2))


@settings(max_examples=500)
@given(st.lists(effects_changed() | JSON_VALUES, max_size=4))
def test_the_replay_applies_an_effect_exactly_when_it_is_one_the_ledger_writes(
    effects: list[Any],
) -> None:
    """The replay checks blocks and moves inline, the rest with `effect_problem`: both agree."""
    problems = replay_problems(effects)
    malformed = [effect_problem(effect) for effect in effects]
    expected = [
        f"entry 7, effect {number}: {problem}"
        for number, problem in enumerate(malformed)
        if problem is not None
    ]
    assert [message for invariant, message in problems if invariant == "replay"][
        : len(expected)
    ] == expected


BLOCK_IDS_DRAWN_MAX = 40


@st.composite
def block_changes(draw: st.DrawFn) -> list[Any]:
    """A block effect or an unblock, for one of a few block ids, in any state."""
    block_id = draw(st.integers(1, BLOCK_IDS_DRAWN_MAX))
    if draw(st.booleans()):
        return ["unblock", block_id]
    first = draw(st.integers(1, 1_000))
    state = draw(st.sampled_from(["active", "active", "retired", "cancelled"]))
    return ["block", block_id, 1, "VERRA/VCU", first, first + 9, "A", state, "a1", None]


@settings(max_examples=300)
@given(
    st.lists(st.lists(block_changes(), max_size=6), max_size=6),
    st.integers(0, BLOCK_IDS_DRAWN_MAX + 2),
)
def test_the_replay_keeps_blocks_the_same_wherever_their_ids_fall(
    entries: list[list[Any]], slot_count: int
) -> None:
    """Block ids below the head's counter are kept in slots, the others in a dictionary: the
    blocks, their digest and the problems found are those of a replay keeping all in one."""
    replays = {}
    for slots in (0, slot_count, BLOCK_IDS_DRAWN_MAX + 1):
        replay, report = ReplayState(blocks=ReplayedBlocks(slots)), VerifyReport()
        for seq, effects in enumerate(entries, 1):
            replay.apply(seq, [list(effect) for effect in effects], report)
        replays[slots] = (
            replay.block_digest(),
            sorted(replay.block_effects()),
            replay.final_blocks,
            replay.block_id_made_max,
            report.problems,
        )
    expected = {}
    for effects in entries:
        for effect in effects:
            if effect[0] == "block":
                expected[effect[1]] = effect
            else:
                expected.pop(effect[1], None)
    assert replays[0][1] == sorted(expected.items())
    assert replays[0] == replays[slot_count] == replays[BLOCK_IDS_DRAWN_MAX + 1]


# -- on both stores, through `Ledger.verify` ------------------------------------------------------


def first_effect_of_each_kind(ledger: Ledger) -> dict[str, tuple[int, int, list[Any]]]:
    """kind -> (seq, place in the entry's effects from 0, the effect)."""
    found: dict[str, tuple[int, int, list[Any]]] = {}
    for seq, payload in ledger.store.query("SELECT seq, payload FROM journal ORDER BY seq"):
        for number, effect in enumerate(json.loads(bytes(payload))["effects"]):
            found.setdefault(effect[0], (seq, number, effect))
    return found


def rewrite_effect(ledger: Ledger, seq: int, number: int, effect: Any, rehash: bool) -> None:
    """Put `effect` in place `number` of entry `seq`; with `rehash`, give that entry and every
    later one the hashes their payloads now call for."""
    rows = ledger.store.query(
        "SELECT seq, payload, previous_hash FROM journal WHERE seq >= ? ORDER BY seq", (seq,)
    )
    entry = json.loads(bytes(rows[0][1]))
    entry["effects"][number] = effect
    # json, not orjson: it writes integers past 64 bits, as a hand at the database could.
    payload = json.dumps(entry, sort_keys=True, separators=(",", ":")).encode()
    execute_raw(ledger, "UPDATE journal SET payload = ? WHERE seq = ?", (payload, seq))
    if not rehash:
        return
    previous_hash = rows[0][2]
    for row_seq, row_payload, _ in rows:
        stored = payload if row_seq == seq else bytes(row_payload)
        entry_hash = chain_hash(previous_hash, stored)
        execute_raw(
            ledger,
            "UPDATE journal SET previous_hash = ?, entry_hash = ? WHERE seq = ?",
            (previous_hash, entry_hash, row_seq),
        )
        previous_hash = entry_hash


def put_back(ledger: Ledger, rows: list[tuple[Any, ...]]) -> None:
    for seq, payload, previous_hash, entry_hash in rows:
        execute_raw(
            ledger,
            "UPDATE journal SET payload = ?, previous_hash = ?, entry_hash = ? WHERE seq = ?",
            (bytes(payload), previous_hash, entry_hash, seq),
        )


def test_any_effect_malformed_in_the_journal_is_named_by_verify_never_raised(
    ledger: Ledger,
) -> None:
    realistic(ledger)
    effects = first_effect_of_each_kind(ledger)
    assert effects.keys() == LAYOUT.keys()
    original = ledger.store.query(
        "SELECT seq, payload, previous_hash, entry_hash FROM journal ORDER BY seq"
    )
    missed, checked = [], 0
    for kind, (seq, number, effect) in effects.items():
        for what, malformed in malformations(effect, every_value=False):
            for rehash in (True, False) if what.startswith("field 1 ") else (True,):
                rewrite_effect(ledger, seq, number, malformed, rehash)
                report = ledger.verify()  # raising fails the test
                named = f"entry {seq}, effect {number}: "
                if not any(
                    p.invariant == "replay" and p.message.startswith(named) for p in report.problems
                ) or (not rehash and "chain" not in {p.invariant for p in report.problems}):
                    missed.append(f"{kind} effect with {what} (rehashed: {rehash}): {report}")
                put_back(ledger, original)
                checked += 1
    assert not missed, missed
    assert checked >= 60, checked
    assert ledger.verify().ok
