"""`carbonex demo`: run the scripted scenario on a fresh database and show what it did.

The database must hold no journal yet; `--force` deletes a SQLite file (and its -wal and -shm
files) and starts again. The scenario clock is fixed, so the output is the same on every run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from carbonex.cli import render
from carbonex.cli.exits import EXIT_PROBLEMS_FOUND, EXIT_REFUSED, usage_error
from carbonex.cli.options import JsonOption
from carbonex.cli.queries import HISTORY_COLUMNS, render_summary
from carbonex.cli.session import open_ledger
from carbonex.cli.verification import render_report, verify_with_progress
from carbonex.ledger import Accepted, Ledger, Refused, VerifyReport
from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX
from carbonex.scenario import (
    PROVENANCE_SERIAL,
    PROVENANCE_SERIAL_SPACE,
    SCENARIO_START,
    ScenarioClock,
    Step,
    scenario,
)
from carbonex.store.database import is_postgres_url, redacted, sqlite_path, target_problem
from carbonex.store.sqlite import SIDE_FILE_SUFFIXES

DEMO_DATABASE = "carbonex-demo.db"
"""The demo's own file, so it never writes into a registry's default database by accident."""

HOLDING_COLUMNS: list[render.Column] = [
    ("account_id", "account"),
    ("unit_type", "unit type"),
    ("project_id", "project"),
    ("vintage", "vintage"),
    ("state", "state"),
    ("on_hold", "on hold"),
    ("quantity", "quantity"),
]
FAILURE_COLUMNS: list[render.Column] = [("code", "code"), ("message", "message")]
BLOCK_COLUMNS: list[render.Column] = [
    ("block_id", "block"),
    ("serials", "serials"),
    ("quantity", "quantity"),
    ("state", "state"),
    ("hold_id", "hold"),
]


@dataclass(slots=True)
class DemoRun:
    steps: list[dict[str, Any]] = field(default_factory=list)
    refused: Refused | None = None
    head: Accepted | None = None


def sqlite_file(target: str) -> Path | None:
    """The file behind a SQLite target; None for a PostgreSQL URL."""
    return None if is_postgres_url(target) else Path(sqlite_path(target))


def delete_database_file(path: Path) -> None:
    for suffix in ("", *SIDE_FILE_SUFFIXES):
        try:
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        except OSError as error:
            usage_error(f"cannot delete {path}{suffix}: {error}")


def require_fresh(ledger: Ledger, target: str) -> None:
    if not ledger.journal(limit=1):
        return
    advice = (
        "pass --force to delete the file and start again"
        if sqlite_file(target)
        else "--force only deletes SQLite files; use an empty PostgreSQL schema"
    )
    usage_error(f"{redacted(target)} already holds a journal; {advice}")


def narrate(step: Step, outcome: Accepted | Refused) -> None:
    if isinstance(outcome, Accepted):
        render.line(f"{outcome.seq:>4}  {step.title}", style="green")
        return
    codes = ", ".join(outcome.codes)
    render.line(f"   -  {step.title}: refused with {codes}", style="yellow")


def show_blocks(ledger: Ledger, account_ids: tuple[str, ...]) -> None:
    for account_id in account_ids:
        rows = ledger.blocks(account_id, QUERY_PAGE_SIZE_MAX)
        render.print_table(
            render.records_table(f"      Blocks of {account_id}", BLOCK_COLUMNS, rows)
        )


def run_steps(ledger: Ledger, steps: list[Step], as_json: bool) -> DemoRun:
    """Submit each step; stop with exit 1 if one does not go as scripted."""
    run = DemoRun()
    for step in steps:
        outcome = ledger.submit(step.command)
        if outcome.accepted == step.refusal_expected:
            render.outcome(outcome, as_json=False)
            render.error(f"demo step '{step.title}' did not go as scripted")
            raise typer.Exit(EXIT_REFUSED)
        run.steps.append({"title": step.title, "outcome": outcome.to_record()})
        if isinstance(outcome, Refused):
            run.refused = outcome
        else:
            run.head = outcome
        if not as_json:
            narrate(step, outcome)
            show_blocks(ledger, step.show_blocks_of)
    return run


def all_holdings(ledger: Ledger) -> dict[str, list[dict[str, Any]]]:
    return {
        account["account_id"]: ledger.holdings(account["account_id"])
        for account in ledger.accounts(QUERY_PAGE_SIZE_MAX)
    }


def render_closing(ledger: Ledger, run: DemoRun, report: VerifyReport) -> None:
    render.line("")
    render_summary(ledger.summary())
    rows = [
        {"account_id": account_id} | row
        for account_id, holdings in all_holdings(ledger).items()
        for row in holdings
    ]
    render.print_table(render.records_table("Holdings per account", HOLDING_COLUMNS, rows))
    if run.refused is not None:
        failures = [failure.to_record() for failure in run.refused.failures]
        render.print_table(
            render.records_table(
                f"Refused command {run.refused.command_id}", FAILURE_COLUMNS, failures
            )
        )
    record = ledger.provenance(PROVENANCE_SERIAL_SPACE, PROVENANCE_SERIAL) or {"history": []}
    history = record["history"]
    render.print_table(
        render.records_table(
            f"Life of serial {PROVENANCE_SERIAL} of {PROVENANCE_SERIAL_SPACE}",
            HISTORY_COLUMNS,
            history,
        )
    )
    render_report(report)
    if run.head is not None:
        render.line(f"Journal head: entry {run.head.seq}, hash {run.head.entry_hash}", style="bold")


def json_closing(ledger: Ledger, target: str, run: DemoRun, report: VerifyReport) -> None:
    head = run.head
    render.json_document(
        {
            "database": redacted(target),
            "steps": run.steps,
            "refused": run.refused.to_record() if run.refused is not None else None,
            "summary": ledger.summary(),
            "holdings": all_holdings(ledger),
            "verify": report.to_record(),
            "journal_head": None
            if head is None
            else {"seq": head.seq, "entry_hash": head.entry_hash},
        }
    )


def demo(
    database: Annotated[
        str, typer.Option("--db", metavar="PATH_OR_URL", help="A fresh database for the demo.")
    ] = DEMO_DATABASE,
    force: Annotated[
        bool, typer.Option("--force", help="Delete the SQLite file first if it holds a journal.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """Run a scripted end-to-end scenario on a fresh database, then verify it."""
    problem = target_problem(database)
    if problem is not None:  # before --force deletes anything
        usage_error(problem)
    path = sqlite_file(database)
    if force and path is not None:
        delete_database_file(path)
    with open_ledger(database, clock=ScenarioClock()) as ledger:
        require_fresh(ledger, database)
        if not as_json:
            render.line(
                f"Carbonex demo on {redacted(database)}; scenario clock starts "
                f"{SCENARIO_START:%Y-%m-%d %H:%M} UTC",
                style="bold",
            )
        run = run_steps(ledger, scenario(), as_json)
        report = verify_with_progress(ledger, show_progress=not as_json)
        if as_json:
            json_closing(ledger, database, run, report)
        else:
            render_closing(ledger, run, report)
    if not report.ok:
        raise typer.Exit(EXIT_PROBLEMS_FOUND)
