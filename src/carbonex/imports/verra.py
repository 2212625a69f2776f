"""Import Verra's public VCU export (one row per serial block) into the ledger.

Each row becomes an issuance of exactly its serial range (`Issue(first_serial=..., registry=
"VERRA")`) into the import holding account `IMPORT-VERRA`, followed by:

* a cancellation when the Retirement Reason or Retirement Details mention "cancel" (Verra's
  export shares one date column for both; its reasons for cancellations say so);
* otherwise a retirement when the row has a Retirement/Cancellation Date, with the Retirement
  Beneficiary (or `BENEFICIARY_NOT_STATED` when empty) and a purpose made of the reason (or
  `REASON_NOT_STATED`), the details and the Verra date;
* nothing when the row has no date: the block stays active in the import account.

The ledger stamps entries with its own clock (the time of the import, as the journal must stay in
recording order); the registry's retirement or cancellation date is kept in the purpose/reason
text as `Verra date YYYY-MM-DD`.

Command ids are `verra:<serial number>:issue` and `...:retire` / `...:cancel`, so importing the
same file again returns duplicates and changes nothing. A row whose serials all lie in blocks
imported before, of its project and vintage, in the import account, and overlaps no earlier row
of the file (a later export that lists part of a block as retired: Verra splits the block), is
those units: it issues nothing, and its retirement or cancellation applies to that part
(`pipeline.ImportedBefore`). The text the ledger records (methodology, certifications,
beneficiary, reason and details) is put on one line (`pipeline`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from carbonex.imports.countries import country_code
from carbonex.imports.pipeline import (
    CHUNK_ROWS_DEFAULT,
    ImportedBefore,
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
from carbonex.imports.serials import VerraSerial, parse_verra
from carbonex.ledger import Cancel, Command, Issue, OpenAccount, Retire, Selection, SerialRange
from carbonex.ledger import UnitAttributes as Attributes
from carbonex.ledger.limits import LABELS_PER_BLOCK_MAX
from carbonex.text import iso_date, shortened

if TYPE_CHECKING:
    from carbonex.ledger import Ledger

REGISTRY = "VERRA"
UNIT_TYPE = "VCU"
STANDARD = "Verra VCS"
ACCOUNT_ID = "IMPORT-VERRA"
ACCOUNT_KIND = "company_holding"
ACCOUNT_HOLDER = "Verra registry import (holding account of imported blocks)"
BENEFICIARY_NOT_STATED = "Not stated in the Verra export"
REASON_NOT_STATED = "Reason not stated in the Verra export"
MULTI_VALUE_SEPARATOR = ";"

SERIAL = "Serial Number"
QUANTITY = "Quantity Issued"
PROJECT = "ID"
COUNTRY = "Country/Area"
VINTAGE_START = "Vintage Start"
VINTAGE_END = "Vintage End"
DATE = "Retirement/Cancellation Date"
BENEFICIARY = "Retirement Beneficiary"
REASON = "Retirement Reason"
DETAILS = "Retirement Details"
METHODOLOGY = "Methodology"
CERTIFICATIONS = "Additional Certifications"
GOALS = "Sustainable Development Goals"
FREE_TEXT_COLUMNS = frozenset({METHODOLOGY, CERTIFICATIONS, GOALS, BENEFICIARY, REASON, DETAILS})
"""The columns whose text the ledger records as written (put on one line)."""
REQUIRED_COLUMNS = (
    "Issuance Date",
    GOALS,
    VINTAGE_START,
    VINTAGE_END,
    PROJECT,
    "Name",
    COUNTRY,
    "Project Type",
    METHODOLOGY,
    QUANTITY,
    SERIAL,
    CERTIFICATIONS,
    DATE,
    BENEFICIARY,
    REASON,
    DETAILS,
)

CANCELLATION = re.compile(r"cancel", re.IGNORECASE)
REMOVAL = re.compile(r"removal|afforestation|reforestation|revegetation", re.IGNORECASE)
QUANTITY_TEXT = re.compile(r"[0-9]{1,3}(,[0-9]{3})*|[0-9]+")
QUANTITY_DIGITS_MAX = 19
"""Digits of a quantity read: the ledger holds 64-bit integers (19 digits) and refuses far less;
a longer text is refused before converting it (Python refuses to convert more than 4,300 digits,
with a message about its own limit)."""


class RowError(ValueError):
    """A row's field is malformed; the message names the field."""


def import_verra(
    ledger: Ledger,
    path: Path,
    skip_bad_rows: bool = False,
    chunk_rows: int = CHUNK_ROWS_DEFAULT,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a Verra VCU export. Without `skip_bad_rows`, one bad row refuses the whole file
    (nothing is submitted); with it, the good rows are imported and the bad ones reported."""
    report = ImportReport(source=str(path), skipped_bad_rows=skip_bad_rows)
    setup = [OpenAccount(f"verra:open:{ACCOUNT_ID}", ACCOUNT_ID, ACCOUNT_KIND, ACCOUNT_HOLDER)]

    def plan() -> Iterator[RowResult]:
        imported_before = ImportedBefore(ledger, ACCOUNT_ID)
        for result in plan_file(path):
            yield imported_before.row(result) if isinstance(result, PlannedRow) else result

    return run_import(ledger, setup, plan, report, chunk_rows, progress)


def plan_file(path: Path) -> Iterator[RowResult]:
    with open_csv(path) as handle:
        yield from guarded(_plan_rows(handle, str(path)), str(path))


def _plan_rows(handle: TextIO, source: str) -> Iterator[RowResult]:
    for line, row in csv_rows(handle, REQUIRED_COLUMNS, source):
        try:
            yield plan_row(line, row)
        except ValueError as error:
            yield RowProblem(line, str(error))


def plan_row(line: int, row: dict[str, str]) -> PlannedRow:
    """The commands one row becomes; raises ValueError naming what is wrong."""
    values = _complete(row)
    return planned_on_one_line(partial(_plan_values, line), values, FREE_TEXT_COLUMNS)


def _plan_values(line: int, values: dict[str, str]) -> PlannedRow:
    serial = parse_verra(values[SERIAL])
    quantity = parse_quantity(values[QUANTITY])
    if quantity != serial.quantity:
        raise RowError(
            f"{QUANTITY} {quantity} differs from the serial range's "
            f"{serial.last_serial} - {serial.first_serial} + 1 = {serial.quantity}"
        )
    issue = Issue(
        command_id("verra", values[SERIAL], "issue"),
        ACCOUNT_ID,
        quantity,
        attributes(values, serial),
        registry=REGISTRY,
        first_serial=serial.first_serial,
    )
    final = final_command(values, serial)
    days_begun = [(f"{VINTAGE_START} {serial.vintage_start}", serial.vintage_start)]
    if final is None:
        return PlannedRow(line, (issue,), "held", quantity, days_begun=tuple(days_begun))
    date = parse_date(values, DATE)
    days_begun.append((f"{DATE} {date}", date))
    outcome = "cancelled" if isinstance(final, Cancel) else "retired"
    return PlannedRow(line, (issue, final), outcome, quantity, days_begun=tuple(days_begun))


def _complete(row: dict[str, str]) -> dict[str, str]:
    """The row's values stripped; a row with too few or too many fields is malformed."""
    if None in row:
        raise RowError("row has more fields than the header")
    missing = [name for name in REQUIRED_COLUMNS if row.get(name) is None]
    if missing:
        raise RowError(f"row lacks column(s) {missing}")
    return {name: (value or "").strip() for name, value in row.items()}


def parse_quantity(text: str, column: str = QUANTITY) -> int:
    """The whole number `text` writes (digits, optionally in comma-separated thousands) in the
    column named `column`."""
    if not QUANTITY_TEXT.fullmatch(text):
        raise RowError(f"{column} {shortened(text)!r} is not a whole number")
    digits = text.replace(",", "")
    if len(digits) > QUANTITY_DIGITS_MAX:
        raise RowError(
            f"{column} {shortened(text)!r} has {len(digits):,} digits, more than "
            f"{QUANTITY_DIGITS_MAX}"
        )
    value = int(digits)
    if value < 1:
        raise RowError(f"{column} must be positive, got {value}")
    return value


def parse_date(values: dict[str, str], column: str) -> dt.date:
    try:
        return iso_date(values[column])
    except ValueError as error:
        raise RowError(
            f"{column} {shortened(values[column])!r} is not a YYYY-MM-DD date"
        ) from error


def attributes(values: dict[str, str], serial: VerraSerial) -> Attributes:
    if serial.unit_type != UNIT_TYPE:
        raise RowError(
            f"unit type {shortened(serial.unit_type)!r} in the serial is not {UNIT_TYPE}"
        )
    if values[PROJECT] != str(serial.project_id):
        raise RowError(
            f"project {shortened(values[PROJECT])!r} differs from the serial's {serial.project_id}"
        )
    _check_country(values[COUNTRY], serial)
    start, end = _vintage(values, serial)
    return Attributes(
        unit_type=UNIT_TYPE,
        standard=STANDARD,
        project_id=f"VCS-{serial.project_id}",
        vintage_start=start,
        vintage_end=end,
        host_country=serial.country,
        methodology=bounded_text(values[METHODOLOGY]),
        category="removal" if REMOVAL.search(values["Project Type"]) else "avoidance",
        labels=labels(values),
    )


def _check_country(name: str, serial: VerraSerial) -> None:
    """An empty country leaves the serial's to stand; a name must be known and agree with it."""
    if not name:
        return
    code = country_code(name)
    if code is None:
        raise RowError(f"{COUNTRY} {shortened(name)!r} is not a known country name or ISO code")
    if code != serial.country:
        raise RowError(f"{COUNTRY} {shortened(name)!r} differs from the serial's {serial.country}")


def _vintage(values: dict[str, str], serial: VerraSerial) -> tuple[dt.date, dt.date]:
    """The vintage the columns state, which must be the one the serial number encodes."""
    start, end = parse_date(values, VINTAGE_START), parse_date(values, VINTAGE_END)
    if end < start:
        raise RowError(f"{VINTAGE_END} {end} is before {VINTAGE_START} {start}")
    if (start, end) != (serial.vintage_start, serial.vintage_end):
        raise RowError(
            f"{VINTAGE_START} {start} to {VINTAGE_END} {end} differs from the serial's vintage "
            f"{serial.vintage_start} to {serial.vintage_end}"
        )
    return start, end


def split_values(text: str) -> list[str]:
    return [part.strip() for part in text.split(MULTI_VALUE_SEPARATOR) if part.strip()]


def labels(values: dict[str, str]) -> tuple[str, ...]:
    found = split_values(values[CERTIFICATIONS])
    found += [f"SDG {goal}" for goal in split_values(values[GOALS])]
    if len(found) > LABELS_PER_BLOCK_MAX:
        raise RowError(f"row carries {len(found)} labels, more than {LABELS_PER_BLOCK_MAX}")
    return tuple(bounded_text(label) for label in found)


def final_command(values: dict[str, str], serial: VerraSerial) -> Command | None:
    """The retirement or cancellation a row records, or None for a block still active."""
    reason, details = values[REASON], values[DETAILS]
    if not values[DATE]:
        if reason or details or values[BENEFICIARY]:
            raise RowError(f"row has retirement fields but no {DATE}")
        return None
    date = parse_date(values, DATE)
    selection = Selection(
        UNIT_TYPE,
        serial_ranges=(SerialRange(serial.first_serial, serial.last_serial),),
        registry=REGISTRY,
    )
    text = "; ".join(
        part
        for part in (reason or REASON_NOT_STATED, f"details: {details}" if details else "")
        if part
    )
    if CANCELLATION.search(reason) or CANCELLATION.search(details):
        text = bounded_text(f"{text}; Verra date {date.isoformat()}")
        return Cancel(command_id("verra", values[SERIAL], "cancel"), ACCOUNT_ID, selection, text)
    return Retire(
        command_id("verra", values[SERIAL], "retire"),
        ACCOUNT_ID,
        selection,
        beneficiary=bounded_text(values[BENEFICIARY] or BENEFICIARY_NOT_STATED),
        purpose=bounded_text(f"{text}; Verra date {date.isoformat()}"),
    )
