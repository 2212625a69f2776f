"""`carbonex backup DEST`: an online, consistent copy of a SQLite ledger, verified by default.

PostgreSQL has its own tools for this (pg_dump, base backups); the command says so instead of
pretending. Exit codes: 0 copied (and verified), 1 the copy does not verify, 2 bad usage.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from carbonex.cli import render
from carbonex.cli.exits import EXIT_PROBLEMS_FOUND, usage_error
from carbonex.cli.options import DatabaseOption, JsonOption
from carbonex.cli.session import open_ledger
from carbonex.cli.verification import render_report, verify_with_progress
from carbonex.store.database import redacted, resolve_database
from carbonex.store.sqlite import SqliteStore

POSTGRES_ADVICE = (
    "back up PostgreSQL with its own tools (pg_dump --format=custom, or a base backup with WAL "
    "archiving); `carbonex verify --db URL` checks a restored copy"
)


def backup(
    destination: Annotated[str, typer.Argument(help="The new file (must not exist).")],
    database: DatabaseOption = None,
    check: Annotated[
        bool, typer.Option("--verify/--no-verify", help="Verify the copy (default: yes).")
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Copy a SQLite ledger while it runs (one consistent snapshot), then verify the copy."""
    target = resolve_database(database)
    with open_ledger(target, must_exist=True) as ledger:
        if not isinstance(ledger.store, SqliteStore):
            usage_error(f"{redacted(target)} is not a SQLite file: {POSTGRES_ADVICE}")
        _check_destination(destination, ledger.store.path)
        status = f"Copying {ledger.store.path} to {destination}"
        with nullcontext() if as_json else render.stderr_console().status(status):
            try:
                ledger.store.backup(destination)
            except OSError as error:
                usage_error(f"cannot write {destination}: {error}")
    with open_ledger(destination, must_exist=True) as copy:
        head = copy.head()
        report = verify_with_progress(copy, show_progress=not as_json) if check else None
    record: dict[str, Any] = {
        "backup": destination,
        "bytes": os.path.getsize(destination),
        "journal_seq": head["seq"],
        "journal_head_hash": head["entry_hash"],
        "verified": None if report is None else report.ok,
        "problems": [] if report is None else report.to_record()["problems"],
    }
    _render(record, report, as_json)
    if report is not None and not report.ok:
        raise typer.Exit(EXIT_PROBLEMS_FOUND)


def _check_destination(destination: str, source: str) -> None:
    path = Path(destination)
    if path.exists():
        usage_error(f"{destination} exists; a backup never overwrites a file")
    if not path.parent.is_dir():
        usage_error(f"directory {path.parent} does not exist")
    if path.resolve() == Path(source).resolve():
        usage_error("the backup must be a different file from the database")


def _render(record: dict[str, Any], report: Any, as_json: bool) -> None:
    if as_json:
        render.json_document(record)
        return
    render.line(
        f"Backed up to {record['backup']}: {record['bytes']:,} bytes, journal at entry "
        f"{record['journal_seq']:,} ({record['journal_head_hash'][:16]}…)",
        style="green bold",
    )
    if report is not None:
        render_report(report)
