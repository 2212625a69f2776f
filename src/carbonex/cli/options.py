"""Options the commands share, and parsers for values given as text (dates, serial ranges).

A value that does not parse is bad usage: typer reports it and exits with code 2 before anything
is submitted. Whether a parsed value is acceptable (a positive quantity, a known unit type, an
ordered range) is the ledger's decision, reported as a refusal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Annotated, Any

import typer

from carbonex.cli import render
from carbonex.cli.exits import usage_error
from carbonex.ledger import OpenAccount, Selection, SerialRange, UnitAttributes
from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX
from carbonex.text import iso_date, shortened

DEFAULT_PAGE_SIZE = 100
"""Rows a listing shows unless `--limit` says otherwise (the ledger caps pages itself)."""
INTEGER_MIN = -(2**63)
INTEGER_MAX = 2**63 - 1
"""Integers the journal's JSON and the databases can hold (64-bit); anything wider is malformed
input, refused as bad usage before it reaches the ledger."""


def field_default(cls: type, name: str) -> Any:
    """A dataclass field's default, so the CLI shows the ledger's defaults without copying them."""
    return {field.name: field.default for field in dataclasses.fields(cls)}[name]


DEFAULT_ACCOUNT_REGISTRY: str = field_default(OpenAccount, "registry")
DEFAULT_CATEGORY: str = field_default(UnitAttributes, "category")


def new_command_id(command_id: str | None) -> str:
    """The client's command id, or a fresh one (a retry must pass the same id explicitly)."""
    return command_id if command_id is not None else uuid.uuid4().hex


def parse_iso_date(text: str) -> dt.date:
    try:
        return iso_date(text.strip())
    except ValueError as error:
        raise ValueError(
            f"expected an ISO date written YYYY-MM-DD like 2021-12-31, got {shortened(text)!r}"
        ) from error


@dataclasses.dataclass(frozen=True, slots=True)
class SerialRanges:
    """Serial ranges as given on the command line: `1-100,200-250` or single serials `7,9`."""

    ranges: tuple[SerialRange, ...]


def bounded_integer(text: str) -> int:
    value = int(text)
    if not INTEGER_MIN <= value <= INTEGER_MAX:
        raise ValueError(f"{text} does not fit in 64 bits")
    return value


def _serial_range(part: str) -> SerialRange:
    first_text, _, last_text = part.partition("-")
    first_serial = bounded_integer(first_text)
    last_serial = bounded_integer(last_text) if last_text else first_serial
    return SerialRange(first_serial, last_serial)


def parse_serial_ranges(text: str) -> SerialRanges:
    parts = [part.strip() for part in text.split(",")]
    try:
        return SerialRanges(tuple(_serial_range(part) for part in parts))
    except ValueError as error:
        raise ValueError(
            f"expected serial ranges like 1-100,200-250 of 64-bit integers, got {text!r}"
        ) from error


# -- every command ---------------------------------------------------------------------------------

DatabaseOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        metavar="PATH_OR_URL",
        show_default=False,
        help="SQLite file or postgresql:// URL. Default: $CARBONEX_DATABASE_URL, then carbonex.db.",
    ),
]
JsonOption = Annotated[
    bool,
    typer.Option(
        "--json",
        help="Print one machine-readable JSON document on stdout.",
        callback=render.json_mode,
    ),
]
CommandIdOption = Annotated[
    str | None,
    typer.Option(
        "--command-id",
        show_default=False,
        help="Client-chosen id; resubmitting it returns the first result instead of "
        "acting twice. Default: a fresh random id.",
    ),
]

# -- listings --------------------------------------------------------------------------------------

LimitOption = Annotated[
    int,
    typer.Option("--limit", min=1, max=QUERY_PAGE_SIZE_MAX, help="Rows to show."),
]
AfterSeqOption = Annotated[
    int,
    typer.Option(
        "--after-seq", min=0, max=INTEGER_MAX, help="Show entries after this journal sequence."
    ),
]

AfterPositionOption = Annotated[
    int | None,
    typer.Option(
        "--after-position",
        min=0,
        max=INTEGER_MAX,
        help="With --after-seq: resume after this movement of that entry.",
    ),
]

# -- unit selection --------------------------------------------------------------------------------

UnitTypeOption = Annotated[str, typer.Option("--unit-type", help="Unit type, e.g. VCU, EUA.")]
QuantityOption = Annotated[
    int | None,
    typer.Option(
        "--quantity",
        min=INTEGER_MIN,
        max=INTEGER_MAX,
        show_default=False,
        help="Units to act on, lowest serials first (or give --serials).",
    ),
]
SerialsOption = Annotated[
    SerialRanges | None,
    typer.Option(
        "--serials",
        parser=parse_serial_ranges,
        metavar="RANGES",
        show_default=False,
        help="Exact serials, e.g. 1-100,200-250 (instead of --quantity).",
    ),
]
VintageOption = Annotated[
    int | None,
    typer.Option(
        "--vintage",
        min=INTEGER_MIN,
        max=INTEGER_MAX,
        metavar="YEAR",
        show_default=False,
        help="Only units whose vintage covers this year (with --quantity).",
    ),
]
ProjectOption = Annotated[
    str | None,
    typer.Option("--project", show_default=False, help="Only units of this project."),
]
LabelOption = Annotated[
    str | None,
    typer.Option("--label", show_default=False, help="Only units carrying this label."),
]
RegistryOption = Annotated[
    str | None,
    typer.Option(
        "--registry",
        show_default=False,
        help="Registry of the serial space. Default: the unit type's own registry.",
    ),
]
IntoOption = Annotated[
    str | None,
    typer.Option(
        "--into",
        metavar="ACCOUNT",
        show_default=False,
        help="Move the units into this account (e.g. a retirement account).",
    ),
]


def date_option(name: str, help_text: str) -> Any:
    """An option holding an ISO date (typer has no date type of its own)."""
    return typer.Option(
        name, parser=parse_iso_date, metavar="DATE", show_default=False, help=help_text
    )


def selection_of(
    unit_type: str,
    quantity: int | None,
    serials: SerialRanges | None,
    vintage_year: int | None,
    project_id: str | None,
    label: str | None,
    registry: str | None,
) -> Selection:
    """The selection the options describe: a quantity or serial ranges, exactly one of them."""
    if (quantity is None) == (serials is None):
        usage_error("give either --quantity or --serials")
    return Selection(
        unit_type=unit_type,
        quantity=quantity,
        serial_ranges=serials.ranges if serials is not None else (),
        registry=registry,
        vintage_year=vintage_year,
        project_id=project_id,
        label=label,
    )
