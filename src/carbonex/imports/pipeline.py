"""The import pipeline both importers share: a file's rows, chunk by chunk, in one transaction.

An importer turns a file into a stream of `PlannedRow` (the commands one row becomes) or
`RowProblem` (why it cannot). `run_import` reads the stream once, in one transaction: each chunk
of rows is one `submit_batch`. Not skipping bad rows, one bad row refuses the file and nothing is
imported. Skipping them, a chunk the ledger refuses is undone (a savepoint) and tried again row
by row, the refused rows are reported, and the rows that pass commit together.

Text the ledger records from a row (a beneficiary, a note, a methodology) is put on one line
(`planned_on_one_line`): an export may break a name over lines or hold a tab, and the ledger
takes free text on one line only. A row holding another character free text may not hold (an
escape, a bidirectional override: `carbonex.text.REFUSED_IN_TEXT`) is the ledger's to refuse,
and is reported with E_TEXT_CHARACTER_NOT_ALLOWED. An import by a Carbonex that took such text
recorded it as the file wrote it; each command it recorded so is submitted so again
(`submitted_commands`), so a re-import of the file still changes nothing.

A row whose vintage or registry date has not begun anywhere yet is a bad row (`admitted`).
"""

from __future__ import annotations

import bisect
import contextlib
import csv
import dataclasses
import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from carbonex.dates import latest_day
from carbonex.imports.report import ImportRefusedError, ImportReport, RowProblem
from carbonex.ledger import Accepted, Command, Issue, Refused, Transaction, UnitAttributes
from carbonex.ledger.journal import canonical, decode_payload
from carbonex.ledger.limits import BATCH_COMMANDS_MAX, COMMAND_ID_LENGTH_MAX, TEXT_FIELD_LENGTH_MAX
from carbonex.ledger.model import serial_space_of
from carbonex.text import on_one_line, shortened

if TYPE_CHECKING:
    from carbonex.ledger import Ledger

CHUNK_ROWS_DEFAULT = 1_000
"""Rows per all-or-nothing batch (each row is at most two commands)."""
COMMANDS_PER_ROW_MAX = 2
CHUNK_ROWS_MAX = BATCH_COMMANDS_MAX // COMMANDS_PER_ROW_MAX
HEADER_LINE = 1
BLOCKS_PER_ROW_MAX = 1_000
"""Blocks a row's range is looked for in among those imported before (`ImportedBefore`): an
export's row is one block, split at most a few times since; a range spread over more is left
to the ledger (which refuses it as overlapping)."""
LINE_CHARACTERS_MAX = 1_048_576
"""Characters of one line of a file read: a registry export's row is a few hundred characters.
The csv module bounds a field only once a whole line is read, so a line without end (a device,
a file of one endless line) would otherwise be held in memory whole."""

Progress = Callable[[int], None]
"""Called with the number of rows processed so far."""


@dataclass(frozen=True, slots=True)
class PlannedRow:
    line: int
    commands: tuple[Command, ...]
    """The issue (absent for units issued before: `issued_before`), then the retire or cancel
    (absent for a block left active)."""
    outcome: str
    """"retired", "cancelled" or "held"."""
    quantity: int
    earlier: tuple[tuple[Command, ...], ...] = ()
    """The same commands as earlier Carbonex versions planned them, where they differ: with the
    row's text as the file wrote it (before text was put on one line), or with an importer's
    earlier serial numbering. Empty otherwise."""
    days_begun: tuple[tuple[str, dt.date], ...] = ()
    """(what the row says, its first day) of each date the row states that must have begun by
    the time it is imported: its vintage's start, its registry's retirement date."""
    issued_before: bool = False
    """Its units are in blocks an earlier import issued (`ImportedBefore`): `commands` (and
    `earlier`) then leave the issue out."""


RowResult = PlannedRow | RowProblem
Planner = Callable[[], Iterator[RowResult]]
"""Streams the file from its start each time it is called."""


def bounded_text(text: str) -> str:
    """Text cut to the ledger's field length, marked with an ellipsis when cut."""
    return shortened(text, TEXT_FIELD_LENGTH_MAX)


def planned_on_one_line(
    plan: Callable[[dict[str, str]], PlannedRow],
    values: dict[str, str],
    free_text_columns: Collection[str],
    earlier_plans: Sequence[Callable[[dict[str, str]], PlannedRow]] = (),
) -> PlannedRow:
    """The row planned from `values` with its free-text columns on one line, with the commands
    an earlier Carbonex planned from them besides (`earlier`): from the values as written, when
    putting them on one line changed them, and by each of `earlier_plans` (an importer's earlier
    rules), from either. An earlier plan that refuses the row adds nothing."""
    one_line = {
        name: on_one_line(value) if name in free_text_columns else value
        for name, value in values.items()
    }
    planned = plan(one_line)
    texts = [one_line] if one_line == values else [one_line, values]
    candidates = [(plan, values)] if one_line != values else []
    candidates += [(earlier_plan, text) for earlier_plan in earlier_plans for text in texts]
    forms: list[tuple[Command, ...]] = []
    for earlier_plan, text in candidates:
        with contextlib.suppress(ValueError):
            commands = earlier_plan(text).commands
            if commands != planned.commands and commands not in forms:
                forms.append(commands)
    return dataclasses.replace(planned, earlier=tuple(forms)) if forms else planned


def admitted(row: PlannedRow, latest: dt.date) -> RowResult:
    """The row, or a problem when it states a vintage or a registry date that has not begun yet
    (`latest` is the latest day begun anywhere): a registry issues what was verified and
    retires what was used, never ahead of time. An admission rule of imports: the ledger takes
    such dates, and what an import recorded before stays as it is."""
    for said, day in row.days_begun:
        if day > latest:
            reason = f"{said} has not begun yet: the latest day begun anywhere is {latest}"
            return RowProblem(row.line, reason)
    return row


def checked(result: RowResult, latest: dt.date) -> RowResult:
    """A row as an import takes it: a problem stays one, a planned row must be `admitted`. What
    `run_import` and a check before importing (the import page's) both apply, so they agree."""
    return result if isinstance(result, RowProblem) else admitted(result, latest)


class ImportedBefore:
    """Finds the rows of a file whose units an earlier import issued (`row`), reading the ledger
    inside the import's transaction. A row overlapping an earlier row of the same file is never
    one of them: the blocks such a row lies in may be this file's own, imported a chunk ago or
    not yet (so that what a row becomes would depend on the chunk size), and a re-import must
    find such a row refused as it was. For that it keeps the union of the file's row ranges so
    far, as few disjoint ranges as it takes (two numbers each)."""

    def __init__(self, ledger: Ledger, account_id: str) -> None:
        self._ledger = ledger
        self._account_id = account_id
        self._ranges: dict[str, tuple[list[int], list[int]]] = {}
        """Serial space -> the firsts and the lasts of the disjoint ranges, in serial order."""

    def row(self, row: PlannedRow) -> PlannedRow:
        """The row; without its issue when every serial of its range is already in the account,
        in blocks of the same project and vintage, and no earlier row of the file overlaps it:
        units an earlier export imported, which a later export lists in parts (Verra splits a
        block when part of it is retired or cancelled). Its retirement or cancellation, if any,
        then applies to that part. A range reaching past them is left to the ledger to refuse
        (E_SERIAL_RANGE_OVERLAPS)."""
        issue = row.commands[0]
        if not isinstance(issue, Issue) or issue.first_serial is None or issue.registry is None:
            return row
        first, last = issue.first_serial, issue.first_serial + issue.quantity - 1
        space = serial_space_of(issue.registry, issue.attributes.unit_type)
        firsts, lasts = self._ranges.setdefault(space, ([], []))
        before = bisect.bisect_right(firsts, last) - 1
        in_file = before >= 0 and lasts[before] >= first
        _add_range(firsts, lasts, first, last)
        if in_file or not self._covered(issue, space, first, last):
            return row
        earlier = tuple(form[1:] for form in row.earlier)
        return dataclasses.replace(
            row, commands=row.commands[1:], earlier=earlier, issued_before=True
        )

    def _covered(self, issue: Issue, space: str, first: int, last: int) -> bool:
        state = self._ledger.state
        blocks = state.blocks_overlapping(space, first, last, BLOCKS_PER_ROW_MAX)
        if not blocks or len(blocks) > BLOCKS_PER_ROW_MAX:
            return False
        covered = 0
        for block in blocks:
            held = state.unit_attributes(block.attributes_id)
            if block.account_id != self._account_id or _units_of(held) != _units_of(
                issue.attributes
            ):
                return False
            covered += min(block.last_serial, last) - max(block.first_serial, first) + 1
        return covered == issue.quantity


def _add_range(firsts: list[int], lasts: list[int], first: int, last: int) -> None:
    """`first`..`last` added to the disjoint ranges `firsts`/`lasts`, merged with those it
    overlaps."""
    low = bisect.bisect_left(firsts, first)
    if low > 0 and lasts[low - 1] >= first:
        low -= 1
    high = bisect.bisect_right(firsts, last)
    if low < high:
        first, last = min(first, firsts[low]), max(last, lasts[high - 1])
    firsts[low:high], lasts[low:high] = [first], [last]


def _units_of(attributes: UnitAttributes) -> tuple[str, str, dt.date, dt.date]:
    """What says two blocks hold a project's units of one vintage."""
    return (
        attributes.unit_type,
        attributes.project_id,
        attributes.vintage_start,
        attributes.vintage_end,
    )


def submitted_commands(tx: Transaction, row: PlannedRow) -> list[Command]:
    """The row's commands; where the ledger recorded a command in a form an earlier Carbonex
    planned (`PlannedRow.earlier`), that form is submitted as it was recorded, a duplicate that
    changes nothing, where today's would be refused as a reused command id
    (E_COMMAND_ID_REUSED) or, under new serial numbering, issue the row again."""
    if not row.earlier:
        return list(row.commands)
    recorded_by_id: dict[str, bytes | None] = {}  # each command id read from the journal once
    submitted = []
    for place, command in enumerate(row.commands):
        forms = (form[place] for form in row.earlier if len(form) == len(row.commands))
        earlier = (form for form in forms if _recorded_as(tx, form, recorded_by_id))
        submitted.append(next(earlier, command))
    return submitted


def _recorded_as(
    tx: Transaction, command: Command, recorded_by_id: dict[str, bytes | None]
) -> bool:
    """Whether the journal holds `command`'s id for exactly this content (committed earlier:
    this import's own rows are one-line); `recorded_by_id` keeps what was read, by id."""
    if command.command_id not in recorded_by_id:
        row = tx.store.find_journal_row(command.command_id)
        content = None if row is None else canonical(decode_payload(row.payload)["command"])
        recorded_by_id[command.command_id] = content
    recorded = recorded_by_id[command.command_id]
    return recorded is not None and recorded == canonical(command.to_record())


def command_id(prefix: str, key: str, action: str) -> str:
    """`prefix:key:action`, or with the key hashed when that would be too long."""
    candidate = f"{prefix}:{key}:{action}"
    if len(candidate) <= COMMAND_ID_LENGTH_MAX:
        return candidate
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{prefix}:sha256-{digest}:{action}"


class _CountedLines:
    """A file's lines, counted, noting the line the record being read starts on: the csv
    module's `line_num` is the line a record ends on, which is not its first when a quoted field
    holds a line break."""

    def __init__(self, handle: TextIO, source: str) -> None:
        self._handle = handle
        self._source = source
        self.read = 0
        self.record_start: int | None = None

    def __iter__(self) -> _CountedLines:
        return self

    def __next__(self) -> str:
        line = self._handle.readline(LINE_CHARACTERS_MAX + 1)
        if not line:
            raise StopIteration
        self.read += 1
        if len(line) > LINE_CHARACTERS_MAX:
            raise ImportRefusedError(
                f"{self._source}: line {self.read} is longer than {LINE_CHARACTERS_MAX:,} "
                "characters"
            )
        if self.record_start is None and line not in ("\n", "\r\n", "\r"):
            self.record_start = self.read  # a blank line between records is no record
        return line


def csv_rows(
    handle: TextIO, required_columns: Sequence[str], source: str
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) of a CSV file, the line a row starts on; refuses the file whole when its
    header lacks a required column or names one twice."""
    lines = _CountedLines(handle, source)
    reader = csv.DictReader(lines)
    _check_header(reader.fieldnames or [], required_columns, source)
    lines.record_start = None
    for row in reader:
        yield lines.record_start or reader.line_num, row
        lines.record_start = None


def _check_header(header: Sequence[str], required_columns: Sequence[str], source: str) -> None:
    """A column named twice is refused: a row would keep only its last value (which of two
    serial numbers is the block's?), and the other would be dropped unseen."""
    missing = [column for column in required_columns if column not in header]
    if missing:
        raise ImportRefusedError(f"{source}: header lacks required column(s) {missing}")
    counts = Counter(header)
    repeated = [shortened(column) for column, count in counts.items() if count > 1]
    if repeated:
        raise ImportRefusedError(f"{source}: header repeats column(s) {repeated}")


def open_csv(path: Path) -> TextIO:
    try:
        return path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise ImportRefusedError(f"cannot read {path}: {error.strerror or error}") from error


def guarded(rows: Iterator[RowResult], source: str) -> Iterator[RowResult]:
    """Turns a decoding, CSV syntax or read error into refusing the file."""
    try:
        yield from rows
    except (UnicodeDecodeError, csv.Error) as error:
        raise ImportRefusedError(f"cannot read {source}: {error}") from error
    except OSError as error:  # a device or special file that fails when read
        raise ImportRefusedError(f"cannot read {source}: {error.strerror or error}") from error


def run_import(
    ledger: Ledger,
    setup: Sequence[Command],
    plan: Planner,
    report: ImportReport,
    chunk_rows: int = CHUNK_ROWS_DEFAULT,
    progress: Progress | None = None,
) -> ImportReport:
    """The whole file in one transaction, read once, chunk after chunk. Not skipping bad rows,
    the first bad row stops the submitting (the rest is still read, to report every bad row) and
    the transaction rolls back: every row is imported or none. Skipping them, each chunk runs in
    a savepoint; a chunk the ledger refuses is undone and tried again row by row, each row in a
    savepoint of its own, and what the rows that pass did commits together, or nothing does
    when no row passes."""
    if not 1 <= chunk_rows <= CHUNK_ROWS_MAX:
        raise ValueError(f"chunk_rows must be within 1-{CHUNK_ROWS_MAX}, got {chunk_rows}")
    source, skipping = report.source, report.skipped_bad_rows
    submit_chunk = _submit_chunk_skipping if skipping else _submit_chunk_whole

    def work(tx: Transaction) -> tuple[ImportReport, bool]:
        attempt = ImportReport(source=source, skipped_bad_rows=skipping)
        _prepare(tx, setup)
        chunk: list[PlannedRow] = []
        latest = latest_day(tx.now)
        for planned in plan():
            attempt.rows_read += 1
            result = checked(planned, latest)
            if isinstance(result, RowProblem):
                attempt.row_problems.add(result)
            elif skipping or attempt.ok:
                chunk.append(result)
                if len(chunk) == chunk_rows:
                    submit_chunk(tx, chunk, attempt)
                    chunk = []
                    if progress is not None:
                        progress(attempt.rows_read)
        if chunk and (skipping or attempt.ok):
            submit_chunk(tx, chunk, attempt)
        if progress is not None:
            progress(attempt.rows_read)
        attempt.committed = attempt.committed if skipping else attempt.ok
        return attempt, attempt.committed

    final = ledger.transact(work)
    if not final.committed:  # rolled back: nothing of it stands
        kept = ("rows_read", "row_problems", "source", "skipped_bad_rows")
        final = ImportReport(**{name: getattr(final, name) for name in kept})
    return final


def _prepare(tx: Transaction, setup: Sequence[Command]) -> None:
    """The accounts the rows go to; one that exists is fine, any other refusal stops the import
    (raised: the transaction rolls back)."""
    for command in setup:
        outcome = tx.submit(command)
        if isinstance(outcome, Refused) and "E_ACCOUNT_EXISTS" not in outcome.codes:
            raise ImportRefusedError(f"cannot prepare the import: {outcome.failures[0].message}")


def _submit_chunk_whole(tx: Transaction, chunk: list[PlannedRow], report: ImportReport) -> None:
    """All or nothing: a refused chunk is reported and the whole transaction will roll back."""
    commands = [command for row in chunk for command in submitted_commands(tx, row)]
    outcome = tx.submit_batch(commands) if commands else []
    if isinstance(outcome, list):
        _count(chunk, outcome, report)
    else:
        report.row_problems.add(_refusal_problem(chunk, outcome))


def _submit_chunk_skipping(tx: Transaction, chunk: list[PlannedRow], report: ImportReport) -> None:
    """The chunk whole in a savepoint; if the ledger refuses it, row by row, each row's
    refusal undone alone and reported."""
    outcome = _in_savepoint(tx, chunk)
    if isinstance(outcome, list):
        _count(chunk, outcome, report)
        return
    for row in chunk:
        single = _in_savepoint(tx, [row])
        if isinstance(single, list):
            _count([row], single, report)
        else:
            report.row_problems.add(_refusal_problem([row], single))


def _in_savepoint(tx: Transaction, rows: list[PlannedRow]) -> list[Accepted] | Refused:
    commands = [command for row in rows for command in submitted_commands(tx, row)]

    def batch() -> tuple[list[Accepted] | Refused, bool]:
        outcome = tx.submit_batch(commands) if commands else []  # rows issued before, left so
        return outcome, isinstance(outcome, list)

    return tx.savepoint(batch)


def _refusal_problem(chunk: list[PlannedRow], refused: Refused) -> RowProblem:
    line = next(
        (row.line for row in chunk for c in row.commands if c.command_id == refused.command_id),
        chunk[0].line,
    )
    causes = [f for f in refused.failures if f.code.value != "E_BATCH_COMMAND_REFUSED"]
    reason = "; ".join(f"{f.code.value}: {f.message}" for f in causes or refused.failures)
    return RowProblem(line, f"refused by the ledger: {reason}")


def _count(chunk: list[PlannedRow], accepted: list[Accepted], report: ImportReport) -> None:
    report.committed = True
    position = 0
    for row in chunk:
        outcomes = accepted[position : position + len(row.commands)]
        position += len(row.commands)
        if row.issued_before or outcomes[0].duplicate:
            report.blocks_already_present += 1
        else:
            report.blocks_imported += 1
            report.quantity_imported += row.quantity
            report.held += row.outcome == "held"
        # A block issued before (an issuance export imported earlier) may be retired or
        # cancelled by this row now: what counts is whether its final command is new.
        if row.outcome == "held" or not outcomes or outcomes[-1].duplicate:
            continue
        if row.outcome == "retired":
            report.retired += 1
        else:
            report.cancelled += 1
