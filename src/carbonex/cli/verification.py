"""`carbonex verify`: replay the journal and check the ledger's invariants, with progress."""

from __future__ import annotations

import typer
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from carbonex.cli import render
from carbonex.cli.exits import EXIT_PROBLEMS_FOUND
from carbonex.cli.options import DatabaseOption, JsonOption
from carbonex.cli.session import open_ledger
from carbonex.ledger import Ledger, VerifyReport
from carbonex.projects.registry import ProjectRegistry


def verify_with_progress(ledger: Ledger, show_progress: bool) -> VerifyReport:
    """Run `Ledger.verify`, showing the journal entries replayed so far on stderr."""
    if not show_progress:
        return ledger.verify()
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=render.stderr_console(), transient=True) as progress:
        task = progress.add_task("Verifying the journal", total=None)

        def advance(entries: int, total_entries: int) -> None:
            progress.update(
                task,
                completed=entries,
                total=total_entries,
                description=f"Verified {entries:,} of {total_entries:,} entries",
            )

        return ledger.verify(advance)


def render_report(report: VerifyReport) -> None:
    checked = (
        f"{report.entries:,} journal entries, {report.blocks:,} blocks, "
        f"{report.issuances:,} issuances"
    )
    if report.ok:
        render.line(f"OK: {checked} checked; every invariant holds", style="green bold")
        return
    render.line(f"FAILED: {len(report.problems)} problems in {checked}", style="red bold")
    render.print_table(
        render.records_table(
            "Problems",
            [("invariant", "invariant"), ("message", "problem")],
            [{"invariant": p.invariant, "message": p.message} for p in report.problems],
        )
    )


def verify(database: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """Check the hash chains, replay the journal and project histories, check every invariant."""
    with open_ledger(database, must_exist=True) as ledger:
        report = verify_with_progress(ledger, show_progress=not as_json)
        for problem in ProjectRegistry(ledger).verify():
            report.add("projects", problem)
    if as_json:
        render.json_document(report.to_record())
    else:
        render_report(report)
    if not report.ok:
        raise typer.Exit(EXIT_PROBLEMS_FOUND)
