"""`carbonex batch FILE`: a JSON list of command records, submitted all or nothing.

Records are read by `command_from_record` (flat objects with "kind" plus the command's fields). A
record without a "command_id" gets `<batch command id>-<index>`, so retrying the same batch with
the same `--command-id` is idempotent. A malformed file or record is bad usage (exit 2) and
nothing is submitted.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from carbonex.cli import render
from carbonex.cli.exits import EXIT_REFUSED, usage_error
from carbonex.cli.options import (
    INTEGER_MAX,
    INTEGER_MIN,
    CommandIdOption,
    DatabaseOption,
    JsonOption,
    new_command_id,
)
from carbonex.cli.session import open_ledger
from carbonex.ledger import Accepted, Command, CommandFormatError, Refused, command_from_record

BATCH_FILE_BYTES_MAX = 64 * 1024 * 1024
"""Largest batch file read (the ledger separately caps the commands in one batch)."""

BATCH_COLUMNS: list[render.Column] = [
    ("index", "index"),
    ("seq", "seq"),
    ("kind", "kind"),
    ("command_id", "command id"),
    ("moved", "units moved"),
    ("note", "note"),
]


def read_records(path: Path) -> list[Any]:
    """The file's JSON list, or exit 2 saying what is wrong with it."""
    try:
        with path.open("rb") as handle:
            # One byte beyond the limit tells a file too large from one exactly at it; the stated
            # size would not do: a device or FIFO states 0 and may never end.
            data = handle.read(BATCH_FILE_BYTES_MAX + 1)
        if len(data) > BATCH_FILE_BYTES_MAX:
            usage_error(f"batch file {path} is larger than {BATCH_FILE_BYTES_MAX:,} bytes")
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError) as error:
        usage_error(f"cannot read batch file {path}: {error}")
    try:
        records = json.loads(text)
    except json.JSONDecodeError as error:
        usage_error(f"batch file {path} is not valid JSON: {error}")
    except ValueError:  # raised, not as a JSONDecodeError, for an integer too long to convert
        usage_error(
            f"batch file {path} is not valid JSON: it holds an integer of more than "
            f"{sys.get_int_max_str_digits()} digits"
        )
    except RecursionError:
        usage_error(f"batch file {path} nests JSON too deeply")
    if not isinstance(records, list):
        usage_error(f"batch file {path} must hold a JSON list of command records")
    return records


def oversized_integer(value: Any) -> int | None:
    """The first integer anywhere in `value` that does not fit in 64 bits (iteratively, so any
    depth JSON can parse is fine)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, int) and not INTEGER_MIN <= item <= INTEGER_MAX:
            return item
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return None


def commands_from_records(records: list[Any], batch_command_id: str) -> list[Command]:
    commands = []
    for index, record in enumerate(records):
        if isinstance(record, dict) and "command_id" not in record:
            record = {**record, "command_id": f"{batch_command_id}-{index}"}
        oversized = oversized_integer(record)
        if oversized is not None:
            usage_error(f"batch record at index {index}: {oversized} does not fit in 64 bits")
        try:
            commands.append(command_from_record(record))
        except CommandFormatError as error:
            usage_error(f"batch record at index {index}: {error}")
    return commands


def _accepted_rows(commands: list[Command], outcomes: list[Accepted]) -> list[dict[str, Any]]:
    return [
        {
            "index": index,
            "seq": outcome.seq,
            "kind": command.kind,
            "command_id": outcome.command_id,
            "moved": sum(row["quantity"] for row in render.movements(outcome.effects)),
            "note": "already accepted" if outcome.duplicate else "",
        }
        for index, (command, outcome) in enumerate(zip(commands, outcomes, strict=True))
    ]


def batch(
    path: Annotated[Path, typer.Argument(metavar="FILE", help="JSON list of command records.")],
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    command_id: CommandIdOption = None,
) -> None:
    """Submit a batch of commands: every one is accepted, or none is."""
    commands = commands_from_records(read_records(path), new_command_id(command_id))
    with open_ledger(database) as ledger:
        result = ledger.submit_batch(commands)
    if isinstance(result, Refused):
        render.outcome(result, as_json)
        raise typer.Exit(EXIT_REFUSED)
    outcomes = result if isinstance(result, list) else [result]
    if as_json:
        render.json_document({"accepted": True, "outcomes": [o.to_record() for o in outcomes]})
        return
    render.line(f"Accepted: all {len(outcomes)} commands of the batch", style="green")
    render.print_table(
        render.records_table("Batch", BATCH_COLUMNS, _accepted_rows(commands, outcomes))
    )
