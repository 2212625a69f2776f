"""Import Gold Standard Impact Registry exports (issuances or retirements) into the ledger.

Columns: GSID, Project Name, Country, Quantity, Vintage (a year) are required; Serial Number,
Issuance Date, Retirement Date, Using Entity, Note, Project Type and Methodology are optional.
A file whose header has `Retirement Date` is a retirement export: each row is issued into
`IMPORT-GS-RETIREMENTS` and retired there (beneficiary = Using Entity, or
`BENEFICIARY_NOT_STATED`; purpose = Note plus the GS retirement date). Otherwise it is an
issuance export: each row is issued into `IMPORT-GS` and stays active. A row whose serial range
an export of either kind imported before is the same units (its issue's command id names the
range): it is not issued again, and a retirement export's row retires them where they are, so
an issuance export and a retirement export of the same units count them once. Rows without
serials have nothing that names their units, and are issued anew.

Rows with a Serial Number are issued with exactly that range (registry "GS"), in its issuance
batch's place in the serial space (`ledger_first_serial`). Rows without one are placed one after
another from WITHOUT_SERIALS_FIRST_SERIAL, past the place of any batch a real serial may name
(`WithoutSerialsPlaces`), with the label `imported-without-source-serials`: a later file's real
serials of the same batch never overlap them. Their retirement selects the row's quantity by
project, vintage and that label in the retirement account, which holds no active units outside a
batch, so it always retires the units just issued. Command ids hash the row's content (plus how many
identical rows came before it), so re-importing the file changes nothing. The text the ledger
records (methodology, beneficiary, note) is put on one line (`pipeline`); the content hash is
taken of the row as written.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections import Counter
from collections.abc import Callable, Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from carbonex.imports.countries import country_code
from carbonex.imports.pipeline import (
    CHUNK_ROWS_DEFAULT,
    PlannedRow,
    Progress,
    RowResult,
    bounded_text,
    command_id,
    csv_rows,
    guarded,
    open_csv,
    planned_on_one_line,
    run_import,
)
from carbonex.imports.report import ImportReport, RowProblem
from carbonex.imports.serials import GoldStandardSerial, parse_gold_standard
from carbonex.imports.verra import RowError, parse_quantity
from carbonex.ledger import Command, Issue, OpenAccount, Retire, Selection, SerialRange
from carbonex.ledger import UnitAttributes as Attributes
from carbonex.ledger.commands import command_from_record
from carbonex.ledger.journal import decode_payload
from carbonex.ledger.limits import SERIAL_MAX
from carbonex.ledger.model import serial_space_of
from carbonex.text import iso_date, shortened

if TYPE_CHECKING:
    from carbonex.ledger import Ledger

REGISTRY = "GS"
UNIT_TYPE = "GS-VER"
STANDARD = "Gold Standard"
HOLDING_ACCOUNT_ID = "IMPORT-GS"
RETIREMENT_ACCOUNT_ID = "IMPORT-GS-RETIREMENTS"
ACCOUNT_KIND = "company_holding"
WITHOUT_SERIALS_LABEL = "imported-without-source-serials"
BENEFICIARY_NOT_STATED = "Not stated in the Gold Standard export"
PURPOSE_NOT_STATED = "Retirement recorded in the Gold Standard export"
CONTENT_HASH_HEX_CHARACTERS = 24
GS_BATCH_SERIALS = 10**9
"""Serials of one issuance batch's place in the ledger's serial space: a GS batch is far smaller
(GS has issued some hundreds of millions of credits in all), and batch numbers up to
SERIAL_MAX // GS_BATCH_SERIALS (4.6 billion) fit."""
WITHOUT_SERIALS_FIRST_SERIAL = 4 * 10**18
"""Where rows without serial numbers are placed, one after another: the place of batch
4,000,000,000, past any batch a real serial names (GS's batch numbers have five digits; a row
naming a batch from there on is a bad row), so that real serials never overlap them. The
ledger's next free serial would put them right after the highest batch's imported numbers,
where a later file with the rest of that batch is refused as overlapping. Room is left for
611 million batches' worth of them (up to SERIAL_MAX)."""
RESERVED_FIRST_BATCH = WITHOUT_SERIALS_FIRST_SERIAL // GS_BATCH_SERIALS
SERIAL_SPACE = serial_space_of(REGISTRY, UNIT_TYPE)

COUNTRY = "Country"
QUANTITY = "Quantity"
VINTAGE = "Vintage"
SERIAL = "Serial Number"
REQUIRED_COLUMNS = ("GSID", "Project Name", COUNTRY, QUANTITY, VINTAGE)
RETIREMENT_DATE = "Retirement Date"
METHODOLOGY = "Methodology"
USING_ENTITY = "Using Entity"
NOTE = "Note"
FREE_TEXT_COLUMNS = frozenset({METHODOLOGY, USING_ENTITY, NOTE})
"""The columns whose text the ledger records as written (put on one line)."""
GSID_TEXT = re.compile(r"(?:GS)?([0-9]{1,9})")
YEAR_TEXT = re.compile(r"[0-9]{4}")
REMOVAL = re.compile(r"removal|afforestation|reforestation|A/R", re.IGNORECASE)


def import_gold_standard(
    ledger: Ledger,
    path: Path,
    skip_bad_rows: bool = False,
    chunk_rows: int = CHUNK_ROWS_DEFAULT,
    progress: Progress | None = None,
) -> ImportReport:
    report = ImportReport(source=str(path), skipped_bad_rows=skip_bad_rows)
    setup = [
        OpenAccount(f"gs:open:{account}", account, ACCOUNT_KIND, f"Gold Standard import ({kind})")
        for account, kind in (
            (HOLDING_ACCOUNT_ID, "issued blocks"),
            (RETIREMENT_ACCOUNT_ID, "retired blocks"),
        )
    ]
    places = WithoutSerialsPlaces(RecordedIssues(ledger))
    plan = partial(plan_file, path, places)
    return run_import(ledger, setup, plan, report, chunk_rows, progress)


class RecordedIssues:
    """The issue the journal records under a command id, read inside the import's transaction;
    the last one read is kept, as a row is planned several times (`planned_on_one_line`)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self._last: tuple[str, Issue | None] = ("", None)

    def issue(self, command_id: str) -> Issue | None:
        if self._last[0] != command_id:
            row = self.ledger.state.committed_journal_row(command_id)
            command = None if row is None else _command(row.payload)
            self._last = (command_id, command if isinstance(command, Issue) else None)
        return self._last[1]


def _command(payload: bytes) -> Command:
    return command_from_record(decode_payload(payload)["command"])


class WithoutSerialsPlaces:
    """The first serial of each new row without serial numbers, one after another from
    WITHOUT_SERIALS_FIRST_SERIAL on (past what the ledger holds there). A row recorded before
    keeps its issue as recorded (`RecordedIssues`)."""

    def __init__(self, recorded: RecordedIssues) -> None:
        self.recorded = recorded
        self._next: int | None = None
        self._last: tuple[str, int | None] = ("", None)

    def first_serial(self, issue_id: str, quantity: int) -> int | None:
        if self._last[0] == issue_id:  # the same row planned again: the same place
            return self._last[1]
        if self._next is None:
            highest = self.recorded.ledger.state.max_issued_serial(SERIAL_SPACE)
            self._next = max(WITHOUT_SERIALS_FIRST_SERIAL, highest + 1)
        first, self._next = self._next, self._next + quantity
        self._last = (issue_id, first)
        return first


def plan_file(path: Path, places: WithoutSerialsPlaces) -> Iterator[RowResult]:
    with open_csv(path) as handle:
        yield from guarded(_plan_rows(handle, str(path), places), str(path))


def _plan_rows(handle: TextIO, source: str, places: WithoutSerialsPlaces) -> Iterator[RowResult]:
    seen: Counter[str] = Counter()
    for line, row in csv_rows(handle, REQUIRED_COLUMNS, source):
        try:
            values = _complete(row)
            key = _content_key(values, seen)
            retirements = RETIREMENT_DATE in row
            plan = partial(plan_row, line, key=key, retirements=retirements, places=places)
            numbered = partial(plan, numbering=ledger_first_serial)
            as_before = partial(plan, numbering=serial_as_written)
            yield planned_on_one_line(numbered, values, FREE_TEXT_COLUMNS, (as_before,))
        except ValueError as error:
            yield RowProblem(line, str(error))


def _complete(row: dict[str, str]) -> dict[str, str]:
    if None in row:
        raise RowError("row has more fields than the header")
    if any(row.get(name) is None for name in REQUIRED_COLUMNS):
        raise RowError("row has fewer fields than the header")
    return {name: (value or "").strip() for name, value in row.items()}


def _content_key(values: dict[str, str], seen: Counter[str]) -> str:
    """A hash of the row's content and how many identical rows came before it."""
    text = "\x1f".join(f"{name}={value}" for name, value in sorted(values.items()))
    digest = hashlib.sha256(text.encode()).hexdigest()[:CONTENT_HASH_HEX_CHARACTERS]
    seen[digest] += 1
    return f"{digest}-{seen[digest]}"


def ledger_first_serial(serial: GoldStandardSerial) -> int:
    """The ledger serial of a Gold Standard serial's first unit: its batch's place in the serial
    space (batch x GS_BATCH_SERIALS) plus its number in the batch. GS numbers serials within an
    issuance batch (`…-19573-1-100` is batch 19573's first hundred), so one number for every
    batch made the second batch overlap the first; were GS numbering global instead, the
    numbers stay apart all the same."""
    if serial.last_serial >= GS_BATCH_SERIALS:
        raise RowError(f"serial {serial.last_serial} is past what one batch holds here")
    if serial.batch >= RESERVED_FIRST_BATCH:
        raise RowError(
            f"batch {serial.batch:,} is in the place kept for rows without serials "
            f"(from batch {RESERVED_FIRST_BATCH:,})"
        )
    first = serial.batch * GS_BATCH_SERIALS + serial.first_serial
    if first + serial.last_serial - serial.first_serial > SERIAL_MAX:
        raise RowError(f"batch {serial.batch} is past the ledger's serial space")
    return first


def serial_as_written(serial: GoldStandardSerial) -> int:
    """The numbering of earlier Carbonex versions: the number as written, one for every batch
    (what their imports recorded; a re-import finds those entries)."""
    return serial.first_serial


def plan_row(
    line: int,
    values: dict[str, str],
    key: str,
    retirements: bool,
    places: WithoutSerialsPlaces,
    numbering: Callable[[GoldStandardSerial], int] = ledger_first_serial,
) -> PlannedRow:
    if not values[QUANTITY]:
        raise RowError(f"{QUANTITY} is empty")
    quantity = parse_quantity(values[QUANTITY].replace(" ", ""), QUANTITY)
    project = _project_id(values["GSID"])
    serial_text = values.get(SERIAL, "")
    serial = parse_gold_standard(serial_text) if serial_text else None
    unit_attributes = attributes(values, project, with_serials=serial is not None)
    if serial is not None:
        _check_serial(serial, quantity, unit_attributes)
    account = RETIREMENT_ACCOUNT_ID if retirements else HOLDING_ACCOUNT_ID
    issue_id = command_id("gs", serial_text or key, "issue")
    # Imported before, by this export or by the other kind (its id names the serial range):
    # the same units, which this row's retirement retires where they are, never issued again.
    issue = places.recorded.issue(issue_id) or Issue(
        issue_id,
        account,
        quantity,
        unit_attributes,
        registry=REGISTRY,
        first_serial=places.first_serial(issue_id, quantity)
        if serial is None
        else numbering(serial),
    )
    vintage_start = unit_attributes.vintage_start
    days_begun = [(f"{VINTAGE} {vintage_start.year}", vintage_start)]
    if not retirements:
        return PlannedRow(line, (issue,), "held", quantity, days_begun=tuple(days_begun))
    retire = _retire(values, serial_text or key, issue)
    date = _date(values, RETIREMENT_DATE)
    days_begun.append((f"{RETIREMENT_DATE} {date}", date))
    return PlannedRow(line, (issue, retire), "retired", quantity, days_begun=tuple(days_begun))


def _project_id(gsid: str) -> str:
    match = GSID_TEXT.fullmatch(gsid)
    if match is None:
        raise RowError(f"GSID {shortened(gsid)!r} is not a Gold Standard project number")
    return f"GS{int(match.group(1))}"


def _check_serial(serial: GoldStandardSerial, quantity: int, stated: Attributes) -> None:
    """The row's columns must state what its serial number encodes: project, size, vintage
    year and country."""
    if serial.project_id != stated.project_id:
        raise RowError(f"GSID {stated.project_id} differs from the serial's {serial.project_id}")
    if quantity != serial.last_serial - serial.first_serial + 1:
        raise RowError(f"{QUANTITY} {quantity} differs from the serial range's size")
    if serial.vintage_year != stated.vintage_start.year:
        raise RowError(
            f"{VINTAGE} {stated.vintage_start.year} differs from the serial's {serial.vintage_year}"
        )
    if serial.country != stated.host_country:
        raise RowError(
            f"{COUNTRY} {stated.host_country} differs from the serial's {serial.country}"
        )


def _date(values: dict[str, str], column: str) -> dt.date:
    try:
        return iso_date(values.get(column, ""))
    except ValueError as error:
        shown = shortened(values.get(column, ""))
        raise RowError(f"{column} {shown!r} is not a YYYY-MM-DD date") from error


def _vintage_year(text: str) -> int:
    if not YEAR_TEXT.fullmatch(text) or int(text) < dt.MINYEAR:
        raise RowError(f"{VINTAGE} {shortened(text)!r} is not a year")
    return int(text)


def attributes(values: dict[str, str], project: str, with_serials: bool) -> Attributes:
    year = _vintage_year(values[VINTAGE])
    country = country_code(values[COUNTRY])
    if country is None:
        shown = shortened(values[COUNTRY])
        raise RowError(f"{COUNTRY} {shown!r} is not a known country name or ISO code")
    project_type = values.get("Project Type", "")
    return Attributes(
        unit_type=UNIT_TYPE,
        standard=STANDARD,
        project_id=project,
        vintage_start=dt.date(year, 1, 1),
        vintage_end=dt.date(year, 12, 31),
        host_country=country,
        methodology=bounded_text(values.get(METHODOLOGY, "")),
        category="removal" if REMOVAL.search(project_type) else "avoidance",
        labels=() if with_serials else (WITHOUT_SERIALS_LABEL,),
    )


def _retire(values: dict[str, str], key: str, issue: Issue) -> Command:
    """The retirement of the units `issue` issued, in the account it issued them into."""
    date = _date(values, RETIREMENT_DATE)
    first_serial = issue.first_serial
    if first_serial is None:
        selection = Selection(
            UNIT_TYPE,
            quantity=issue.quantity,
            registry=REGISTRY,
            vintage_year=issue.attributes.vintage_start.year,
            project_id=issue.attributes.project_id,
            label=WITHOUT_SERIALS_LABEL,
        )
    else:
        last_serial = first_serial + issue.quantity - 1
        ranges = (SerialRange(first_serial, last_serial),)
        selection = Selection(UNIT_TYPE, serial_ranges=ranges, registry=REGISTRY)
    purpose = values.get(NOTE, "") or PURPOSE_NOT_STATED
    return Retire(
        command_id("gs", key, "retire"),
        issue.account_id,
        selection,
        beneficiary=bounded_text(values.get(USING_ENTITY, "") or BENEFICIARY_NOT_STATED),
        purpose=bounded_text(f"{purpose}; Gold Standard retirement date {date.isoformat()}"),
    )
