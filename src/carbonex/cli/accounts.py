"""`carbonex account ...`: open, close, freeze, unfreeze, list and show accounts."""

from __future__ import annotations

from typing import Annotated

import typer

from carbonex.cli import render
from carbonex.cli.exits import not_found
from carbonex.cli.options import (
    DEFAULT_ACCOUNT_REGISTRY,
    DEFAULT_PAGE_SIZE,
    CommandIdOption,
    DatabaseOption,
    JsonOption,
    LimitOption,
    new_command_id,
)
from carbonex.cli.session import open_ledger, submit
from carbonex.ledger import CloseAccount, FreezeAccount, OpenAccount, UnfreezeAccount
from carbonex.text import shortened

account_app = typer.Typer(help="Open, close, freeze and inspect accounts.", no_args_is_help=True)

AccountIdArgument = Annotated[str, typer.Argument(metavar="ID", help="Account id.")]
ReasonOption = Annotated[str, typer.Option("--reason", help="Why (kept in the journal).")]

ACCOUNT_COLUMNS: list[render.Column] = [
    ("account_id", "account"),
    ("registry", "registry"),
    ("kind", "kind"),
    ("holder", "holder"),
    ("status", "status"),
]
HOLDING_COLUMNS: list[render.Column] = [
    ("unit_type", "unit type"),
    ("serial_space", "serial space"),
    ("project_id", "project"),
    ("vintage", "vintage"),
    ("state", "state"),
    ("on_hold", "on hold"),
    ("quantity", "quantity"),
    ("blocks", "blocks"),
]


@account_app.command("open")
def open_account(
    account_id: AccountIdArgument,
    kind: Annotated[str, typer.Option("--kind", help="Account kind, e.g. company_holding.")],
    holder: Annotated[str, typer.Option("--holder", help="Who holds the account.")],
    registry: Annotated[str, typer.Option("--registry")] = DEFAULT_ACCOUNT_REGISTRY,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    command_id: CommandIdOption = None,
) -> None:
    """Open an account."""
    command = OpenAccount(new_command_id(command_id), account_id, kind, holder, registry)
    submit(database, command, as_json)


@account_app.command("close")
def close_account(
    account_id: AccountIdArgument,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    command_id: CommandIdOption = None,
) -> None:
    """Close an account that holds no active units."""
    submit(database, CloseAccount(new_command_id(command_id), account_id), as_json)


@account_app.command("freeze")
def freeze_account(
    account_id: AccountIdArgument,
    reason: ReasonOption,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    command_id: CommandIdOption = None,
) -> None:
    """Freeze an account: its units cannot move until it is unfrozen."""
    submit(database, FreezeAccount(new_command_id(command_id), account_id, reason), as_json)


@account_app.command("unfreeze")
def unfreeze_account(
    account_id: AccountIdArgument,
    reason: ReasonOption,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    command_id: CommandIdOption = None,
) -> None:
    """Unfreeze a frozen account."""
    submit(database, UnfreezeAccount(new_command_id(command_id), account_id, reason), as_json)


@account_app.command("list")
def list_accounts(
    limit: LimitOption = DEFAULT_PAGE_SIZE,
    after: Annotated[str, typer.Option("--after", help="Show accounts after this id.")] = "",
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """List accounts in id order, one page at a time."""
    with open_ledger(database, must_exist=True) as ledger:
        accounts = ledger.accounts(limit, after)
    if as_json:
        render.json_document(accounts)
        return
    render.print_table(render.records_table("Accounts", ACCOUNT_COLUMNS, accounts))
    if len(accounts) == limit:
        render.line(f"More may follow: --after {accounts[-1]['account_id']}", style="dim")


@account_app.command("show")
def show_account(
    account_id: AccountIdArgument,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show an account and what it holds."""
    with open_ledger(database, must_exist=True) as ledger:
        account = ledger.account(account_id)
        holdings = ledger.holdings(account_id) if account is not None else []
    if account is None:
        not_found(f"unknown account '{shortened(account_id)}'", as_json)
    if as_json:
        render.json_document({"account": account, "holdings": holdings})
        return
    render.print_table(render.key_value_table(f"Account {account_id}", account))
    render.print_table(render.records_table("Holdings", HOLDING_COLUMNS, holdings))
