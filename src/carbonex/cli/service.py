"""`carbonex serve` (the web service) and `carbonex user ...` (its users)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from carbonex.cli import render
from carbonex.cli.exits import usage_error
from carbonex.cli.options import DatabaseOption, JsonOption
from carbonex.cli.session import open_ledger
from carbonex.ledger import Transaction
from carbonex.ledger.signed_heads import KeyFileError, load_private_key
from carbonex.service import identity
from carbonex.service.app import DATABASE_VARIABLE, HEAD_KEY_VARIABLE
from carbonex.service.identity import IdentityError, Role

user_app = typer.Typer(help="Users of the service, their roles and API keys.", no_args_is_help=True)
WORKERS_MAX = 64


def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535)] = 8000,
    workers: Annotated[int, typer.Option("--workers", min=1, max=WORKERS_MAX)] = 1,
    demo: Annotated[
        bool, typer.Option("--demo/--no-demo", help="Load the demo dataset into an empty database.")
    ] = True,
    database: DatabaseOption = None,
    head_key: Annotated[
        Path | None,
        typer.Option(
            "--head-key",
            metavar="FILE",
            help="Sign heads with this private key (`carbonex head keygen`) at "
            "/api/v1/heads/signed.",
        ),
    ] = None,
) -> None:
    """Serve the REST API, the web interface and the public explorer."""
    import uvicorn

    from carbonex.service.demo import DEMO_PASSWORD, DEMO_USERS, load_demo
    from carbonex.service.server import HTTP_PROTOCOL
    from carbonex.store.database import resolve_database

    target = resolve_database(database)
    if head_key is not None:
        try:
            load_private_key(head_key)  # each worker loads it again; a bad file stops us here
        except KeyFileError as error:
            usage_error(str(error))
        os.environ[HEAD_KEY_VARIABLE] = str(head_key.resolve())
    with open_ledger(target) as ledger:
        loaded = demo and load_demo(ledger)
    if loaded:
        users = ", ".join(user.user_id for user in DEMO_USERS)
        render.line(f"Demo data loaded. Users: {users}; password: {DEMO_PASSWORD}", style="bold")
    render.line(
        f"Open http://{host}:{port}/ (explorer: /explorer, API docs: /docs, OpenAPI: "
        "/openapi.json)",
        style="green bold",
    )
    os.environ[DATABASE_VARIABLE] = target
    uvicorn.run(
        "carbonex.service.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        http=HTTP_PROTOCOL,  # TCP_NODELAY, which uvicorn loses with several workers
        log_level="warning",
    )


@user_app.command("add")
def add_user(
    user_id: Annotated[str, typer.Argument(help="Sign-in name (lower case).")],
    name: Annotated[str, typer.Option("--name", help="Display name.")],
    role: Annotated[list[Role], typer.Option("--role", help="A role (repeatable).")],
    account: Annotated[
        list[str] | None, typer.Option("--account", help="An account represented (repeatable).")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Add a user; the password is read from the prompt (or standard input), never an option."""
    password = typer.prompt("Password", hide_input=True, confirmation_prompt=True)
    with open_ledger(database) as ledger:

        def work(tx: Transaction) -> tuple[IdentityError | None, bool]:
            try:
                identity.add_user(tx.store, user_id, name, password, frozenset(role), tx.now)
                for account_id in account or []:
                    identity.add_representative(tx.store, user_id, account_id)
            except IdentityError as error:
                return error, False
            return None, True

        error = ledger.transact(work)
    if error is not None:
        usage_error(f"{error.code}: {error}")
    render.line(f"Added user {user_id}", style="green bold")


@user_app.command("api-key")
def new_api_key(
    user_id: Annotated[str, typer.Argument()],
    label: Annotated[str, typer.Option("--label")] = "",
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create an API key for a user (shown once)."""
    with open_ledger(database) as ledger:

        def work(tx: Transaction) -> tuple[tuple[str, str] | IdentityError, bool]:
            if identity.principal_of(tx.store, user_id, "api_key") is None:
                return IdentityError("E_USER_UNKNOWN", f"no active user '{user_id}'"), False
            try:
                return identity.create_api_key(tx.store, user_id, label, tx.now), True
            except IdentityError as error:
                return error, False

        result = ledger.transact(work)
    if isinstance(result, IdentityError):
        usage_error(f"{result.code}: {result}")
    if as_json:
        render.json_document({"key_id": result[0], "api_key": result[1]})
    else:
        render.line(f"API key {result[0]} (shown once): {result[1]}", style="bold")
