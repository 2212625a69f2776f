"""Deciding a journal's commands again: every entry's effects must follow from its command.

The hash chain shows that no entry changed since a head was published, and replaying the effects
shows that the tables follow from the entries. Neither shows that an entry's effects follow from
its command: whoever can write the journal can record a transfer of 5 t whose effects move 500 t,
or rewrite a command and recompute every hash after it, and both checks still pass until a
published head exposes it. Here each entry's command is decided again, at its recorded time and
under the catalog it names, on a scratch ledger in a temporary directory; the entry that makes
must be the recorded one byte for byte (same seq, command, effects, time and catalog: the same
hash).

Every entry names the digest of the catalog it was decided under (`Catalog.digest`), so a change
of rules is part of the hashed history, and an entry is decided again under its own rules: the
catalog in force, or one of the earlier catalogs given. An entry naming a catalog that none given
matches is reported as such, not as a forgery. Entries recorded before entries named their
catalog are decided under the catalog in force; for them a rule change since and a forgery look
alike, and the message says so.

The first entry that differs is reported and the run stops there: after it, the scratch ledger no
longer holds the recorded history.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from itertools import groupby, islice
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

import orjson

from carbonex.catalog import Catalog
from carbonex.ledger.commands import Command, CommandFormatError, command_from_record
from carbonex.ledger.journal import JournalRow
from carbonex.ledger.outcomes import Accepted, Outcome, Refused
from carbonex.ledger.service import Ledger
from carbonex.ledger.verify import kept_catalog
from carbonex.store import SqlStore
from carbonex.text import shortened

REDECIDE_UNIT_ENTRIES = 1_000
"""Entries decided again per commit of the scratch ledger (a group commit's size: larger units
hold more effects in memory and gain nothing measurable)."""
SHOWN_TEXT_LENGTH_MAX = 240
"""An effect quoted in a message is cut to this many characters."""
SCRATCH_FILE_NAME = "redecide.db"


@dataclass(frozen=True, slots=True)
class Divergence:
    seq: int
    command_id: str
    message: str

    def describe(self) -> str:
        named = f" ({self.command_id})" if self.command_id else ""
        return f"entry {self.seq}{named}: {self.message}"


@dataclass(slots=True)
class RedecideReport:
    entries: int = 0
    """Entries decided again and found as recorded."""
    divergence: Divergence | None = None

    @property
    def ok(self) -> bool:
        return self.divergence is None

    def to_record(self) -> dict[str, Any]:
        found = self.divergence
        return {
            "ok": self.ok,
            "entries": self.entries,
            "divergence": None
            if found is None
            else {"seq": found.seq, "command_id": found.command_id, "message": found.message},
        }


class _Readable(NamedTuple):
    entry: JournalRow
    command: Command
    recorded_at: str
    effects: list[Any]
    catalog_digest: str | None
    """The catalog the entry names; None for an entry recorded before entries named it."""


@dataclass(frozen=True, slots=True)
class _Rules:
    in_force: Catalog
    """Decides the entries that name no catalog."""
    by_digest: Mapping[str, Catalog]

    @classmethod
    def of(cls, in_force: Catalog, earlier: Sequence[Catalog]) -> _Rules:
        return cls(in_force, {catalog.digest: catalog for catalog in (*earlier, in_force)})


Progress = Callable[[int], None]
"""Called with the entries decided again so far, after each unit of work."""


def redecide_entries(
    entries: Iterable[JournalRow],
    catalog: Catalog,
    progress: Progress | None = None,
    scratch_database: str | None = None,
    earlier_catalogs: Sequence[Catalog] = (),
) -> RedecideReport:
    """Decide every entry's command again, in seq order from the first, on a scratch ledger;
    stop at the first entry that is not as recorded. Each entry is decided under the catalog it
    names, found among `catalog` (the one in force, which also decides entries naming none) and
    `earlier_catalogs`. `progress` gets the entries done so far. `scratch_database`: an empty
    ledger to decide into (by default a new SQLite file in a temporary directory, removed
    afterwards)."""
    rules = _Rules.of(catalog, earlier_catalogs)
    if scratch_database is not None:
        return _redecide_into(scratch_database, entries, rules, progress)
    with tempfile.TemporaryDirectory(prefix="carbonex-redecide-") as directory:
        scratch = str(Path(directory) / SCRATCH_FILE_NAME)
        return _redecide_into(scratch, entries, rules, progress)


def redecide_ledger(
    ledger: Ledger,
    progress: Callable[[int, int], None] | None = None,
    scratch_database: str | None = None,
    earlier_catalogs: Sequence[Catalog] = (),
) -> RedecideReport:
    """`redecide_entries` over the ledger's journal up to its head when called, with the
    ledger's catalog in force and the catalogs the ledger keeps (those its entries were decided
    under) besides `earlier_catalogs`; `progress` gets (entries done, entries to do). The journal
    is read a page at a time, each page in its own short read transaction (entries never
    change): an audit of a live registry holds no snapshot for its whole run, and ends however
    fast new entries arrive."""
    through_seq = int(ledger.head()["seq"])
    kept = ledger.read(kept_catalogs, False)
    entries = _journal_pages(ledger, through_seq)
    done = None if progress is None else partial(_progress_of, progress, through_seq)
    catalogs = [*kept, *earlier_catalogs]
    return redecide_entries(entries, ledger.catalog, done, scratch_database, catalogs)


def kept_catalogs(store: SqlStore) -> list[Catalog]:
    """The catalogs a ledger keeps, leaving out any whose record does not hash to its digest or
    describes no catalog (`verify` names those)."""
    kept = [kept_catalog(row.digest, row.record) for row in store.load_catalog_records()]
    return [catalog for catalog in kept if isinstance(catalog, Catalog)]


def _progress_of(progress: Callable[[int, int], None], total: int, done: int) -> None:
    progress(done, total)


def _journal_pages(ledger: Ledger, through_seq: int) -> Iterator[JournalRow]:
    after_seq = 0
    while after_seq < through_seq:
        entries = min(REDECIDE_UNIT_ENTRIES, through_seq - after_seq)
        yield from ledger.read(partial(_page, after_seq=after_seq, entries=entries), False)
        after_seq += entries


def _page(store: SqlStore, after_seq: int, entries: int) -> list[JournalRow]:
    return store.journal_rows_after(after_seq, entries)


def _redecide_into(
    database: str, entries: Iterable[JournalRow], rules: _Rules, progress: Progress | None
) -> RedecideReport:
    report = RedecideReport()
    scratch = Ledger.open(database, rules.in_force)
    try:
        if scratch.head()["seq"] != 0:
            raise ValueError(f"the scratch ledger {database} is not empty")
        for unit in _units(iter(entries)):
            readable, unreadable = _read_unit(unit)
            report.divergence = _decide_unit(scratch, rules, readable, report) or unreadable
            if report.divergence is not None:
                break
            if progress is not None:
                progress(report.entries)
    finally:
        scratch.close(project=False)  # nobody reads the scratch ledger's read models
    return report


def _units(entries: Iterator[JournalRow]) -> Iterator[list[JournalRow]]:
    while unit := list(islice(entries, REDECIDE_UNIT_ENTRIES)):
        yield unit


def _read_unit(unit: Sequence[JournalRow]) -> tuple[list[_Readable], Divergence | None]:
    """The unit's entries up to the first that cannot be read, and a divergence naming it."""
    readable: list[_Readable] = []
    for entry in unit:
        try:
            record = orjson.loads(entry.payload)
            command = command_from_record(record["command"])
            recorded_at, effects = record["recorded_at"], record["effects"]
            catalog_digest = record.get("catalog")
            if not isinstance(recorded_at, str) or not isinstance(effects, list):
                raise TypeError("recorded_at or effects of the wrong type")
            if catalog_digest is not None and not isinstance(catalog_digest, str):
                raise TypeError("catalog of the wrong type")
            dt.datetime.fromisoformat(recorded_at)
        except (
            orjson.JSONDecodeError,
            CommandFormatError,
            KeyError,
            TypeError,
            ValueError,
        ) as error:
            message = f"its payload holds no command that can be decided again: {error}"
            named = _command_id_in(entry.payload)
            return readable, Divergence(entry.seq, named, shortened(message, SHOWN_TEXT_LENGTH_MAX))
        readable.append(_Readable(entry, command, recorded_at, effects, catalog_digest))
    return readable, None


def _command_id_in(payload: bytes) -> str:
    """The command id an unreadable entry names, if it names one."""
    try:
        command_id = orjson.loads(payload)["command"]["command_id"]
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return ""
    return command_id if isinstance(command_id, str) else ""


def _decide_unit(
    scratch: Ledger, rules: _Rules, readable: Sequence[_Readable], report: RedecideReport
) -> Divergence | None:
    """Decide the unit's entries, each run naming one catalog in one commit."""
    for digest, same_catalog in groupby(readable, key=attrgetter("catalog_digest")):
        run = list(same_catalog)
        catalog = rules.in_force if digest is None else rules.by_digest.get(digest)
        if catalog is None:
            return _unknown_catalog(run[0], rules)
        entries = [(r.command, r.recorded_at) for r in run]
        outcomes = scratch.decide_recorded(entries, catalog, catalog_named=digest is not None)
        for found, outcome in zip(run, outcomes, strict=True):
            divergence = _compare(found, outcome)
            if divergence is not None:
                return divergence
            report.entries += 1
    return None


def _unknown_catalog(found: _Readable, rules: _Rules) -> Divergence:
    given = ", ".join(sorted(rules.by_digest))
    message = (
        f"it was decided under catalog {found.catalog_digest}, which no catalog given is "
        f"(given: {given}); decide it again with that catalog"
    )
    return Divergence(found.entry.seq, found.command.command_id, message)


def _compare(found: _Readable, outcome: Outcome) -> Divergence | None:
    entry, command_id = found.entry, found.command.command_id
    if isinstance(outcome, Accepted) and (outcome.seq, outcome.entry_hash) == (
        entry.seq,
        entry.entry_hash,
    ):
        return None
    return Divergence(entry.seq, command_id, _difference(found, outcome))


def _difference(found: _Readable, outcome: Outcome) -> str:
    """Why the entry decided again is not the recorded one, in words."""
    if found.catalog_digest is None:
        rules = "(the entry was not decided by these rules: forged, or recorded under other ones)"
    else:
        rules = (
            f"(not what catalog {found.catalog_digest}, which it names, decides: forged, or "
            "decided by another version of Carbonex)"
        )
    if isinstance(outcome, Refused):
        codes = ", ".join(outcome.codes)
        return f"its command, decided again at its recorded time, is refused ({codes}) {rules}"
    if outcome.duplicate:
        return f"its command id was already used by entry {outcome.seq}"
    decided = orjson.loads(orjson.dumps([list(effect) for effect in outcome.effects]))
    if decided == found.effects:
        return "decided again, it makes the same effects but another entry (seq, time or encoding)"
    change = _first_change(found.effects, decided)
    return f"its command, decided again, has other effects: {change} {rules}"


def _first_change(recorded: list[Any], decided: list[Any]) -> str:
    for position, (was, now) in enumerate(zip(recorded, decided, strict=False)):
        if was != now:
            return f"effect {position} recorded {_shown(was)}, decided {_shown(now)}"
    return f"{len(recorded)} effects recorded, {len(decided)} decided"


def _shown(value: Any) -> str:
    return shortened(orjson.dumps(value).decode(), SHOWN_TEXT_LENGTH_MAX)
