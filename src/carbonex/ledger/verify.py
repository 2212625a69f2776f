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
from carbonex.ledger.live_checks import (
    MOVEMENTS_IN_ORDER,
    LiveSummaryWorker,
    RowDigest,
    summarize_live,
)
from carbonex.ledger.model import FINAL_STATES, UnitAttributes
from carbonex.store import SqlStore
from carbonex.store.sql import ATTRIBUTES_COLUMNS, attributes_row

PROBLEMS_REPORTED_MAX = 50
PROGRESS_EVERY_ENTRIES = 50_000
PARALLEL_VERIFY_BLOCKS_MIN = 200_000
"""From this many blocks ever made, the live half of verify runs in a second process."""
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
    movement_digest: RowDigest = field(default_factory=RowDigest)
    """Movements in journal order, as the live table lists them ordered by (seq, position)."""
    movements: dict[tuple[int, int], tuple[Any, ...]] | None = None
    """Kept only for a detailed comparison, after the digests disagreed."""

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
                movement = (seq, position, *effect[1:])
                self.movement_digest.add(movement)
                if self.movements is not None:
                    self.movements[(seq, position)] = movement
            elif tag == "issuance":
                self.issuances[effect[1]] = (*effect[1:8], seq)
            elif tag == "attributes":
                self.attributes[effect[1]] = canonical(effect[2])


def _replay_journal(
    store: SqlStore, report: VerifyReport, progress: Progress | None, detailed: bool = False
) -> ReplayState:
    """One pass over the journal: check each link of the chain and apply each entry's effects."""
    total_entries = store.load_head().seq
    replay = ReplayState(movements={} if detailed else None)
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


BLOCK_QUERY = (
    "SELECT block_id, issuance_id, serial_space, first_serial, last_serial, account_id, state, "
    "attributes_id, hold_id FROM blocks"
)


def _live_state(store: SqlStore, with_blocks: bool) -> ReplayState:
    live = ReplayState()
    if with_blocks:
        for row in store.stream(BLOCK_QUERY):
            live.blocks[row[0]] = row
    for row in store.stream(
        "SELECT issuance_id, serial_space, first_serial, last_serial, "
        "attributes_id, account_id, lineage, seq FROM issuances"
    ):
        live.issuances[row[0]] = row
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


def _check_holds(
    held_blocks: list[tuple[Any, ...]], holds: dict[str, tuple[Any, ...]], report: VerifyReport
) -> None:
    """Invariant 4: a pending hold holds exactly its quantity of active units in its account."""
    held: dict[str, int] = {}
    for block in held_blocks:
        block_id, account_id, state, hold_id = block[0], block[5], block[6], block[8]
        hold = holds.get(hold_id)
        if hold is None or hold[3] != "pending":
            report.add("holds", f"block {block_id} is held by {hold_id}, which is not pending")
        elif state != "active" or account_id != hold[1]:
            report.add(
                "holds", f"block {block_id} on hold {hold_id} is not active in account {hold[1]}"
            )
        held[hold_id] = held.get(hold_id, 0) + block[4] - block[3] + 1
    for hold_id, hold in holds.items():
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
    head = store.load_head()
    worker = None
    if head.next_block_id > PARALLEL_VERIFY_BLOCKS_MIN and ":memory:" not in store.url:
        worker = LiveSummaryWorker(store.url)
    try:
        replayed = _replay_journal(store, report, progress)
        live = worker.result() if worker is not None else summarize_live(store)
    finally:
        if worker is not None:
            worker.stop()
    if live.head_seq != head.seq:  # a writer committed between the two read transactions
        live = summarize_live(store)
    report.blocks = live.blocks
    for invariant, message in live.problems:
        report.add(invariant, message)
    _compare_small_tables(store, replayed, report)
    if (
        live.block_digest != _block_digest(replayed)
        or live.movement_digest != replayed.movement_digest.hexdigest()
    ):
        _compare_in_detail(store, report)
    return report


def _block_digest(replayed: ReplayState) -> str:
    blocks = replayed.blocks
    return RowDigest().add_all(blocks[block_id] for block_id in sorted(blocks)).hexdigest()


def _compare_small_tables(store: SqlStore, replayed: ReplayState, report: VerifyReport) -> None:
    """Issuances, accounts, holds and attributes: few enough rows to compare one by one."""
    live = _live_state(store, with_blocks=False)
    report.issuances = len(live.issuances)
    _compare("issuance", live.issuances, replayed.issuances, report)
    _compare("account", live.accounts, replayed.accounts, report)
    _compare("hold", live.holds, replayed.holds, report)
    _live_attributes(store, live, report)
    _compare("attributes", live.attributes, replayed.attributes, report)
    held = store.query(f"{BLOCK_QUERY} WHERE hold_id IS NOT NULL")
    _check_holds(held, live.holds, report)


def _compare_in_detail(store: SqlStore, report: VerifyReport) -> None:
    """The digests disagree: replay again keeping everything, and name the differences."""
    replayed = _replay_journal(store, VerifyReport(), None, detailed=True)
    live = _live_state(store, with_blocks=True)
    _compare("block", live.blocks, replayed.blocks, report)
    live_movements = {(row[0], row[1]): row for row in store.stream(MOVEMENTS_IN_ORDER)}
    _compare("movement", live_movements, replayed.movements or {}, report)
