"""`carbonex import verra FILE` and `carbonex import gold-standard FILE`: registry exports in.

Prints rows read, blocks imported, retired, cancelled and the bad rows (line and reason). Exit 1
when a row is bad and `--skip-bad-rows` was not given (nothing was submitted), 2 when the file
cannot be read, holds a line too long to be a row, or its header lacks a required column or names
one twice (nothing was submitted).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from carbonex.cli import render
from carbonex.cli.exits import EXIT_REFUSED, usage_error
from carbonex.cli.options import DatabaseOption, JsonOption
from carbonex.cli.session import open_ledger
from carbonex.imports import ImportReport, import_gold_standard, import_verra
from carbonex.imports.pipeline import Progress as ProgressCallback
from carbonex.imports.report import ImportRefusedError
from carbonex.ledger import Ledger

Importer = Callable[..., ImportReport]

import_app = typer.Typer(
    help="Import registry exports (Verra, Gold Standard) as issued and retired blocks.",
    no_args_is_help=True,
)

FileArgument = Annotated[Path, typer.Argument(metavar="FILE", help="The registry's CSV export.")]
SkipOption = Annotated[
    bool,
    typer.Option(
        "--skip-bad-rows",
        help="Import the good rows and report the bad ones (default: one bad row refuses all).",
    ),
]
PROBLEM_COLUMNS: list[render.Column] = [("line", "line"), ("reason", "reason")]
COUNT_FIELDS = (
    "rows_read",
    "blocks_imported",
    "blocks_already_present",
    "retired",
    "cancelled",
    "held",
    "quantity_imported",
)


def _run(importer: Importer, path: Path, database: str | None, skip: bool, as_json: bool) -> None:
    with open_ledger(database) as ledger:
        try:
            report = _with_progress(importer, ledger, path, skip)
        except ImportRefusedError as error:
            usage_error(str(error))
    _print(report, as_json)
    if not report.ok and not skip:
        raise typer.Exit(EXIT_REFUSED)


def _with_progress(importer: Importer, ledger: Ledger, path: Path, skip: bool) -> ImportReport:
    columns = (
        SpinnerColumn(),
        TextColumn("importing {task.fields[name]}: {task.completed:,} rows"),
    )
    with Progress(
        *columns, TimeElapsedColumn(), console=render.stderr_console(), transient=True
    ) as bar:
        task = bar.add_task("import", total=None, name=path.name)
        update: ProgressCallback = lambda rows: bar.update(task, completed=rows)  # noqa: E731
        return importer(ledger, path, skip_bad_rows=skip, progress=update)


def _print(report: ImportReport, as_json: bool) -> None:
    if as_json:
        render.json_document(report.to_record())
        return
    counts = {"file": report.source}
    counts |= {name.replace("_", " "): getattr(report, name) for name in COUNT_FIELDS}
    render.print_table(render.key_value_table("Import", counts))
    if report.ok:
        return
    title = "Skipped rows" if report.skipped_bad_rows else "Bad rows (nothing was imported)"
    records = [problem.to_record() for problem in report.problems]
    render.print_table(render.records_table(title, PROBLEM_COLUMNS, records))
    if report.problems_total > len(records):
        render.line(f"and {report.problems_total - len(records):,} more bad rows")


@import_app.command("verra")
def verra(
    path: FileArgument,
    database: DatabaseOption = None,
    skip_bad_rows: SkipOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import a Verra VCU export: each row is issued with its serials, then retired or cancelled."""
    _run(import_verra, path, database, skip_bad_rows, as_json)


@import_app.command("gold-standard")
def gold_standard(
    path: FileArgument,
    database: DatabaseOption = None,
    skip_bad_rows: SkipOption = False,
    as_json: JsonOption = False,
) -> None:
    """Import a Gold Standard issuance or retirement export."""
    _run(import_gold_standard, path, database, skip_bad_rows, as_json)
