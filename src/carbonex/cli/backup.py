"""`carbonex backup DEST`: an online, consistent copy of a SQLite ledger, verified by default.

A ledger written by an older Carbonex is copied as it is and left unverified (this version reads
only its own schema): a backup is what one keeps before `carbonex upgrade`. PostgreSQL has its own
tools for this (pg_dump, base backups); the command says so instead of pretending. Exit codes: 0
copied (and verified), 1 the copy does not verify, 2 bad usage.
"""

from __future__ import annotations

import os
import sqlite3
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated, Any

import typer

from carbonex.cli import render
from carbonex.cli.exits import EXIT_PROBLEMS_FOUND, usage_error
from carbonex.cli.options import DatabaseOption, JsonOption
from carbonex.cli.session import open_ledger, open_store_or_exit
from carbonex.cli.verification import render_report, verify_with_progress
from carbonex.store.database import (
    SCHEMA_HEAD,
    is_postgres_url,
    redacted,
    resolve_database,
    schema_revision,
)
from carbonex.store.sqlite import SIDE_FILE_SUFFIXES, SqliteStore

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
    revision = _copy_source(target, destination, show_status=not as_json)
    record: dict[str, Any] = {
        "backup": destination,
        "bytes": os.path.getsize(destination),
        "schema_revision": revision,
    }
    report = None
    if revision == SCHEMA_HEAD:
        with open_ledger(destination, must_exist=True) as copy:
            head = copy.head()
            report = verify_with_progress(copy, show_progress=not as_json) if check else None
        record |= {"journal_seq": head["seq"], "journal_head_hash": head["entry_hash"]}
    record |= {
        "verified": None if report is None else report.ok,
        "problems": [] if report is None else report.to_record()["problems"],
    }
    _render(record, report, as_json)
    if report is not None and not report.ok:
        raise typer.Exit(EXIT_PROBLEMS_FOUND)


def _copy_source(target: str, destination: str, show_status: bool) -> str | None:
    """Copy the ledger at `target`, of any schema revision this Carbonex knows (a backup comes
    before `carbonex upgrade`); the revision copied."""
    if is_postgres_url(target):
        usage_error(f"{redacted(target)} is not a SQLite file: {POSTGRES_ADVICE}")
    store = open_store_or_exit(target, migrate=False, any_revision=True)
    try:
        if not isinstance(store, SqliteStore):
            raise TypeError(f"a store of type {type(store).__name__} for a SQLite file")
        _check_destination(destination, store.path)
        status = f"Copying {store.path} to {destination}"
        with render.stderr_console().status(status) if show_status else nullcontext():
            try:
                store.backup(destination)
            except FileExistsError as error:
                usage_error(
                    f"cannot write {destination}: {error.filename} exists (another backup "
                    "writing, or one that stopped midway: remove it if no backup is running)"
                )
            except (OSError, sqlite3.Error) as error:  # SQLite cannot make a file there
                usage_error(f"cannot write {destination}: {error}")
        return schema_revision(store)
    finally:
        store.close()


def _check_destination(destination: str, source: str) -> None:
    path = Path(destination)
    if path.is_symlink():
        usage_error(f"{destination} is a symbolic link; a backup never writes through one")
    if path.exists():
        usage_error(f"{destination} exists; a backup never overwrites a file")
    for suffix in SIDE_FILE_SUFFIXES:
        if os.path.lexists(destination + suffix):
            usage_error(
                f"{destination}{suffix} exists, left by another database of that name: SQLite "
                "would apply it to the copy; remove it first"
            )
    if not path.parent.is_dir():
        usage_error(f"directory {path.parent} does not exist")
    if path.resolve() == Path(source).resolve():
        usage_error("the backup must be a different file from the database")


def _render(record: dict[str, Any], report: Any, as_json: bool) -> None:
    if as_json:
        render.json_document(record)
        return
    if "journal_seq" not in record:
        render.line(
            f"Backed up to {record['backup']}: {record['bytes']:,} bytes of a ledger at schema "
            f"revision {record['schema_revision']}, not verified: this Carbonex verifies "
            f"revision {SCHEMA_HEAD} (upgrade a copy, then verify it)",
            style="yellow bold",
        )
        return
    render.line(
        f"Backed up to {record['backup']}: {record['bytes']:,} bytes, journal at entry "
        f"{record['journal_seq']:,} ({record['journal_head_hash'][:16]}…)",
        style="green bold",
    )
    if report is not None:
        render_report(report)
