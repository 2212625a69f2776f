"""`carbonex writer`: one writer process that group-commits the single commands of all local
clients (see `carbonex.ledger.writer`)."""

from __future__ import annotations

import signal
from typing import Annotated, Any

import typer

from carbonex.cli.options import DatabaseOption
from carbonex.cli.session import open_ledger
from carbonex.ledger.writer import WriterServer
from carbonex.store.database import redacted, resolve_database


def writer(
    socket_path: Annotated[
        str, typer.Option("--socket", help="UNIX socket to serve (made readable by you only).")
    ],
    database: DatabaseOption = None,
) -> None:
    """Serve single commands from local clients (`Ledger.open(..., writer_socket=PATH)`) as
    group commits, until SIGINT or SIGTERM."""
    target = resolve_database(database)
    with open_ledger(target) as ledger:
        server = WriterServer(ledger, socket_path)

        def stop(*_: Any) -> None:
            server.stop.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        typer.echo(f"writer for {redacted(target)} on {socket_path}", err=True)
        server.serve()
        typer.echo(f"{server.commands} commands in {server.batches} commits", err=True)
