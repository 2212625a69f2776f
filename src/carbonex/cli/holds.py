"""`carbonex hold ...`: the two phases of a pending deal (place, then release or consume)."""

from __future__ import annotations

from typing import Annotated

import typer

from carbonex.cli.options import (
    CommandIdOption,
    DatabaseOption,
    JsonOption,
    LabelOption,
    ProjectOption,
    QuantityOption,
    RegistryOption,
    SerialsOption,
    UnitTypeOption,
    VintageOption,
    new_command_id,
    selection_of,
)
from carbonex.cli.session import submit
from carbonex.ledger import ConsumeHold, PlaceHold, ReleaseHold

hold_app = typer.Typer(help="Place, release and consume holds on units.", no_args_is_help=True)

HoldIdArgument = Annotated[str, typer.Argument(metavar="HOLD_ID", help="The hold's id.")]


@hold_app.command("place")
def place_hold(
    account_id: Annotated[str, typer.Option("--account", help="Account holding the units.")],
    unit_type: UnitTypeOption,
    purpose: Annotated[str, typer.Option("--purpose", help="What the hold is for.")],
    quantity: QuantityOption = None,
    serials: SerialsOption = None,
    vintage_year: VintageOption = None,
    project_id: ProjectOption = None,
    label: LabelOption = None,
    registry: RegistryOption = None,
    hold_id: Annotated[
        str, typer.Option("--hold-id", help="Default: the command id.", show_default=False)
    ] = "",
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    command_id: CommandIdOption = None,
) -> None:
    """Put units on hold: they stay in the account but cannot move until released or consumed."""
    selection = selection_of(
        unit_type, quantity, serials, vintage_year, project_id, label, registry
    )
    command = PlaceHold(new_command_id(command_id), account_id, selection, purpose, hold_id)
    submit(database, command, as_json)


@hold_app.command("release")
def release_hold(
    hold_id: HoldIdArgument,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    command_id: CommandIdOption = None,
) -> None:
    """Release a pending hold: its units are free again."""
    submit(database, ReleaseHold(new_command_id(command_id), hold_id), as_json)


def consume_details(**values: str | None) -> dict[str, str]:
    """The action's fields the user gave (the ledger says which ones an action needs)."""
    return {name: value for name, value in values.items() if value is not None}


@hold_app.command("consume")
def consume_hold(
    hold_id: HoldIdArgument,
    action: Annotated[str, typer.Option("--action", help="transfer, retire, cancel or surrender.")],
    target_account_id: Annotated[
        str | None, typer.Option("--to", help="Receiving account.", show_default=False)
    ] = None,
    beneficiary: Annotated[
        str | None, typer.Option("--beneficiary", show_default=False, help="For retire.")
    ] = None,
    purpose: Annotated[
        str | None, typer.Option("--purpose", show_default=False, help="For retire.")
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", show_default=False, help="For cancel.")
    ] = None,
    compliance_period: Annotated[
        str | None,
        typer.Option("--period", show_default=False, help="For surrender: the compliance period."),
    ] = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    command_id: CommandIdOption = None,
) -> None:
    """Complete a pending hold: transfer, retire, cancel or surrender its units."""
    details = consume_details(
        beneficiary=beneficiary, purpose=purpose, reason=reason, compliance_period=compliance_period
    )
    command = ConsumeHold(new_command_id(command_id), hold_id, action, target_account_id, details)
    submit(database, command, as_json)
