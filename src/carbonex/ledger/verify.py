"""`carbonex verify`: check the hash chain, replay the journal from empty into a scratch state,
compare it with the live tables, and check the ledger's invariants (ARCHITECTURE.md):

0. the tables hold only values the ledger writes (types, serial ranges: `stored_values`);
1. conservation: each issuance's blocks cover exactly its serial range, no gap, no overlap;
2. a serial is in exactly one block (blocks of a serial space never overlap);
3. retired, cancelled, surrendered, expired and converted serials never change again;
4. holds never exceed the active units they hold;
5. the chain is unbroken, every effect is one the ledger writes (its kind, its fields, their
   types and bounds: `EFFECT_FIELDS`), and replay reproduces the live state;
6. each journal row's columns say what its hashed payload says (seq, command id, kind, time);
7. the id counters the journal's last entry carries lie beyond every block and issuance id made,
   and a row carrying counters carries exactly those the entries up to it leave;
8. every catalog the entries name is kept, with the first entry naming it, its record hashing to
   its digest and describing a catalog; every catalog kept is named by some entry.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from carbonex.catalog import Catalog, CatalogError
from carbonex.catalog.loader import catalog_digest
from carbonex.dates import as_utc
from carbonex.ledger.collector import collector_paused
from carbonex.ledger.effects import MOVE_ACTIONS
from carbonex.ledger.history import HistoryPostings
from carbonex.ledger.journal import ChainChecker, canonical, exact_size
from carbonex.ledger.limits import CATALOGS_MAX, SERIAL_MAX
from carbonex.ledger.live_checks import (
    DIGEST_CHUNK_ROWS,
    RowDigest,
    history_digests,
    live_history,
    summarize_live,
)
from carbonex.ledger.model import (
    FINAL_STATES,
    AccountStatus,
    BlockState,
    HoldStatus,
    UnitAttributes,
)
from carbonex.ledger.ports import Head, IdEnds, head_problems
from carbonex.ledger.stored_values import value_problems
from carbonex.store import SqlStore, open_store
from carbonex.store.sql import ATTRIBUTES_COLUMNS, BLOCK_COLUMNS, attributes_row

PROBLEMS_REPORTED_MAX = 50
PROGRESS_EVERY_ENTRIES = 50_000
PARALLEL_VERIFY_BLOCKS_MIN = 200_000
"""From this many blocks ever made, the replay runs in a second process."""
WORKER_SECONDS_MAX = 3_600
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
    redecided: int | None = None
    """Entries whose commands were decided again and gave the recorded entry (None: not run)."""

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
            "redecided": self.redecided,
        }


ID_MAX = 2**63 - 1
"""Highest block or issuance id: both stores keep ids as signed 64-bit integers."""
BLOCK_STATES = frozenset(state.value for state in BlockState)
EFFECT_SHOWN_CHARS_MAX = 120
"""A malformed effect or value is named by this much of its text at most."""
SHOWN_ITEMS_MAX = 10
SHOWN_DEPTH_MAX = 3
"""How much of a list or object, and how deep, a message shows."""


@dataclass(frozen=True, slots=True)
class FieldRule:
    """What one field of an effect holds, as the ledger writes it."""

    types: tuple[type, ...]
    """The exact types (a boolean is no integer, a float no serial)."""
    description: str
    low: int | None = None
    high: int | None = None
    """Bounds of an integer field."""
    values: frozenset[str] | None = None
    """The texts a field naming a state, status or action may hold."""

    def holds(self, value: Any) -> bool:
        if type(value) not in self.types:
            return False
        if self.low is not None and self.high is not None and not self.low <= value <= self.high:
            return False
        return self.values is None or value in self.values


def _one_of(values: frozenset[str]) -> FieldRule:
    return FieldRule((str,), f"one of {', '.join(sorted(values))}", values=values)


TEXT = FieldRule((str,), "a text")
TEXT_OR_NONE = FieldRule((str, type(None)), "a text or null")
ID = FieldRule((int,), f"an id (an integer from 1 to {ID_MAX})", 1, ID_MAX)
SERIAL = FieldRule(
    (int,),
    f"one of the serials the ledger issues (an integer from 1 to {SERIAL_MAX})",
    1,
    SERIAL_MAX,
)
QUANTITY = FieldRule((int,), f"a quantity (an integer from 1 to {SERIAL_MAX})", 1, SERIAL_MAX)
RECORD = FieldRule((dict,), "a record (a JSON object)")
EFFECT_FIELDS: dict[str, tuple[tuple[str, FieldRule], ...]] = {
    "account": (
        ("account id", TEXT),
        ("registry", TEXT),
        ("kind", TEXT),
        ("holder", TEXT),
        ("status", _one_of(frozenset(status.value for status in AccountStatus))),
    ),
    "attributes": (("attributes id", TEXT), ("record", RECORD)),
    "issuance": (
        ("issuance id", ID),
        ("serial space", TEXT),
        ("first serial", SERIAL),
        ("last serial", SERIAL),
        ("attributes id", TEXT),
        ("account id", TEXT),
        ("lineage", TEXT_OR_NONE),
    ),
    "block": (
        ("block id", ID),
        ("issuance id", ID),
        ("serial space", TEXT),
        ("first serial", SERIAL),
        ("last serial", SERIAL),
        ("account id", TEXT),
        ("state", _one_of(BLOCK_STATES)),
        ("attributes id", TEXT),
        ("hold id", TEXT_OR_NONE),
    ),
    "unblock": (("block id", ID),),
    "hold": (
        ("hold id", TEXT),
        ("account id", TEXT),
        ("quantity", QUANTITY),
        ("status", _one_of(frozenset(status.value for status in HoldStatus))),
        ("purpose", TEXT),
    ),
    "move": (
        ("action", _one_of(MOVE_ACTIONS)),
        ("serial space", TEXT),
        ("first serial", SERIAL),
        ("last serial", SERIAL),
        ("from account", TEXT_OR_NONE),
        ("to account", TEXT),
    ),
}
"""Each effect's fields after its kind, in order (`effects`: the layout the ledger writes)."""
SERIAL_RANGE_AT = {"issuance": 3, "block": 4, "move": 3}
"""Where the effects with a serial range hold its first serial (the last follows it)."""


def _shown(value: Any, depth: int = 0) -> str:
    """`value` as `repr` shows it, cut to EFFECT_SHOWN_CHARS_MAX characters, with the first
    SHOWN_ITEMS_MAX items of a list or object and nothing below SHOWN_DEPTH_MAX levels: a
    payload may nest a thousand levels deep (past `repr`'s recursion limit) or hold millions of
    items."""
    if isinstance(value, list | dict) and depth >= SHOWN_DEPTH_MAX:
        text = "[...]" if isinstance(value, list) else "{...}"
    elif isinstance(value, list):
        inner = [_shown(item, depth + 1) for item in value[:SHOWN_ITEMS_MAX]]
        text = _joined("[", inner, len(value), "]")
    elif isinstance(value, dict):
        pairs = list(value.items())[:SHOWN_ITEMS_MAX]
        inner = [f"{key!r}: {_shown(item, depth + 1)}" for key, item in pairs]
        text = _joined("{", inner, len(value), "}")
    else:
        text = repr(value[: EFFECT_SHOWN_CHARS_MAX + 1] if isinstance(value, str) else value)
    if len(text) <= EFFECT_SHOWN_CHARS_MAX:
        return text
    return text[: EFFECT_SHOWN_CHARS_MAX - 3] + "..."


def _joined(opening: str, inner: list[str], count: int, closing: str) -> str:
    more = [f"... {count - len(inner)} more"] if count > len(inner) else []
    return opening + ", ".join([*inner, *more]) + closing


def effect_problem(effect: Any) -> str | None:
    """Why `effect` is not an effect as the ledger writes it (its kind, its number of fields,
    each field's type and bounds, a serial range not running backwards), or None. The replay
    reads nothing else: a value it cannot hold (a serial past 64 bits, a list for an account)
    is named here, never raised on later."""
    kinds = ", ".join(EFFECT_FIELDS)
    if type(effect) is not list or not effect or type(effect[0]) is not str:
        return f"{_shown(effect)} is no effect (a list whose first item is one of {kinds})"
    fields = EFFECT_FIELDS.get(effect[0])
    if fields is None:
        return f"its kind {_shown(effect[0])} is none of {kinds}"
    subject = f"{'an' if effect[0][0] in 'aeiou' else 'a'} {effect[0]} effect"
    if len(effect) > 1 and fields[0][0].endswith(" id") and fields[0][1].holds(effect[1]):
        subject += f" for {fields[0][0].removesuffix(' id')} {effect[1]}"
    if len(effect) != len(fields) + 1:
        count = len(effect) - 1
        fields_had = f"{count} field{'' if count == 1 else 's'}"
        return f"{subject} has {fields_had} after its kind; the ledger writes {len(fields)}"
    for (name, rule), value in zip(fields, effect[1:], strict=True):
        if not rule.holds(value):
            return f"{subject}: its {name} {_shown(value)} is not {rule.description}"
    first_at = SERIAL_RANGE_AT.get(effect[0])
    if first_at is not None and effect[first_at] > effect[first_at + 1]:
        return (
            f"{subject}: its serials {effect[first_at]}-{effect[first_at + 1]} run backwards "
            "(no units)"
        )
    return None


BLOCK_SLOTS_MAX = 2**25
"""At most this many block ids (256 MiB of slots) are kept in `ReplayedBlocks`' list; a ledger
with more keeps the rest in its dictionary."""


class ReplayedBlocks:
    """block_id -> the block's last effect, encoded. The ledger numbers blocks from 1 with its
    head's counter, so the ids below the counter are kept in a list indexed by id: storing into a
    slot touches one place in memory where a dictionary of a million blocks touches its index,
    its entries and their hashes, and the replay is bound by memory, not by instructions. Ids at
    or past `slot_count` (only a journal naming ids beyond its head's counter, or a replay that
    was not told the counter) are kept in a dictionary."""

    __slots__ = ("beyond", "slots")

    def __init__(self, slot_count: int) -> None:
        self.slots: list[bytes | None] = [None] * min(max(slot_count, 0), BLOCK_SLOTS_MAX)
        self.beyond: dict[int, bytes] = {}

    def remove(self, block_id: int) -> None:
        if 0 <= block_id < len(self.slots):
            self.slots[block_id] = None
        else:
            self.beyond.pop(block_id, None)

    def in_order(self) -> list[bytes]:
        """The blocks' encodings in block_id order."""
        beyond = self.beyond
        return list(filter(None, self.slots)) + [beyond[key] for key in sorted(beyond)]

    def items(self) -> Iterator[tuple[int, bytes]]:
        for block_id, encoded in enumerate(self.slots):
            if encoded is not None:
                yield block_id, encoded
        yield from self.beyond.items()


@dataclass(slots=True)
class ReplayState:
    """The state rebuilt from effects alone, as plain tuples (blocks: their encoded effects) keyed
    by id."""

    accounts: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    attributes: dict[str, bytes] = field(default_factory=dict)
    """attributes_id -> the canonical bytes of the attribute record."""
    issuances: dict[int, tuple[Any, ...]] = field(default_factory=dict)
    blocks: ReplayedBlocks = field(default_factory=lambda: ReplayedBlocks(0))
    """block_id -> the block's last effect as compact JSON without its brackets: what the block
    digest hashes, in a third of the memory of the decoded list (`block_effects` decodes it)."""
    final_blocks: dict[int, str] = field(default_factory=dict)
    """block_id -> its state, for the blocks whose last effect leaves them in a final state."""
    holds: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    history: HistoryPostings = field(default_factory=HistoryPostings)
    """The history indexes as one projection of the whole journal would file them."""
    block_id_made_max: int = 0
    """The highest block id any entry made (blocks merged away since included): the head's next
    block id must lie beyond it."""
    issuance_id_made_max: int = 0
    catalogs_named: dict[str, int] = field(default_factory=dict)
    """The digest of each catalog the entries name -> the first entry naming it."""
    last_recorded: tuple[int, dt.datetime] | None = None
    """The latest entry so far and when it was recorded: entries are recorded in time order."""

    def apply(self, seq: int, effects: Any, report: VerifyReport) -> None:
        """Apply entry `seq`'s effects in order. An effect the ledger never writes is named
        (invariant `replay`, with the entry and the effect's place) and skipped, so that nothing
        after it reads a value it cannot hold (a serial past 64 bits, a list for an account).

        Blocks and moves, nearly every effect, are checked and applied inline, each in its own
        branch (a call per effect, or a second dispatch on the kind, costs more than the
        checks); `effect_problem` checks the same fields by `EFFECT_FIELDS` and says what is
        wrong."""
        if type(effects) is not list:
            report.add("replay", f"entry {seq}: its effects are {_shown(effects)}, not a list")
            return
        slots, beyond, final_blocks = self.blocks.slots, self.blocks.beyond, self.final_blocks
        slot_count = len(slots)
        moves: list[list[Any]] = []
        dumps, made_max, id_max, serial_max = (
            orjson.dumps,
            self.block_id_made_max,
            ID_MAX,
            SERIAL_MAX,
        )
        block_states, move_actions, final_states = BLOCK_STATES, MOVE_ACTIONS, FINAL_STATES
        for position, effect in enumerate(effects):  # from 0, as `redecide` names them
            try:
                tag = effect[0]
                if tag == "block":
                    _, block_id, issuance_id, space, first, last, account, state, _, hold = effect
                    if (
                        type(block_id) is int
                        and type(issuance_id) is int
                        and type(first) is int
                        and type(last) is int
                        and 0 < block_id <= id_max
                        and 0 < issuance_id <= id_max
                        and 0 < first <= last <= serial_max
                        and type(space) is str
                        and type(account) is str
                        and type(effect[8]) is str
                        and (hold is None or type(hold) is str)
                        and state in block_states
                    ):
                        if block_id > made_max:
                            made_max = block_id
                        if block_id in final_blocks:
                            _changed_final(seq, block_id, final_blocks.pop(block_id), report)
                        if state in final_states:
                            final_blocks[block_id] = state
                        # Kept encoded, not decoded: a decoded block is ten objects, and
                        # allocating them (with the memory they first touch) was most of the
                        # replay's time.
                        if block_id < slot_count:
                            slots[block_id] = dumps(effect)[1:-1]
                        else:
                            beyond[block_id] = dumps(effect)[1:-1]
                        continue
                elif tag == "move":
                    _, action, space, first, last, source, target = effect
                    if (
                        type(first) is int
                        and type(last) is int
                        and 0 < first <= last <= serial_max
                        and action in move_actions
                        and type(space) is str
                        and (source is None or type(source) is str)
                        and type(target) is str
                    ):
                        moves.append(effect)
                        continue
                elif effect_problem(effect) is None:
                    self._apply_rare(seq, tag, effect, report)
                    continue
            except (TypeError, ValueError, LookupError):
                pass  # no list, not of its kind's length, or a state or action that is no text
            _skip_malformed(seq, position, effect, report)
        self.block_id_made_max = made_max
        if moves:
            self.history.add_moves(seq, moves)

    def name_catalog(self, seq: int, digest: Any, report: VerifyReport) -> bool:
        """Note the catalog entry `seq` names (None: it names none); False, and a problem, if
        what it names is no digest."""
        if isinstance(digest, str):
            self.catalogs_named.setdefault(digest, seq)
        elif digest is not None:
            report.add("catalogs", f"entry {seq}: its catalog is not a digest")
            return False
        return True

    def check_time(self, seq: int, recorded_at: Any, report: VerifyReport) -> None:
        """Entry `seq` was recorded at a time (ISO 8601), not before the entry ahead of it: the
        ledger never dates an entry into a past the journal has left (`--redecide` decides each
        command at its recorded time, so a backdated one would be judged by an earlier day)."""
        try:
            moment = dt.datetime.fromisoformat(recorded_at)
        except (TypeError, ValueError):
            report.add(
                "journal", f"entry {seq}: its recorded time {_shown(recorded_at)} is no time"
            )
            return
        moment = as_utc(moment)
        if self.last_recorded is not None and moment < self.last_recorded[1]:
            before, at = self.last_recorded
            message = f"entry {seq} was recorded at {recorded_at}, before entry {before} ({at})"
            report.add("journal", message)
            return
        self.last_recorded = (seq, moment)

    def check_counters(self, seq: int, counters: tuple[Any, Any], report: VerifyReport) -> None:
        """Invariant 7 at entry `seq`, once its effects are applied: a row carrying the id
        counters (each commit's last row does; the others carry none) carries exactly one past
        the highest block and issuance ids made so far, as the writer's cache had them."""
        if counters == (None, None):
            return
        made = (self.block_id_made_max + 1, self.issuance_id_made_max + 1)
        if counters != made:
            report.add(
                "head",
                f"entry {seq} carries the id counters {counters}, but the entries up to it "
                f"leave {made}",
            )

    def _apply_rare(self, seq: int, tag: str, effect: list[Any], report: VerifyReport) -> None:
        if tag == "unblock":
            self.blocks.remove(effect[1])
            if effect[1] in self.final_blocks:
                _changed_final(seq, effect[1], self.final_blocks.pop(effect[1]), report)
        elif tag == "account":
            self.accounts[effect[1]] = tuple(effect[1:])
        elif tag == "hold":
            self.holds[effect[1]] = tuple(effect[1:])
        elif tag == "issuance":
            self.issuances[effect[1]] = (*effect[1:8], seq)
            self.issuance_id_made_max = max(self.issuance_id_made_max, effect[1])
        elif tag == "attributes":
            self.attributes[effect[1]] = exact_size(canonical(effect[2]))

    def block_digest(self) -> str:
        in_order = self.blocks.in_order()
        digest = RowDigest()
        for start in range(0, len(in_order), DIGEST_CHUNK_ROWS):
            digest.add_encoded_rows(in_order[start : start + DIGEST_CHUNK_ROWS])
        return digest.hexdigest()

    def block_effects(self) -> Iterator[tuple[int, list[Any]]]:
        """(block_id, its last effect decoded), for the rare readers of every field."""
        for block_id, encoded in self.blocks.items():
            yield block_id, orjson.loads(b"[" + encoded + b"]")


def _changed_final(seq: int, block_id: int, state: str, report: VerifyReport) -> None:
    report.add("finality", f"entry {seq} changes block {block_id}, which was already {state}")


def _skip_malformed(seq: int, position: int, effect: Any, report: VerifyReport) -> None:
    if len(report.problems) >= PROBLEMS_REPORTED_MAX:
        return  # a journal of malformed effects is not described a million times
    problem = effect_problem(effect) or f"{_shown(effect)} is not an effect the replay can read"
    report.add("replay", f"entry {seq}, effect {position}: {problem}")


JOURNAL_QUERY = "SELECT seq, payload, previous_hash, entry_hash FROM journal ORDER BY seq"


def _check_chain(
    store: SqlStore, report: VerifyReport, total_entries: int, progress: Progress | None
) -> None:
    """Check each link of the hash chain (SHA-256 over the stored bytes, no decoding)."""
    checker = ChainChecker()
    for seq, payload, previous_hash, entry_hash in store.stream(JOURNAL_QUERY):
        problem = checker.check(seq, bytes(payload), previous_hash, entry_hash)
        if problem is not None:
            report.add("chain", problem)
        report.entries += 1
        if progress is not None and report.entries % PROGRESS_EVERY_ENTRIES == 0:
            progress(report.entries, total_entries)


def _replay_journal(store: SqlStore, report: VerifyReport) -> ReplayState:
    """Apply each entry's effects, in order, to an empty state."""
    replay = ReplayState(blocks=ReplayedBlocks(store.load_head().next_block_id))
    loads = orjson.loads
    for row in store.stream(
        "SELECT seq, command_id, command_kind, recorded_at, payload, next_block_id, "
        "next_issuance_id FROM journal ORDER BY seq"
    ):
        try:
            entry = loads(bytes(row[4]))
            for problem in copied_column_problems(row[:4], entry):
                report.add("journal", problem)
            replay.apply(row[0], entry["effects"], report)
            replay.name_catalog(row[0], entry.get("catalog"), report)
            replay.check_time(row[0], entry["recorded_at"], report)
        except (orjson.JSONDecodeError, KeyError, TypeError, IndexError):
            report.add("chain", f"entry {row[0]}: payload is not a valid journal entry")
        replay.check_counters(row[0], (row[5], row[6]), report)
    return replay


COPIED_COLUMNS = ("seq", "command_id", "command_kind", "recorded_at")
"""A journal row's columns that repeat what its hashed payload says (for lookups and listings):
a command id changed in its column alone would let the original id be applied again."""


def copied_column_problems(columns: Sequence[Any], entry: Mapping[str, Any]) -> list[str]:
    """Where `columns` (the COPIED_COLUMNS of a row or an exported line) contradict the decoded
    payload `entry`; [] when they agree. Raises KeyError or TypeError for a malformed entry."""
    command = entry["command"]
    hashed = (entry["seq"], command["command_id"], command["kind"], entry["recorded_at"])
    if tuple(columns) == hashed:
        return []
    return [
        f"entry {columns[0]}: its {name} column says {column!r}, its hashed payload {in_payload!r}"
        for name, column, in_payload in zip(COPIED_COLUMNS, columns, hashed, strict=True)
        if column != in_payload
    ]


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


BLOCK_QUERY = f"SELECT {BLOCK_COLUMNS} FROM blocks"
HELD_BLOCKS_QUERY = f"{BLOCK_QUERY} WHERE hold_id IS NOT NULL"
HOLDS_QUERY = "SELECT hold_id, account_id, quantity, status, purpose FROM holds"


def _live_state(store: SqlStore) -> ReplayState:
    """The live tables small enough to compare row by row (blocks and history are digested)."""
    live = ReplayState()
    for row in store.stream(
        "SELECT issuance_id, serial_space, first_serial, last_serial, "
        "attributes_id, account_id, lineage, seq FROM issuances"
    ):
        live.issuances[row[0]] = row
    for row in store.query("SELECT account_id, registry, kind, holder, status FROM accounts"):
        live.accounts[row[0]] = tuple(row)
    live.holds = _live_holds(store)
    return live


def _live_holds(store: SqlStore) -> dict[str, tuple[Any, ...]]:
    return {row[0]: tuple(row) for row in store.query(HOLDS_QUERY)}


def _live_attributes(store: SqlStore, live: ReplayState, report: VerifyReport) -> None:
    """Attribute rows are content-addressed: the id is the hash of the record, and the searchable
    columns must say what the record says."""
    for row in store.query(f"SELECT {ATTRIBUTES_COLUMNS} FROM unit_attributes"):
        attributes_id, record = row[0], bytes(row[-1])
        try:
            decoded = orjson.loads(record)
            hashed_id = UnitAttributes.from_record(decoded).attributes_id
            columns = attributes_row(attributes_id, decoded)[:-1]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            report.add("replay", f"attributes {attributes_id}: record is not an attribute record")
            continue
        live.attributes[attributes_id] = exact_size(canonical(decoded))
        if hashed_id != attributes_id:
            report.add("replay", f"attributes {attributes_id}: record does not hash to its id")
        if tuple(row[:-1]) != columns:
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


@dataclass(slots=True)
class ReplaySummary:
    """What verify needs from the replay: digests to compare with the live tables' digests, and
    the problems found while replaying and comparing the small tables."""

    head_seq: int
    issuances: int
    block_id_made_max: int
    issuance_id_max: int
    block_digest: str
    account_history_digest: str
    serial_history_digest: str
    catalogs_named: dict[str, int] = field(default_factory=dict)
    problems: list[tuple[str, str]] = field(default_factory=list)


def summarize_replay(store: SqlStore) -> tuple[ReplaySummary, ReplayState]:
    """Replay the journal and compare the small tables, in the caller's read transaction. The
    state comes back too: a worker about to exit keeps it rather than free it object by object.
    It reads no read model (blocks, history): a worker reads the tables as committed, and the
    verifying process may be reading its private copies, brought up to the journal
    (`Ledger.audit`)."""
    report = VerifyReport()
    head_seq = store.load_head().seq
    replayed = _replay_journal(store, report)
    _compare_small_tables(store, replayed, report)
    account_digest, serial_digest = history_digests(replayed.history)
    summary = ReplaySummary(
        head_seq=head_seq,
        issuances=report.issuances,
        block_id_made_max=replayed.block_id_made_max,
        issuance_id_max=replayed.issuance_id_made_max,
        block_digest=replayed.block_digest(),
        account_history_digest=account_digest,
        serial_history_digest=serial_digest,
        catalogs_named=replayed.catalogs_named,
        problems=[(problem.invariant, problem.message) for problem in report.problems],
    )
    return summary, replayed


def summarize_replay_at(database: str) -> tuple[ReplaySummary, ReplayState]:
    """The worker's entry point: its own connection and read transaction."""
    store = open_store(database, migrate=False, must_exist=True)
    try:
        store.read_once_through()
        store.begin_read()
        return summarize_replay(store)
    finally:
        store.rollback()
        store.close()


class ReplayWorker:
    """`summarize_replay_at` in a child interpreter (`python -m carbonex.ledger.replay_worker`):
    no fork of a process that may hold connections or threads, and no re-import of the caller's
    main module. The database URL goes through stdin, never the process list."""

    def __init__(self, database: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "carbonex.ledger.replay_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        if self.process.stdin is None:
            raise RuntimeError("the worker's stdin was not opened")
        self.process.stdin.write(database.encode())
        self.process.stdin.close()

    def result(self) -> ReplaySummary:
        if self.process.stdout is None:
            raise RuntimeError("the worker's stdout was not opened")
        output = self.process.stdout.read()
        self.process.wait(timeout=WORKER_SECONDS_MAX)
        if self.process.returncode != 0:
            raise RuntimeError(f"the verify worker exited with {self.process.returncode}")
        record = orjson.loads(output)
        record["problems"] = [tuple(problem) for problem in record["problems"]]
        return ReplaySummary(**record)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def verify_store(store: SqlStore, progress: Progress | None = None) -> VerifyReport:
    # Verify builds millions of tuples that are never cyclic garbage; letting the collector
    # rescan them costs about a third of the run.
    with collector_paused():
        return _verify(store, progress)


def _verify(store: SqlStore, progress: Progress | None) -> VerifyReport:
    """The checks, then, when they fail or find a problem, invariant 0: values the ledger never
    writes (a text where a serial belongs, say), which the checks cannot read. A check that
    fails on a ledger holding none is a bug, and rises."""
    try:
        report = _check(store, progress)
    except Exception:
        store.rollback()  # PostgreSQL refuses every statement after an error until then
        store.begin_read()
        outside = value_problems(store)
        if not outside:
            raise
        report = VerifyReport()
    else:
        outside = [] if report.ok else value_problems(store)
    for problem in outside:
        report.add("values", problem)
    return report


def _check(store: SqlStore, progress: Progress | None) -> VerifyReport:
    """For a large ledger the replay, which holds every block in memory, runs in a second process
    while this one checks the chain and the live tables."""
    report = VerifyReport()
    head = store.load_head()
    if head.projected_seq != head.seq:
        report.add(
            "projection",
            f"the read models show entries up to {head.projected_seq}; the journal goes to "
            f"{head.seq}",
        )
    worker = None
    if head.next_block_id > PARALLEL_VERIFY_BLOCKS_MIN and ":memory:" not in store.url:
        worker = ReplayWorker(store.url)
    try:
        _check_chain(store, report, head.seq, progress)
        live = summarize_live(store)
        replayed = worker.result() if worker is not None else summarize_replay(store)[0]
    finally:
        if worker is not None:
            worker.stop()
    if replayed.head_seq != head.seq:  # a writer committed between the two read transactions
        replayed = summarize_replay(store)[0]
    report.blocks, report.issuances = live.blocks, replayed.issuances
    _check_head(store, head, replayed, report)
    _check_catalogs(store, replayed.catalogs_named, report)
    for invariant, message in (*replayed.problems, *live.problems):
        report.add(invariant, message)
    _check_holds(store.query(HELD_BLOCKS_QUERY), _live_holds(store), report)
    if (
        live.block_digest != replayed.block_digest
        or live.account_history_digest != replayed.account_history_digest
        or live.serial_history_digest != replayed.serial_history_digest
    ):
        _compare_in_detail(store, report)
    return report


def _check_head(store: SqlStore, head: Head, replayed: ReplaySummary, report: VerifyReport) -> None:
    """The head's counters against every id the journal ever made (the tables alone would miss
    a block merged away, or one made by an entry not projected yet) and the tables hold."""
    stored = store.load_id_ends()
    taken = IdEnds(
        max(stored.block_id_max, replayed.block_id_made_max),
        max(stored.issuance_id_max, replayed.issuance_id_max),
    )
    for problem in head_problems(head, taken):
        report.add("head", problem)


def _check_catalogs(store: SqlStore, named: Mapping[str, int], report: VerifyReport) -> None:
    """Invariant 8: the catalogs kept are exactly those the entries name, each record whole and
    kept with the first entry naming it."""
    kept = store.load_catalog_records(limit=CATALOGS_MAX + 1)
    if len(kept) > CATALOGS_MAX:
        report.add("catalogs", f"the ledger keeps more than {CATALOGS_MAX} catalogs")
    for digest, record, first_seq in kept[:CATALOGS_MAX]:
        found = kept_catalog(digest, record)
        if isinstance(found, str):
            report.add("catalogs", f"catalog {digest}: {found}")
        elif digest in named and named[digest] != first_seq:
            report.add(
                "catalogs",
                f"catalog {digest} is kept as first named by entry {first_seq}; entry "
                f"{named[digest]} is",
            )
    stored = {row.digest for row in kept}
    for digest in sorted(named.keys() - stored):
        report.add("catalogs", f"entries name catalog {digest}, which the ledger does not keep")
    for digest in sorted(stored - named.keys()):
        report.add("catalogs", f"catalog {digest} is kept but no entry names it")


def kept_catalog(digest: str, record: bytes) -> Catalog | str:
    """The catalog a ledger keeps under `digest`, or why its record is none."""
    if catalog_digest(record) != digest:
        return "its record does not hash to its digest"
    try:
        return Catalog.from_record(orjson.loads(record))
    except (orjson.JSONDecodeError, CatalogError) as error:
        return f"its record is not a catalog ({error})"


def _compare_small_tables(store: SqlStore, replayed: ReplayState, report: VerifyReport) -> None:
    """Issuances, accounts, holds and attributes: few enough rows to compare one by one."""
    live = _live_state(store)
    report.issuances = len(live.issuances)
    _compare("issuance", live.issuances, replayed.issuances, report)
    _compare("account", live.accounts, replayed.accounts, report)
    _compare("hold", live.holds, replayed.holds, report)
    _live_attributes(store, live, report)
    _compare("attributes", live.attributes, replayed.attributes, report)


def _compare_in_detail(store: SqlStore, report: VerifyReport) -> None:
    """The digests disagree: replay again keeping everything, and name the differences."""
    replayed = _replay_journal(store, VerifyReport())
    live_blocks = {row[0]: row for row in store.stream(BLOCK_QUERY)}
    replayed_blocks = {block_id: tuple(effect[1:]) for block_id, effect in replayed.block_effects()}
    _compare("block", live_blocks, replayed_blocks, report)
    live, _problems = live_history(store)
    _compare("history of account", live.accounts, replayed.history.accounts, report)
    _compare("history of serial bucket", live.serials, replayed.history.serials, report)
