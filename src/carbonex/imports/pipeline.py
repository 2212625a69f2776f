"""The import pipeline both importers share: validate, then submit in all-or-nothing chunks.

An importer turns a file into a stream of `PlannedRow` (the commands one row becomes) or
`RowProblem` (why it cannot). `run_import` reads the stream twice when bad rows are not skipped:
first to validate every row (nothing is submitted if one is bad), then to submit. Each chunk of
rows is one `submit_batch`, so a chunk is applied whole or not at all. When skipping bad rows, a
chunk the ledger refuses is retried row by row and the refused rows are reported.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from carbonex.imports.report import ImportRefusedError, ImportReport, RowProblem
from carbonex.ledger import Accepted, Command, Refused, Transaction
from carbonex.ledger.limits import BATCH_COMMANDS_MAX, COMMAND_ID_LENGTH_MAX, TEXT_FIELD_LENGTH_MAX
from carbonex.text import shortened

if TYPE_CHECKING:
    from carbonex.ledger import Ledger

CHUNK_ROWS_DEFAULT = 1_000
"""Rows per all-or-nothing batch (each row is at most two commands)."""
COMMANDS_PER_ROW_MAX = 2
CHUNK_ROWS_MAX = BATCH_COMMANDS_MAX // COMMANDS_PER_ROW_MAX
HEADER_LINE = 1

Progress = Callable[[int], None]
"""Called with the number of rows processed so far."""


@dataclass(frozen=True, slots=True)
class PlannedRow:
    line: int
    commands: tuple[Command, ...]
    """The issue, then the retire or cancel (absent for a block left active)."""
    outcome: str
    """"retired", "cancelled" or "held"."""
    quantity: int


RowResult = PlannedRow | RowProblem
Planner = Callable[[], Iterator[RowResult]]
"""Streams the file from its start each time it is called."""


def bounded_text(text: str) -> str:
    """Text cut to the ledger's field length, marked with an ellipsis when cut."""
    return shortened(text, TEXT_FIELD_LENGTH_MAX)


def command_id(prefix: str, key: str, action: str) -> str:
    """`prefix:key:action`, or with the key hashed when that would be too long."""
    candidate = f"{prefix}:{key}:{action}"
    if len(candidate) <= COMMAND_ID_LENGTH_MAX:
        return candidate
    digest = hashlib.sha256(key.encode()).hexdigest()[:32]
    return f"{prefix}:sha256-{digest}:{action}"


def csv_rows(
    handle: TextIO, required_columns: Sequence[str], source: str
) -> Iterator[tuple[int, dict[str, str]]]:
    """(line, row) of a CSV file; refuses the file whole when a required column is missing."""
    reader = csv.DictReader(handle)
    header = reader.fieldnames or []
    missing = [column for column in required_columns if column not in header]
    if missing:
        raise ImportRefusedError(f"{source}: header lacks required column(s) {missing}")
    for row in reader:
        yield reader.line_num, row


def open_csv(path: Path) -> TextIO:
    try:
        return path.open(encoding="utf-8-sig", newline="")
    except OSError as error:
        raise ImportRefusedError(f"cannot read {path}: {error.strerror or error}") from error


def guarded(rows: Iterator[RowResult], source: str) -> Iterator[RowResult]:
    """Turns a decoding or CSV syntax error into refusing the file."""
    try:
        yield from rows
    except (UnicodeDecodeError, csv.Error) as error:
        raise ImportRefusedError(f"cannot read {source}: {error}") from error


def run_import(
    ledger: Ledger,
    setup: Sequence[Command],
    plan: Planner,
    report: ImportReport,
    chunk_rows: int = CHUNK_ROWS_DEFAULT,
    progress: Progress | None = None,
) -> ImportReport:
    if not 1 <= chunk_rows <= CHUNK_ROWS_MAX:
        raise ValueError(f"chunk_rows must be within 1-{CHUNK_ROWS_MAX}, got {chunk_rows}")
    if not report.skipped_bad_rows:
        return _run_atomically(ledger, setup, plan, report, chunk_rows, progress)
    chunk: list[PlannedRow] = []
    pending_setup = list(setup)
    for result in plan():
        report.rows_read += 1
        if isinstance(result, RowProblem):
            report.problems.append(result)
            continue
        chunk.append(result)
        if pending_setup:
            _submit_setup(ledger, pending_setup)
            pending_setup = []
        if len(chunk) == chunk_rows:
            if not _submit_chunk(ledger, chunk, report):
                return report
            chunk = []
            if progress is not None:
                progress(report.rows_read)
    if chunk:
        _submit_chunk(ledger, chunk, report)
    if progress is not None:
        progress(report.rows_read)
    return report


def _run_atomically(
    ledger: Ledger,
    setup: Sequence[Command],
    plan: Planner,
    report: ImportReport,
    chunk_rows: int,
    progress: Progress | None,
) -> ImportReport:
    """The whole file in one transaction, read once: chunk after chunk goes to the ledger; the
    first bad row stops the submitting (the rest is still read, to report every bad row) and
    the transaction rolls back, so either every row is imported or none."""
    source = report.source

    def work(tx: Transaction) -> tuple[ImportReport, bool]:
        attempt = ImportReport(source=source, skipped_bad_rows=False)
        for command in setup:  # a refused setup command (the account exists) changes nothing
            tx.submit(command)
        chunk: list[PlannedRow] = []
        for result in plan():
            attempt.rows_read += 1
            if isinstance(result, RowProblem):
                attempt.problems.append(result)
            elif not attempt.problems:
                chunk.append(result)
                if len(chunk) == chunk_rows:
                    _submit_chunk_within(tx, chunk, attempt)
                    chunk = []
                    if progress is not None:
                        progress(attempt.rows_read)
        if chunk and not attempt.problems:
            _submit_chunk_within(tx, chunk, attempt)
        if progress is not None:
            progress(attempt.rows_read)
        return attempt, not attempt.problems

    final = ledger.transact(work)
    final.committed = not final.problems
    if not final.committed:  # rolled back: nothing of it stands
        kept = ("rows_read", "problems", "source", "skipped_bad_rows")
        final = ImportReport(**{name: getattr(final, name) for name in kept})
    return final


def _submit_chunk_within(tx: Transaction, chunk: list[PlannedRow], report: ImportReport) -> None:
    commands = [command for row in chunk for command in row.commands]
    outcome = tx.submit_batch(commands)
    if isinstance(outcome, list):
        _count(chunk, outcome, report)
    else:
        report.problems.append(_refusal_problem(chunk, outcome))


def _submit_setup(ledger: Ledger, setup: Sequence[Command]) -> None:
    for outcome in ledger.submit_many(setup) if setup else []:
        if isinstance(outcome, Refused) and "E_ACCOUNT_EXISTS" not in outcome.codes:
            raise ImportRefusedError(f"cannot prepare the import: {outcome.failures[0].message}")


def _submit_chunk(ledger: Ledger, chunk: list[PlannedRow], report: ImportReport) -> bool:
    """Submit a chunk whole. On refusal: row by row when skipping bad rows, else stop (False)."""
    commands = [command for row in chunk for command in row.commands]
    outcome = ledger.submit_batch(commands)
    if isinstance(outcome, list):
        _count(chunk, outcome, report)
        return True
    if not report.skipped_bad_rows:
        report.problems.append(_refusal_problem(chunk, outcome))
        return False
    for row in chunk:
        single = ledger.submit_batch(row.commands)
        if isinstance(single, list):
            _count([row], single, report)
        else:
            report.problems.append(_refusal_problem([row], single))
    return True


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
        if outcomes[0].duplicate:
            report.blocks_already_present += 1
            continue
        report.blocks_imported += 1
        report.quantity_imported += row.quantity
        if row.outcome == "retired":
            report.retired += 1
        elif row.outcome == "cancelled":
            report.cancelled += 1
        else:
            report.held += 1
