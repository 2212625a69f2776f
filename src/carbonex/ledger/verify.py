"""`carbonex verify`: check the hash chain, replay the journal from empty into a scratch state,
compare it with the live tables, and check the ledger's invariants (ARCHITECTURE.md):

1. conservation: each issuance's blocks cover exactly its serial range, no gap, no overlap;
2. a serial is in exactly one block (blocks of a serial space never overlap);
3. retired, cancelled, surrendered, expired and converted serials never change again;
4. holds never exceed the active units they hold;
5. the chain is unbroken and replay reproduces the live state.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from carbonex.ledger.journal import ChainChecker, canonical
from carbonex.ledger.model import FINAL_STATES, UnitAttributes
from carbonex.store import SqlStore
from carbonex.store.sql import ATTRIBUTES_COLUMNS, attributes_row

PROBLEMS_REPORTED_MAX = 50
PROGRESS_EVERY_ENTRIES = 50_000
Progress = Callable[[int, int], None]
"""Called with (entries checked, entries in the journal) every PROGRESS_EVERY_ENTRIES."""


@dataclass(frozen=True, slots=True)
class Problem:
    invariant: str
    message: str


@dataclass(slots=True)
class VerifyReport:
    entries: int = 0
    blocks: int = 0
    issuances: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, invariant: str, message: str) -> None:
        if len(self.problems) < PROBLEMS_REPORTED_MAX:
            self.problems.append(Problem(invariant, message))

    def to_record(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "blocks": self.blocks,
            "issuances": self.issuances,
            "problems": [{"invariant": p.invariant, "message": p.message} for p in self.problems],
        }


@dataclass(slots=True)
class ReplayState:
    """The state rebuilt from effects alone, as plain tuples keyed by id."""

    accounts: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    attributes: dict[str, bytes] = field(default_factory=dict)
    """attributes_id -> the canonical bytes of the attribute record."""
    issuances: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    blocks: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    holds: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    movements: dict[tuple[int, int], tuple[Any, ...]] = field(default_factory=dict)

    def apply(self, seq: int, effects: Iterable[list[Any]], report: VerifyReport) -> None:
        blocks = self.blocks
        position = 0
        for effect in effects:
            tag = effect[0]
            if tag == "block" or tag == "unblock":
                old = blocks.get(effect[1])
                if old is not None and old[6] in FINAL_STATES:
                    report.add(
                        "finality",
                        f"entry {seq} changes block {effect[1]}, which was already {old[6]}",
                    )
                if tag == "block":
                    blocks[effect[1]] = tuple(effect[1:])
                else:
                    blocks.pop(effect[1], None)
            elif tag == "account":
                self.accounts[effect[1]] = tuple(effect[1:])
            elif tag == "hold":
                self.holds[effect[1]] = tuple(effect[1:])
            elif tag == "move":
                position += 1
                self.movements[(seq, position)] = (seq, position, *effect[1:])
            elif tag == "issuance":
                self.issuances[effect[1]] = (*effect[1:8], seq)
            elif tag == "attributes":
                self.attributes[effect[1]] = canonical(effect[2])


def _replay_journal(
    store: SqlStore, report: VerifyReport, progress: Progress | None
) -> ReplayState:
    """One pass over the journal: check each link of the chain and apply each entry's effects."""
    total_entries = store.load_head().seq
    replay = ReplayState()
    checker = ChainChecker()
    loads = orjson.loads
    for seq, payload, previous_hash, entry_hash in store.stream(
        "SELECT seq, payload, previous_hash, entry_hash FROM journal ORDER BY seq"
    ):
        payload = bytes(payload)
        problem = checker.check(seq, payload, previous_hash, entry_hash)
        if problem is not None:
            report.add("chain", problem)
        try:
            entry = loads(payload)
            replay.apply(seq, entry["effects"], report)
        except (orjson.JSONDecodeError, KeyError, TypeError, IndexError):
            report.add("chain", f"entry {seq}: payload is not a valid journal entry")
        report.entries += 1
        if progress is not None and report.entries % PROGRESS_EVERY_ENTRIES == 0:
            progress(report.entries, total_entries)
    return replay


def _compare(
    name: str,
    live: Mapping[Any, Any],
    replayed: Mapping[Any, Any],
    report: VerifyReport,
) -> None:
    if live == replayed:
        return
    for key in sorted(live.keys() - replayed.keys(), key=str)[:10]:
        report.add("replay", f"{name} {key} is in the live state but no journal entry made it")
    for key in sorted(replayed.keys() - live.keys(), key=str)[:10]:
        report.add(
            "replay", f"{name} {key} was made by the journal but is missing from the live state"
        )
    differing = [key for key in live.keys() & replayed.keys() if live[key] != replayed[key]]
    for key in sorted(differing, key=str)[:10]:
        report.add(
            "replay",
            f"{name} {key} differs from the journal: live {live[key]} vs replayed {replayed[key]}",
        )


def _live_state(store: SqlStore) -> ReplayState:
    live = ReplayState()
    for row in store.stream(
        "SELECT block_id, issuance_id, serial_space, first_serial, "
        "last_serial, account_id, state, attributes_id, hold_id FROM blocks "
        "ORDER BY serial_space, first_serial"
    ):
        live.blocks[row[0]] = row
    for row in store.stream(
        "SELECT issuance_id, serial_space, first_serial, last_serial, "
        "attributes_id, account_id, lineage, seq FROM issuances"
    ):
        live.issuances[row[0]] = row
    for row in store.stream(
        "SELECT seq, position, action, serial_space, first_serial, last_serial, from_account, "
        "to_account FROM movements"
    ):
        live.movements[(row[0], row[1])] = row
    for row in store.query("SELECT account_id, registry, kind, holder, status FROM accounts"):
        live.accounts[row[0]] = tuple(row)
    for row in store.query("SELECT hold_id, account_id, quantity, status, purpose FROM holds"):
        live.holds[row[0]] = tuple(row)
    return live


def _live_attributes(store: SqlStore, live: ReplayState, report: VerifyReport) -> None:
    """Attribute rows are content-addressed: the id is the hash of the record, and the searchable
    columns must say what the record says."""
    for row in store.query(f"SELECT {ATTRIBUTES_COLUMNS} FROM unit_attributes"):
        attributes_id, record = row[0], bytes(row[-1])
        decoded = orjson.loads(record)
        live.attributes[attributes_id] = canonical(decoded)
        if UnitAttributes.from_record(decoded).attributes_id != attributes_id:
            report.add("replay", f"attributes {attributes_id}: record does not hash to its id")
        if tuple(row[:-1]) != attributes_row(attributes_id, decoded)[:-1]:
            report.add("replay", f"attributes {attributes_id}: columns differ from the record")


# Tuple positions. Blocks: (block_id, issuance_id, serial_space, first_serial, last_serial,
# account_id, state, attributes_id, hold_id). Issuances: (issuance_id, serial_space, first_serial,
# last_serial, attributes_id, account_id). Holds: (hold_id, account_id, quantity, status, purpose).


def check_invariants(state: ReplayState, report: VerifyReport) -> None:
    _check_coverage(state, report)
    _check_holds(state, report)
    for block_id, block in state.blocks.items():
        if block[5] not in state.accounts:
            report.add("references", f"block {block_id} is in unknown account {block[5]}")
        if block[7] not in state.attributes:
            report.add("references", f"block {block_id} has unknown attributes {block[7]}")


def _check_coverage(state: ReplayState, report: VerifyReport) -> None:
    """Invariants 1 and 2: blocks tile each issuance exactly and never overlap in a space.
    The live blocks arrive ordered by serial space and first serial (see _live_state)."""
    ordered = state.blocks.values()
    covered: dict[int, int] = dict.fromkeys(state.issuances, 0)
    previous: tuple[Any, ...] | None = None
    for block in ordered:
        block_id, issuance_id, space, first, last = block[0], block[1], block[2], block[3], block[4]
        if first > last:
            report.add("conservation", f"block {block_id} has an empty range {first}-{last}")
        if previous is not None and previous[2] == space and previous[4] >= first:
            report.add(
                "no_overlap",
                f"blocks {previous[0]} and {block_id} overlap in {space} at serial {first}",
            )
        issuance = state.issuances.get(issuance_id)
        if issuance is None:
            report.add("conservation", f"block {block_id} belongs to no issuance")
        elif first < issuance[2] or last > issuance[3] or space != issuance[1]:
            report.add("conservation", f"block {block_id} lies outside issuance {issuance_id}")
        else:
            covered[issuance_id] += last - first + 1
        previous = block
    for issuance_id, quantity in covered.items():
        issuance = state.issuances[issuance_id]
        issued = issuance[3] - issuance[2] + 1
        if quantity != issued:
            report.add(
                "conservation",
                f"issuance {issuance_id} issued {issued} serials but its blocks cover {quantity}",
            )


def _check_holds(state: ReplayState, report: VerifyReport) -> None:
    held: dict[str, int] = {}
    for block in state.blocks.values():
        hold_id = block[8]
        if hold_id is None:
            continue
        hold = state.holds.get(hold_id)
        if hold is None or hold[3] != "pending":
            report.add("holds", f"block {block[0]} is held by {hold_id}, which is not pending")
        elif block[6] != "active" or block[5] != hold[1]:
            report.add(
                "holds", f"block {block[0]} on hold {hold_id} is not active in account {hold[1]}"
            )
        held[hold_id] = held.get(hold_id, 0) + block[4] - block[3] + 1
    for hold_id, hold in state.holds.items():
        if hold[3] == "pending" and held.get(hold_id, 0) != hold[2]:
            report.add(
                "holds",
                f"hold {hold_id} is for {hold[2]} units but holds "
                f"{held.get(hold_id, 0)} active units",
            )


def verify_store(store: SqlStore, progress: Progress | None = None) -> VerifyReport:
    # Verify builds millions of tuples that are never cyclic garbage; letting the collector
    # rescan them costs about a third of the run.
    collecting = gc.isenabled()
    gc.disable()
    try:
        return _verify(store, progress)
    finally:
        if collecting:
            gc.enable()


def _verify(store: SqlStore, progress: Progress | None) -> VerifyReport:
    report = VerifyReport()
    replayed = _replay_journal(store, report, progress)
    live = _live_state(store)
    report.blocks, report.issuances = len(live.blocks), len(live.issuances)
    _compare("block", live.blocks, replayed.blocks, report)
    _compare("issuance", live.issuances, replayed.issuances, report)
    _compare("account", live.accounts, replayed.accounts, report)
    _compare("hold", live.holds, replayed.holds, report)
    _compare("movement", live.movements, replayed.movements, report)
    _live_attributes(store, live, report)
    _compare("attributes", live.attributes, replayed.attributes, report)
    check_invariants(live, report)
    return report
