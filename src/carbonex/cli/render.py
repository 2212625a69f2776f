"""Rendering: rich tables for people, one JSON document for scripts.

User-supplied text (holders, purposes, reasons) is never read as rich markup: every cell is a
plain `Text`, and messages are printed with markup off. Nor does it reach the terminal as
control characters: every cell and message is `shown`, each character free text may not hold
(an escape sequence, a bidirectional override) written as its escape, line breaks kept.
"""

from __future__ import annotations

import datetime as dt
import enum
import os
import sys
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from carbonex.ledger import Accepted, Outcome, Refused
from carbonex.text import visible

PIPED_OUTPUT_WIDTH_COLUMNS = 120
USAGE_ERROR_CODE = "E_USAGE"
"""The code of a usage error's JSON document (bad input, an unusable database: exit 2)."""


class _Mode:
    """Whether the running command was given --json (set by the option, reset per run)."""

    json = False


def json_mode(requested: bool) -> bool:
    """The --json option's callback: remember it, so that errors reported outside the command's
    own rendering (`exits.usage_error`) keep its promise of one JSON document on stdout."""
    _Mode.json = requested
    return requested


def usage_error(message: str) -> None:
    """Report bad usage on stderr and, under --json, as a JSON document on stdout."""
    if _Mode.json:
        json_document({"error": {"code": USAGE_ERROR_CODE, "message": message}})
    error(message)


"""Width of human output written to a file or pipe (a terminal uses its own width)."""
HASH_SHOWN_CHARACTERS = 16
"""Hex characters of a hash shown in tables (`--json` always gives the full hash)."""

Column = tuple[str, str]
"""(record key, column header)."""


def _console(stderr: bool) -> Console:
    console = Console(stderr=stderr, highlight=False, soft_wrap=False)
    if not console.is_terminal and "COLUMNS" not in os.environ:
        console.width = PIPED_OUTPUT_WIDTH_COLUMNS
    return console


def stdout_console() -> Console:
    return _console(stderr=False)


def stderr_console() -> Console:
    return _console(stderr=True)


def json_document(value: Any) -> None:
    """Print `value` as one indented JSON document on stdout."""
    options = orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS
    sys.stdout.write(orjson.dumps(value, default=str, option=options).decode() + "\n")
    sys.stdout.flush()


def shown(text: str) -> str:
    """`text` as a terminal may show it: `carbonex.text.visible`, line breaks kept (a table cell
    or a message may run over lines; a line break moves no cursor back)."""
    return visible(text, keep="\n")


def error(message: str) -> None:
    stderr_console().print(f"Error: {shown(message)}", markup=False, style="red", soft_wrap=True)


def line(message: str, style: str | None = None) -> None:
    stdout_console().print(shown(message), markup=False, style=style, soft_wrap=True)


def cell(value: Any) -> Text:
    if value is None:
        return Text("-", style="dim")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, int):
        return Text(f"{value:,}", justify="right")
    if isinstance(value, float):
        return Text(f"{value:,.6g}", justify="right")
    return Text(shown(str(value)))


def serials(first_serial: int, last_serial: int) -> str:
    if first_serial == last_serial:
        return f"{first_serial:,}"
    return f"{first_serial:,}-{last_serial:,}"


def short_hash(value: str | None) -> str:
    return "-" if not value else value[:HASH_SHOWN_CHARACTERS]


def vintage(start: str, end: str) -> str:
    """`2021` for a calendar-year vintage, else `start..end`."""
    if start[:4] == end[:4] and start[4:] == "-01-01" and end[4:] == "-12-31":
        return start[:4]
    return f"{start}..{end}"


def timestamp(text: str) -> str:
    """A recorded-at time in UTC to the second, e.g. `2026-03-02 09:40:00Z`."""
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}Z"


def details(values: Mapping[str, Any]) -> str:
    return "; ".join(f"{name}={value}" for name, value in values.items())


def display(record: Mapping[str, Any]) -> dict[str, Any]:
    """A query record with the derived columns tables show: serials, vintage, a short
    attributes id, a readable time and details."""
    shown = dict(record)
    if "first_serial" in record and "last_serial" in record:
        shown["serials"] = serials(record["first_serial"], record["last_serial"])
    if "vintage_start" in record and "vintage_end" in record:
        shown["vintage"] = vintage(record["vintage_start"], record["vintage_end"])
    if "attributes_id" in record:
        shown["attributes"] = short_hash(record["attributes_id"])
    if isinstance(record.get("recorded_at"), str):
        shown["recorded_at"] = timestamp(record["recorded_at"])
    if isinstance(record.get("details"), Mapping):
        shown["details"] = details(record["details"])
    return shown


def records_table(
    title: str, columns: Sequence[Column], records: Iterable[Mapping[str, Any]]
) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold")
    for _, header in columns:
        table.add_column(header, overflow="fold")
    for record in records:
        shown = display(record)
        table.add_row(*(cell(shown.get(key)) for key, _ in columns))
    return table


def print_table(table: Table) -> None:
    stdout_console().print(table)


def key_value_table(title: str, values: Mapping[str, Any]) -> Table:
    table = Table(title=title, title_justify="left", title_style="bold", show_header=False)
    table.add_column("field", style="bold")
    table.add_column("value")
    for key, value in values.items():
        table.add_row(Text(shown(key)), cell(value))
    return table


MOVEMENT_COLUMNS: list[Column] = [
    ("action", "action"),
    ("serial_space", "serial space"),
    ("serials", "serials"),
    ("quantity", "quantity"),
    ("from_account", "from"),
    ("to_account", "to"),
]


def movements(effects: Iterable[Sequence[Any]]) -> list[dict[str, Any]]:
    """The `move` effects of an accepted command, as records."""
    return [
        {
            "action": effect[1],
            "serial_space": effect[2],
            "serials": serials(effect[3], effect[4]),
            "quantity": effect[4] - effect[3] + 1,
            "from_account": effect[5],
            "to_account": effect[6],
        }
        for effect in effects
        if effect[0] == "move"
    ]


def accepted(outcome: Accepted) -> None:
    note = " (already accepted earlier: nothing changed)" if outcome.duplicate else ""
    line(
        f"Accepted: journal entry {outcome.seq}, hash {short_hash(outcome.entry_hash)}, "
        f"command id {outcome.command_id}{note}",
        style="green",
    )
    moved = movements(outcome.effects)
    if moved:
        print_table(records_table("Movements", MOVEMENT_COLUMNS, moved))


class Failure(Protocol):
    """A coded failure as every refusal holds them (ledger, project and inclusion alike)."""

    @property
    def code(self) -> enum.Enum: ...
    @property
    def message(self) -> str: ...
    @property
    def ids(self) -> Sequence[str]: ...


def refusal(subject: str, failures: Iterable[Failure]) -> None:
    """A refusal on stderr: what was refused, then each failure's code, message and ids."""
    console = stderr_console()
    console.print(f"Refused: {shown(subject)}", style="red bold", markup=False, soft_wrap=True)
    for failure in failures:
        ids = f" [{', '.join(failure.ids)}]" if failure.ids else ""
        console.print(
            shown(f"  {failure.code.value}: {failure.message}{ids}"),
            style="red",
            markup=False,
            soft_wrap=True,
        )


def refused(outcome: Refused) -> None:
    refusal(f"command id {outcome.command_id}", outcome.failures)


def outcome(result: Outcome, as_json: bool) -> None:
    """Accepted outcomes go to stdout; refusals to stderr (or stdout as JSON with --json)."""
    if as_json:
        json_document(result.to_record())
    elif isinstance(result, Accepted):
        accepted(result)
    else:
        refused(result)
