"""`carbonex writer`: one writer process that group-commits the single commands of all local
clients (see `carbonex.ledger.writer`).

A socket path the writer cannot serve at (too long, in a directory that is not there, taken by a
file, a directory or a live writer, or the database file itself) is reported as a clear message
with exit code 2 before the ledger is opened, and nothing at the path is changed. So is a lock
file beside it (PATH.lock) that another writer holds, even when its socket was deleted, that is
a symbolic link or no regular file, or that is the database file."""

from __future__ import annotations

import os
import signal
from typing import Annotated, Any

import typer

from carbonex.cli.exits import usage_error
from carbonex.cli.options import DatabaseOption
from carbonex.cli.session import open_ledger
from carbonex.ledger.writer import (
    WriterServer,
    WriterSocketError,
    lock_path_of,
    socket_path_problem,
)
from carbonex.store.database import is_postgres_url, redacted, resolve_database, sqlite_path


def writer(
    socket_path: Annotated[
        str, typer.Option("--socket", help="UNIX socket to serve (made readable by you only).")
    ],
    database: DatabaseOption = None,
) -> None:
    """Serve single commands from local clients (`Ledger.open(..., writer_socket=PATH)`) as
    group commits, until SIGINT or SIGTERM."""
    target = resolve_database(database)
    problem = _socket_problem(socket_path, target)
    if problem is not None:
        usage_error(problem)
    with open_ledger(target) as ledger:
        server = WriterServer(ledger, socket_path)

        def stop(*_: Any) -> None:
            server.stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        typer.echo(f"writer for {redacted(target)} on {socket_path}", err=True)
        try:
            server.serve()
        except WriterSocketError as error:  # taken, or locked, since the check
            usage_error(str(error))
        typer.echo(f"{server.commands} commands in {server.batches} commits", err=True)


def _socket_problem(socket_path: str, target: str) -> str | None:
    """Why the writer cannot serve the ledger at `target` on `socket_path`, or None."""
    database_file = None if is_postgres_url(target) else os.path.realpath(sqlite_path(target))
    if os.path.realpath(socket_path) == database_file:
        return f"the socket path {socket_path} is the database file's"
    lock_path = lock_path_of(socket_path)
    if os.path.realpath(lock_path) == database_file:
        return f"the writer's lock file {lock_path} is the database file"
    return socket_path_problem(socket_path)
