"""The journal as a file anyone can check without the operator's database.

`export_lines` writes one JSON line per entry: seq, command_id, command_kind, recorded_at,
previous_hash, entry_hash and the payload as a string holding its exact stored bytes (the chain
hashes those bytes, so nothing is re-encoded); just before the first entry naming a catalog, a
line holding that catalog (catalog: its digest, record: its canonical record as a string), so the
file carries the rules its entries were decided under. `check_export` reads such a file alone:
the chain from the genesis hash, an optional head hash published by the registry, the catalogs
(each record against its digest; an entry naming one must find it earlier in the file), and the
totals per unit type that replaying the entries' effects gives, to compare with the registry's
published totals; it lists the catalogs the entries name.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import orjson

from carbonex.catalog import Catalog
from carbonex.ledger.journal import GENESIS_HASH, ChainChecker, JournalRow
from carbonex.ledger.limits import CATALOGS_MAX
from carbonex.ledger.model import FINAL_STATES, BlockState
from carbonex.ledger.queries import STATES, empty_totals
from carbonex.ledger.verify import (
    COPIED_COLUMNS,
    ReplayState,
    VerifyReport,
    copied_column_problems,
    kept_catalog,
)
from carbonex.store import SqlStore
from carbonex.store.sql import KeptCatalog

EXPORT_LINE_BYTES_MAX = 64_000_000
"""A longer line is refused unread (an entry naming 100,000 blocks takes ~15 MB)."""
EXPORT_QUERY = (
    "SELECT seq, command_id, command_kind, recorded_at, previous_hash, entry_hash, payload "
    "FROM journal ORDER BY seq"
)
EXPORT_PAGE_QUERY = EXPORT_QUERY.replace(
    "FROM journal ORDER BY", "FROM journal WHERE seq > ? ORDER BY"
)
LINE_FIELDS = ("seq", "command_id", "command_kind", "recorded_at", "previous_hash", "entry_hash")
PROBLEMS_MAX = 50
TOTAL_NAMES = tuple(empty_totals())
# Where a block effect ("block", block_id, issuance_id, serial_space, first_serial, last_serial,
# account_id, state, attributes_id, hold_id) and an issuance record keep what the totals need.
BLOCK_FIRST, BLOCK_LAST, BLOCK_STATE, BLOCK_ATTRIBUTES, BLOCK_HOLD = 4, 5, 7, 8, 9
BLOCK_FIELDS = 10
ISSUANCE_FIRST, ISSUANCE_LAST, ISSUANCE_ATTRIBUTES = 2, 3, 4
ISSUANCE_FIELDS = 8
"""An issuance effect's seven fields after its tag, and the seq of the entry that made it."""


class UnexportableError(ValueError):
    """A stored value no exported line can hold as it is (a payload that is not UTF-8, which
    the ledger never writes): the export stops, naming the entry or catalog, and writes nothing
    that would pass for the journal."""


def _line(row: Sequence[Any]) -> bytes:
    record = dict(zip(LINE_FIELDS, row[:6], strict=True))
    record["payload"] = _stored_text(row[6], f"journal entry {row[0]}: its payload")
    try:
        return orjson.dumps(record) + b"\n"
    except orjson.JSONEncodeError as error:  # SQLite keeps any type in any column
        raise UnexportableError(
            f"journal entry {row[0]}: its columns hold values no exported line can hold "
            f"({error}); carbonex verify names them"
        ) from None


def _catalog_line(kept: KeptCatalog) -> bytes:
    record = _stored_text(kept.record, f"catalog {kept.digest}: its record")
    return orjson.dumps({"catalog": kept.digest, "record": record}) + b"\n"


def _stored_text(stored: Any, what: str) -> str:
    """The exact stored bytes of a payload or catalog record as the text a line holds them in."""
    if not isinstance(stored, bytes | bytearray | memoryview):
        raise UnexportableError(
            f"{what} is stored as {type(stored).__name__}, not bytes; carbonex verify names it"
        )
    try:
        return bytes(stored).decode()
    except UnicodeDecodeError as error:
        raise UnexportableError(
            f"{what} is not UTF-8 (byte {error.start}), so no exported line can hold it as "
            "stored; carbonex verify names what is wrong"
        ) from None


def _catalog_lines(store: SqlStore, after_seq: int = 0) -> dict[int, list[bytes]]:
    """The lines of the catalogs first named after entry `after_seq`, by the entry each goes
    before (the first naming it)."""
    lines: dict[int, list[bytes]] = {}
    for kept in store.load_catalog_records(first_seq_after=after_seq):
        lines.setdefault(kept.first_seq, []).append(_catalog_line(kept))
    return lines


def export_lines(store: SqlStore) -> Generator[bytes, None, None]:
    """Every journal entry as one line, in sequence order, in the caller's read transaction; one
    item per entry: the first entry naming a catalog comes with that catalog's line before it.
    A reader stopping early closes it while the connection is open (it reads through a cursor).
    Raises UnexportableError naming an entry whose stored values no line can hold."""
    catalogs = _catalog_lines(store)
    for row in store.stream(EXPORT_QUERY):
        yield b"".join([*catalogs.get(row[0], ()), _line(row)])


def export_page(
    store: SqlStore, after_seq: int, limit: int, bytes_max: int
) -> tuple[list[bytes], int]:
    """The lines of up to `limit` entries after `after_seq`, stopping once `bytes_max` is
    reached (always at least one entry, whatever its size), and the last seq sent (`after_seq`
    if none): pages a client concatenates into the file `check_export` reads."""
    lines: list[bytes] = []
    catalogs = _catalog_lines(store, after_seq)
    entries, size, last_seq = 0, 0, after_seq
    for row in store.stream(EXPORT_PAGE_QUERY, (after_seq,)):
        if entries >= limit or (lines and size >= bytes_max):
            break
        sent = [*catalogs.get(row[0], ()), _line(row)]
        lines += sent
        entries, size, last_seq = entries + 1, size + sum(map(len, sent)), row[0]
    return lines, last_seq


@dataclass(slots=True)
class CatalogNamed:
    first_seq: int
    entries: int


@dataclass(slots=True)
class ExportCheck:
    entries: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    problems: list[str] = field(default_factory=list)
    totals: dict[str, dict[str, int]] = field(default_factory=dict)
    """Unit type -> issued, held, on_hold, retired, ... replayed from the effects alone."""
    redecided: int | None = None
    """Entries whose commands were decided again and gave the recorded entry (None: not run)."""
    catalogs: dict[str | None, CatalogNamed] = field(default_factory=dict)
    """The catalog digest entries name (None: entries naming none) -> where, in file order."""
    catalogs_held: dict[str, Catalog] = field(default_factory=dict)
    """The catalogs the file holds (each line's record checked against its digest)."""
    catalogs_unlisted_entries: int = 0
    """Entries naming a catalog beyond the first CATALOGS_MAX (a hostile file could name any
    number)."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def named(self, seq: int, digest: str | None) -> None:
        found = self.catalogs.get(digest)
        if found is not None:
            found.entries += 1
            return
        if digest is not None and digest not in self.catalogs_held:
            self.add(f"entry {seq} names catalog {digest}, which the file does not hold before it")
        if len(self.catalogs) < CATALOGS_MAX:
            self.catalogs[digest] = CatalogNamed(seq, 1)
        else:
            self.catalogs_unlisted_entries += 1

    def add(self, problem: str) -> None:
        if len(self.problems) < PROBLEMS_MAX:
            self.problems.append(problem)

    def to_record(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "problems": self.problems,
            "totals_by_unit_type": self.totals,
            "redecided": self.redecided,
            "catalogs": [
                {"catalog": digest, "first_seq": named.first_seq, "entries": named.entries}
                for digest, named in self.catalogs.items()
            ],
            "catalogs_unlisted_entries": self.catalogs_unlisted_entries,
        }


def check_export(
    lines: Iterable[bytes],
    expected_head_hash: str | None = None,
    anchors: Mapping[int, str] | None = None,
) -> ExportCheck:
    """Check an exported journal: each line well formed, the chain unbroken from genesis, the
    last entry's hash equal to `expected_head_hash` if given, and each anchor (seq -> the hash
    recorded for that entry earlier, e.g. a head published last month) still in the history;
    replay the effects for the totals."""
    check, chain, replay, replay_report = (
        ExportCheck(),
        ChainChecker(),
        ReplayState(),
        VerifyReport(),
    )
    unmet = dict(anchors or {})
    for number, line in enumerate(lines, 1):
        entry = _read_line(number, line, check)
        if entry is None:
            continue
        if isinstance(entry, ExportedCatalog):
            _hold_catalog(number, entry, check)
            continue
        seq, payload, previous_hash, entry_hash, columns = entry
        problem = chain.check(seq, payload, previous_hash, entry_hash)
        if problem is not None:
            check.add(problem)
        if seq in unmet and unmet.pop(seq) != entry_hash:
            check.add(
                f"entry {seq}: hash differs from the one recorded earlier (history rewritten)"
            )
        _replay_entry(columns, payload, replay, replay_report, check)
        check.entries, check.head_seq, check.head_hash = check.entries + 1, seq, entry_hash
    for seq in sorted(unmet):
        check.add(f"entry {seq}, recorded earlier, is not in the file")
    if expected_head_hash is not None and check.head_hash != expected_head_hash:
        check.add(
            f"the last entry's hash {check.head_hash} is not the published head "
            f"{expected_head_hash}: the file is incomplete or its history was rewritten"
        )
    for found in replay_report.problems:
        check.add(f"{found.invariant}: {found.message}")
    check.totals = replayed_totals(replay, check)
    return check


def recorded_entries(lines: Iterable[bytes]) -> Iterator[JournalRow]:
    """The well-formed lines' entries, for deciding their commands again (`redecide_entries`);
    the others are reported by `check_export`."""
    for line in lines:
        entry = _entry_of(line) if len(line) <= EXPORT_LINE_BYTES_MAX else None
        if entry is not None and not isinstance(entry, ExportedCatalog):
            seq, payload, previous_hash, entry_hash, (_, command_id, kind, recorded_at) = entry
            yield JournalRow(seq, command_id, kind, payload, previous_hash, entry_hash, recorded_at)


ExportedEntry = tuple[int, bytes, str, str, tuple[Any, ...]]
"""(seq, payload bytes, previous hash, entry hash, the copied columns: seq, command id, command
kind, recorded at) of a well-formed line."""


class ExportedCatalog(NamedTuple):
    digest: str
    record: bytes


def _hold_catalog(number: int, line: ExportedCatalog, check: ExportCheck) -> None:
    found = kept_catalog(line.digest, line.record)
    if isinstance(found, str):
        check.add(f"line {number}: catalog {line.digest}: {found}")
    elif len(check.catalogs_held) >= CATALOGS_MAX:
        check.add(f"line {number}: the file holds more than {CATALOGS_MAX} catalogs")
    else:
        check.catalogs_held[line.digest] = found


def _read_line(
    number: int, line: bytes, check: ExportCheck
) -> ExportedEntry | ExportedCatalog | None:
    if len(line) > EXPORT_LINE_BYTES_MAX:
        check.add(f"line {number}: longer than {EXPORT_LINE_BYTES_MAX} bytes")
        return None
    entry = _entry_of(line)
    if entry is None:
        check.add(f"line {number}: not an exported journal entry")
    return entry


def _entry_of(line: bytes) -> ExportedEntry | ExportedCatalog | None:
    """The entry or catalog a well-formed line holds, else None."""
    try:
        record = orjson.loads(line)
        if isinstance(record, dict) and "catalog" in record and "seq" not in record:
            return _catalog_of(record)
        seq, payload = record["seq"], record["payload"]
        previous_hash, entry_hash = record["previous_hash"], record["entry_hash"]
        columns = tuple(record[name] for name in COPIED_COLUMNS)
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return None
    texts = (payload, previous_hash, entry_hash)
    if not isinstance(seq, int) or not all(isinstance(text, str) for text in texts):
        return None
    return seq, payload.encode(), previous_hash, entry_hash, columns


def _catalog_of(record: dict[str, Any]) -> ExportedCatalog | None:
    digest, text = record["catalog"], record.get("record")
    if not isinstance(digest, str) or not isinstance(text, str):
        return None
    return ExportedCatalog(digest, text.encode())


def _replay_entry(
    columns: tuple[Any, ...],
    payload: bytes,
    replay: ReplayState,
    report: VerifyReport,
    check: ExportCheck,
) -> None:
    try:
        entry = orjson.loads(payload)
        for problem in copied_column_problems(columns, entry):
            check.add(problem)
        replay.apply(columns[0], entry["effects"], report)
        digest = entry.get("catalog")
        if replay.name_catalog(columns[0], digest, report):
            check.named(columns[0], digest)
        replay.check_time(columns[0], entry["recorded_at"], report)
    except (orjson.JSONDecodeError, KeyError, TypeError, IndexError):
        check.add(f"entry {columns[0]}: payload is not a valid journal entry")


def replayed_totals(replay: ReplayState, check: ExportCheck) -> dict[str, dict[str, int]]:
    """Totals per unit type from the replayed issuances and blocks, as `Ledger.summary` gives
    them per unit type from the live tables. A file's hashes prove only that it was not changed
    after it was made: a record its effects left that cannot be counted is named, not counted."""
    unit_types = {
        attributes_id: _unit_type(record) for attributes_id, record in replay.attributes.items()
    }
    totals: dict[str, dict[str, int]] = {}

    def bucket(attributes_id: str) -> dict[str, int]:
        unit_type = unit_types.get(attributes_id, "unknown")
        return totals.setdefault(unit_type, empty_totals())

    for issuance_id, issuance in replay.issuances.items():
        if not _counted(f"issuance {issuance_id}", _issuance_problem(issuance), check):
            continue
        quantity = issuance[ISSUANCE_LAST] - issuance[ISSUANCE_FIRST] + 1
        bucket(issuance[ISSUANCE_ATTRIBUTES])["issued"] += quantity
    for block_id, block in replay.block_effects():
        if not _counted(f"block {block_id}", _block_problem(block), check):
            continue
        quantity = block[BLOCK_LAST] - block[BLOCK_FIRST] + 1
        state = block[BLOCK_STATE]
        counts = bucket(block[BLOCK_ATTRIBUTES])
        counts["held" if state == BlockState.ACTIVE.value else state] += quantity
        if block[BLOCK_HOLD] is not None:
            counts["on_hold"] += quantity
    for unit_type, counts in sorted(totals.items()):
        in_blocks = counts["held"] + sum(counts[state] for state in FINAL_STATES)
        if in_blocks != counts["issued"]:
            check.add(
                f"unit type {unit_type}: the entries issue {counts['issued']} units and leave "
                f"{in_blocks} in blocks (units made or lost outside an issuance)"
            )
    return dict(sorted(totals.items()))


def _unit_type(record: bytes) -> str:
    decoded = orjson.loads(record)
    return str(decoded.get("unit_type")) if isinstance(decoded, dict) else "unknown"


def _counted(name: str, problem: str | None, check: ExportCheck) -> bool:
    if problem is not None:
        check.add(f"{name}, as the entries leave it, cannot be counted: {problem}")
    return problem is None


def _is_range(first: Any, last: Any) -> bool:
    """Two serials as the ledger writes them: integers (not booleans), first <= last."""
    return type(first) is int and type(last) is int and first <= last


def _block_problem(block: list[Any]) -> str | None:
    """Why a replayed block effect cannot be counted, or None."""
    if len(block) != BLOCK_FIELDS:
        return f"a block effect has {BLOCK_FIELDS} fields, this one {len(block)}"
    if not _is_range(block[BLOCK_FIRST], block[BLOCK_LAST]):
        return "its serials are not a range of integers"
    state, hold = block[BLOCK_STATE], block[BLOCK_HOLD]
    if not isinstance(state, str) or state not in STATES:
        return f"its state {state!r} is none of {', '.join(STATES)}"
    if not isinstance(block[BLOCK_ATTRIBUTES], str) or not isinstance(hold, str | None):
        return "its attributes or hold is not an id"
    return None


def _issuance_problem(issuance: tuple[Any, ...]) -> str | None:
    """Why a replayed issuance (its effect's fields and the seq) cannot be counted, or None."""
    if len(issuance) != ISSUANCE_FIELDS:
        return f"an issuance effect has {ISSUANCE_FIELDS - 1} fields, this one {len(issuance) - 1}"
    if not _is_range(issuance[ISSUANCE_FIRST], issuance[ISSUANCE_LAST]):
        return "its serials are not a range of integers"
    if not isinstance(issuance[ISSUANCE_ATTRIBUTES], str):
        return "its attributes is not an id"
    return None
