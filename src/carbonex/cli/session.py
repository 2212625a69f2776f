"""Opening the ledger a command names with `--db`, and submitting one command to it.

A database that cannot be opened (or fails underneath a command) is reported as a clear message
with exit code 2, never a traceback. Passwords in database URLs are not printed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn, TypeVar

import typer

from carbonex.cli import render
from carbonex.cli.exits import EXIT_REFUSED, usage_error
from carbonex.ledger import Command, DamagedLedgerError, Ledger, Outcome
from carbonex.ledger.service import Clock, utc_now
from carbonex.store import SqlStore, StoreError, open_store, resolve_database
from carbonex.store.database import redacted

Opened = TypeVar("Opened")


def driver_errors() -> tuple[type[BaseException], ...]:
    """A database failing underneath a command: its driver's errors, and a ledger whose head is
    damaged (no command may write on it; `carbonex verify` says why)."""
    import psycopg

    return (sqlite3.Error, psycopg.Error, DamagedLedgerError)


def open_target(target: str, clock: Clock = utc_now, must_exist: bool = False) -> Ledger:
    """Open (and migrate) the ledger at `target`, or exit 2 saying why it cannot be opened.
    `must_exist`: a command that only reads refuses a database that holds no ledger."""
    return _opened_or_exit(target, lambda: Ledger.open(target, clock=clock, must_exist=must_exist))


def open_store_or_exit(target: str, migrate: bool = True, any_revision: bool = False) -> SqlStore:
    """The store of the ledger at `target` (which must exist), or exit 2 saying why not: for the
    commands that need the tables, not the ledger's cache (reports, backup, upgrade)."""
    return _opened_or_exit(
        target, lambda: open_store(target, migrate, must_exist=True, any_revision=any_revision)
    )


def _opened_or_exit(target: str, opening: Callable[[], Opened]) -> Opened:
    try:
        return opening()
    except StoreError as error:
        usage_error(without_password(str(error), target))
    except Exception as error:  # migrations and drivers raise their own types
        usage_error(
            f"cannot open database {redacted(target)}: {without_password(str(error), target)}"
        )


def driver_failed(target: str, error: BaseException) -> NoReturn:
    """Exit 2 for a database that failed underneath a command (the password not printed)."""
    usage_error(f"database {redacted(target)} failed: {without_password(str(error), target)}")


def without_password(message: str, target: str) -> str:
    return message.replace(target, redacted(target))


@contextmanager
def open_ledger(
    database: str | None,
    clock: Clock = utc_now,
    must_exist: bool = False,
    project_at_close: bool = True,
) -> Iterator[Ledger]:
    """The ledger `--db` names (else $CARBONEX_DATABASE_URL, else carbonex.db). Closing it
    projects what this process committed, unless not `project_at_close` (an audit, which
    writes nothing)."""
    target = resolve_database(database)
    ledger = open_target(target, clock, must_exist)
    try:
        yield ledger
    except driver_errors() as error:
        ledger.close(project=False)
        driver_failed(target, error)
    except BaseException:
        ledger.close(project=False)  # whoever reads next projects what this run committed
        raise
    else:
        ledger.close(project=project_at_close)


def exit_for(outcome: Outcome) -> None:
    if not outcome.accepted:
        raise typer.Exit(EXIT_REFUSED)


def submit(database: str | None, command: Command, as_json: bool) -> None:
    """Submit one command, print its outcome, exit 1 when it was refused."""
    with open_ledger(database) as ledger:
        outcome = ledger.submit(command)
    render.outcome(outcome, as_json)
    exit_for(outcome)
