"""Commands on units: issue, transfer, retire, cancel, surrender, expire and convert."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer

from carbonex.cli.options import (
    DEFAULT_CATEGORY,
    INTEGER_MAX,
    INTEGER_MIN,
    CommandIdOption,
    DatabaseOption,
    IntoOption,
    JsonOption,
    LabelOption,
    ProjectOption,
    QuantityOption,
    RegistryOption,
    SerialsOption,
    UnitTypeOption,
    VintageOption,
    date_option,
    new_command_id,
    selection_of,
)
from carbonex.cli.session import submit
from carbonex.ledger import (
    Cancel,
    Convert,
    Expire,
    Issue,
    Retire,
    Surrender,
    Transfer,
    UnitAttributes,
)

AccountOption = Annotated[str, typer.Option("--account", help="Account holding the units.")]


def issue(
    account_id: Annotated[str, typer.Option("--account", help="Account receiving the units.")],
    unit_type: UnitTypeOption,
    quantity: Annotated[
        int, typer.Option("--quantity", min=INTEGER_MIN, max=INTEGER_MAX, help="Units to issue.")
    ],
    standard: Annotated[str, typer.Option("--standard", help="e.g. Verra VCS.")],
    project_id: Annotated[str, typer.Option("--project", help="Project id, e.g. VCS-1736.")],
    vintage_start: Annotated[dt.date, date_option("--vintage-start", "First day of vintage.")],
    vintage_end: Annotated[dt.date, date_option("--vintage-end", "Last day of vintage.")],
    host_country: Annotated[str, typer.Option("--country", help="ISO 3166-1 alpha-2 code.")],
    methodology: Annotated[str, typer.Option("--methodology")] = "",
    category: Annotated[str, typer.Option("--category", help="avoidance or removal.")] = (
        DEFAULT_CATEGORY
    ),
    labels: Annotated[list[str] | None, typer.Option("--label", help="Repeatable.")] = None,
    authorization: Annotated[str, typer.Option("--authorization", help="Reference.")] = "",
    valid_until: Annotated[
        dt.date | None, date_option("--valid-until", "Units expire after this day.")
    ] = None,
    registry: RegistryOption = None,
    first_serial: Annotated[
        int | None,
        typer.Option(
            "--first-serial", min=INTEGER_MIN, max=INTEGER_MAX, help="Default: next free serial."
        ),
    ] = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    command_id: CommandIdOption = None,
) -> None:
    """Issue new units into an account."""
    attributes = UnitAttributes(
        unit_type,
        standard,
        project_id,
        vintage_start,
        vintage_end,
        host_country,
        methodology,
        category,
        tuple(labels or ()),
        authorization,
        valid_until,
    )
    command = Issue(
        new_command_id(command_id), account_id, quantity, attributes, registry, first_serial
    )
    submit(database, command, as_json)


def transfer(
    source_account_id: Annotated[str, typer.Option("--from", help="Sending account.")],
    target_account_id: Annotated[str, typer.Option("--to", help="Receiving account.")],
    unit_type: UnitTypeOption,
    quantity: QuantityOption = None,
    serials: SerialsOption = None,
    vintage_year: VintageOption = None,
    project_id: ProjectOption = None,
    label: LabelOption = None,
    registry: RegistryOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    command_id: CommandIdOption = None,
) -> None:
    """Transfer units from one account to another."""
    selection = selection_of(
        unit_type, quantity, serials, vintage_year, project_id, label, registry
    )
    command = Transfer(new_command_id(command_id), source_account_id, target_account_id, selection)
    submit(database, command, as_json)


def retire(
    account_id: AccountOption,
    unit_type: UnitTypeOption,
    beneficiary: Annotated[str, typer.Option("--beneficiary", help="On whose behalf.")],
    purpose: Annotated[str, typer.Option("--purpose", help="What the retirement claims.")],
    quantity: QuantityOption = None,
    serials: SerialsOption = None,
    vintage_year: VintageOption = None,
    project_id: ProjectOption = None,
    label: LabelOption = None,
    registry: RegistryOption = None,
    claim_start: Annotated[
        dt.date | None, date_option("--claim-start", "First day of the claim period.")
    ] = None,
    claim_end: Annotated[
        dt.date | None, date_option("--claim-end", "Last day of the claim period.")
    ] = None,
    into_account_id: IntoOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    command_id: CommandIdOption = None,
) -> None:
    """Retire units for a beneficiary and purpose: they can never move again."""
    selection = selection_of(
        unit_type, quantity, serials, vintage_year, project_id, label, registry
    )
    command = Retire(
        new_command_id(command_id),
        account_id,
        selection,
        beneficiary,
        purpose,
        claim_start,
        claim_end,
        into_account_id,
    )
    submit(database, command, as_json)


def cancel(
    account_id: AccountOption,
    unit_type: UnitTypeOption,
    reason: Annotated[str, typer.Option("--reason", help="Why the units are cancelled.")],
    quantity: QuantityOption = None,
    serials: SerialsOption = None,
    vintage_year: VintageOption = None,
    project_id: ProjectOption = None,
    label: LabelOption = None,
    registry: RegistryOption = None,
    into_account_id: IntoOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    command_id: CommandIdOption = None,
) -> None:
    """Cancel units: they can never move again."""
    selection = selection_of(
        unit_type, quantity, serials, vintage_year, project_id, label, registry
    )
    command = Cancel(new_command_id(command_id), account_id, selection, reason, into_account_id)
    submit(database, command, as_json)


def surrender(
    account_id: AccountOption,
    unit_type: UnitTypeOption,
    compliance_period: Annotated[str, typer.Option("--period", help="e.g. 2025.")],
    quantity: QuantityOption = None,
    serials: SerialsOption = None,
    vintage_year: VintageOption = None,
    project_id: ProjectOption = None,
    label: LabelOption = None,
    registry: RegistryOption = None,
    into_account_id: IntoOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    command_id: CommandIdOption = None,
) -> None:
    """Surrender units for a compliance period."""
    selection = selection_of(
        unit_type, quantity, serials, vintage_year, project_id, label, registry
    )
    command = Surrender(
        new_command_id(command_id), account_id, selection, compliance_period, into_account_id
    )
    submit(database, command, as_json)


def expire(
    account_id: AccountOption,
    unit_type: UnitTypeOption,
    quantity: QuantityOption = None,
    serials: SerialsOption = None,
    vintage_year: VintageOption = None,
    project_id: ProjectOption = None,
    label: LabelOption = None,
    registry: RegistryOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    command_id: CommandIdOption = None,
) -> None:
    """Expire units whose validity period has passed."""
    selection = selection_of(
        unit_type, quantity, serials, vintage_year, project_id, label, registry
    )
    submit(database, Expire(new_command_id(command_id), account_id, selection), as_json)


def convert(
    account_id: AccountOption,
    unit_type: UnitTypeOption,
    rule_id: Annotated[str, typer.Option("--rule", help="Conversion rule, e.g. CDM-TO-A6.4.")],
    quantity: QuantityOption = None,
    serials: SerialsOption = None,
    vintage_year: VintageOption = None,
    project_id: ProjectOption = None,
    label: LabelOption = None,
    registry: RegistryOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    command_id: CommandIdOption = None,
) -> None:
    """Convert units under a conversion rule (lineage is kept)."""
    selection = selection_of(
        unit_type, quantity, serials, vintage_year, project_id, label, registry
    )
    submit(database, Convert(new_command_id(command_id), account_id, selection, rule_id), as_json)
