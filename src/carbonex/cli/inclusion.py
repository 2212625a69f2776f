"""`carbonex inclusion ...`: carbon inclusion (碳普惠) — people record low-carbon actions, verifiers
review them, an aggregator turns the verified points into issued units.

    carbonex inclusion factors
    carbonex inclusion record TRIP-1 --person P-001 --type transit_trip_km --quantity 12.5 \
        --day 2026-02-27
    carbonex inclusion verify TRIP-1 TRIP-2 --verifier metro-operator
    carbonex inclusion points P-001
    carbonex inclusion aggregate AGG-2026-02 --account AGG-1 --period-start 2026-02-01 \
        --period-end 2026-03-01 --project CI-DEMO --country CN
    carbonex inclusion contributions AGG-2026-02
    carbonex inclusion history P-001

Refusals print their codes and exit 1; malformed input exits 2 before anything is submitted.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer

from carbonex.catalog.inclusion import default_inclusion_catalog
from carbonex.cli import render
from carbonex.cli.exits import EXIT_REFUSED, not_found, usage_error
from carbonex.cli.options import DEFAULT_PAGE_SIZE, DatabaseOption, JsonOption, date_option
from carbonex.cli.session import open_ledger
from carbonex.inclusion.results import Aggregated, Recorded, Refusal, Reviewed
from carbonex.inclusion.rules import decimal_text
from carbonex.inclusion.service import PAGE_SIZE_MAX, InclusionRegistry
from carbonex.text import shortened

inclusion_app = typer.Typer(
    help="Carbon inclusion: low-carbon actions, points, aggregation into issued units.",
    no_args_is_help=True,
)

QUANTITY_TEXT_LENGTH_MAX = 40
"""Characters of a --quantity: far more than any valid activity needs."""

ActionIdsArgument = Annotated[
    list[str], typer.Argument(metavar="ACTION_ID...", help="Actions to review.")
]
VerifierOption = Annotated[str, typer.Option("--verifier", help="Who reviews (recorded).")]
PageLimitOption = Annotated[
    int, typer.Option("--limit", min=1, max=PAGE_SIZE_MAX, help="Rows to show.")
]

FACTOR_COLUMNS: list[render.Column] = [
    ("code", "action type"),
    ("activity_unit", "unit"),
    ("factor_kg", "kg CO2e / unit"),
    ("daily_cap", "daily cap"),
    ("name", "name"),
    ("source", "source"),
]
CONTRIBUTION_COLUMNS: list[render.Column] = [
    ("person_id", "person"),
    ("actions", "actions"),
    ("available", "points available"),
    ("used", "points used"),
    ("carried", "points carried"),
]
HISTORY_COLUMNS: list[render.Column] = [
    ("day", "day"),
    ("action_id", "action"),
    ("action_type", "type"),
    ("quantity", "quantity"),
    ("activity_unit", "unit"),
    ("points", "points"),
    ("status", "status"),
    ("aggregation_id", "aggregation"),
]
FAILURE_COLUMNS: list[render.Column] = [("code", "code"), ("message", "message"), ("ids", "ids")]


def parse_quantity(text: str) -> Decimal:
    """A decimal activity quantity; whether it is acceptable is the registry's decision."""
    try:
        if len(text) > QUANTITY_TEXT_LENGTH_MAX:
            raise InvalidOperation
        return Decimal(text.strip())
    except InvalidOperation as error:
        raise ValueError(f"expected a decimal number like 12.5, got {text[:50]!r}") from error


def _report(result: Recorded | Reviewed | Aggregated | Refusal, as_json: bool) -> None:
    """Accepted results go to stdout; refusals to stderr (stdout as JSON with --json), exit 1."""
    if as_json:
        render.json_document(result.to_record())
    elif isinstance(result, Refusal):
        render.refusal(result.request_id, result.failures)
    else:
        _accepted(result)
    if isinstance(result, Refusal):
        raise typer.Exit(EXIT_REFUSED)


def _accepted(result: Recorded | Reviewed | Aggregated) -> None:
    again = (
        " (already done earlier: nothing changed)" if getattr(result, "duplicate", False) else ""
    )
    if isinstance(result, Recorded):
        render.line(
            f"Recorded: action {result.action_id}, {result.to_record()['points']} points once "
            f"verified ({result.status}){again}",
            style="green",
        )
    elif isinstance(result, Reviewed):
        render.line(
            f"{result.status.capitalize()}: {len(result.changed)} actions; "
            f"{len(result.unchanged)} unchanged",
            style="green",
        )
    else:
        render.line(f"Aggregated: {result.units:,} {result.unit_type} issued{again}", "green")
        render.print_table(render.key_value_table("Aggregation", _aggregation_shown(result)))


def _aggregation_shown(result: Aggregated) -> dict[str, Any]:
    record = result.to_record()
    shown = {key: record[key] for key in ("aggregation_id", "aggregator_account_id", "units")}
    shown["period"] = f"{result.period_start}..{result.period_end} (end excluded)"
    shown["serials"] = (
        f"{result.serial_space} {render.serials(result.first_serial, result.last_serial)}"
    )
    shown |= {"points used": record["points_used"], "people": result.people}
    shown |= {"actions": result.actions, "journal entry": result.journal_seq}
    return shown


@inclusion_app.command("factors")
def factors(as_json: JsonOption = False) -> None:
    """The action types people may record, with their emission factors and daily caps."""
    catalog = default_inclusion_catalog()
    rows = [
        {
            "code": action.code,
            "name": action.name,
            "activity_unit": action.activity_unit,
            "factor_kg": decimal_text(action.factor_kg),
            "daily_cap": decimal_text(action.daily_cap),
            "source": action.source,
        }
        for action in catalog.action_types.values()
    ]
    if as_json:
        render.json_document(rows)
        return
    render.print_table(render.records_table("Carbon-inclusion action types", FACTOR_COLUMNS, rows))
    render.line(
        f"1 point = {decimal_text(catalog.kg_per_point)} kg CO2e avoided; "
        f"{catalog.points_per_unit:,} points = 1 {catalog.unit_type} unit",
        style="dim",
    )


@inclusion_app.command("record")
def record(
    action_id: Annotated[str, typer.Argument(metavar="ACTION_ID", help="Client-chosen id.")],
    person_id: Annotated[str, typer.Option("--person", help="The person's id.")],
    action_type: Annotated[
        str, typer.Option("--type", help="Action type, e.g. transit_trip_km (see `factors`).")
    ],
    quantity: Annotated[
        Decimal,
        typer.Option(
            "--quantity",
            parser=parse_quantity,
            metavar="DECIMAL",
            help="Activity in the type's unit, e.g. 12.5 (passenger-km).",
        ),
    ],
    day: Annotated[dt.date, date_option("--day", "The day of the action.")],
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Record a low-carbon action; its points count once a verifier verifies it."""
    with open_ledger(database) as ledger:
        result = InclusionRegistry(ledger).record(action_id, person_id, action_type, quantity, day)
    _report(result, as_json)


@inclusion_app.command("verify")
def verify(
    action_ids: ActionIdsArgument,
    verifier: VerifierOption,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Verify recorded actions (all or nothing): their points become available."""
    with open_ledger(database) as ledger:
        result = InclusionRegistry(ledger).verify(action_ids, verifier)
    _report(result, as_json)


@inclusion_app.command("reject")
def reject(
    action_ids: ActionIdsArgument,
    verifier: VerifierOption,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reject recorded or verified actions (all or nothing): they never earn points."""
    with open_ledger(database) as ledger:
        result = InclusionRegistry(ledger).reject(action_ids, verifier)
    _report(result, as_json)


@inclusion_app.command("points")
def points(
    person_id: Annotated[str, typer.Argument(metavar="PERSON", help="The person's id.")],
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """A person's points: available (verified, not yet converted), pending, converted."""
    with open_ledger(database, must_exist=True) as ledger:
        balance = InclusionRegistry(ledger).points(person_id)
    record = balance.to_record()
    if as_json:
        render.json_document(record)
        return
    shown = {name: record[name] for name in ("available", "pending", "converted")}
    shown["carried (in available)"] = decimal_text(Decimal(balance.carried_milli).scaleb(-3))
    render.print_table(render.key_value_table(f"Points of {person_id}", shown))


@inclusion_app.command("aggregate")
def aggregate(
    aggregation_id: Annotated[str, typer.Argument(metavar="AGGREGATION_ID", help="Client id.")],
    account_id: Annotated[str, typer.Option("--account", help="The aggregator's account.")],
    period_start: Annotated[dt.date, date_option("--period-start", "First day of the period.")],
    period_end: Annotated[dt.date, date_option("--period-end", "Day after the period's last.")],
    project_id: Annotated[str, typer.Option("--project", help="The programme's project id.")],
    host_country: Annotated[str, typer.Option("--country", help="ISO 3166-1 alpha-2 code.")],
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Issue whole units for the verified points of the period (plus carried points)."""
    with open_ledger(database) as ledger:
        result = InclusionRegistry(ledger).aggregate(
            aggregation_id,
            account_id,
            period_start,
            period_end,
            project_id=project_id,
            host_country=host_country,
        )
    _report(result, as_json)


@inclusion_app.command("contributions")
def contributions(
    aggregation_id: Annotated[str, typer.Argument(metavar="AGGREGATION_ID")],
    limit: PageLimitOption = DEFAULT_PAGE_SIZE,
    after: Annotated[str, typer.Option("--after", help="Show people after this id.")] = "",
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Who contributed how many points to an aggregation, by person id, one page at a time."""
    with open_ledger(database, must_exist=True) as ledger:
        registry = InclusionRegistry(ledger)
        found = registry.aggregation(aggregation_id)
        rows = registry.contributions(aggregation_id, limit, after) if found else []
    if found is None:
        not_found(f"unknown aggregation '{shortened(aggregation_id)}'", as_json)
    if as_json:
        render.json_document({"aggregation": found, "contributions": rows})
        return
    title = f"Contributions to {aggregation_id} ({found['units']:,} {found['unit_type']})"
    render.print_table(render.records_table(title, CONTRIBUTION_COLUMNS, rows))
    if len(rows) == limit:
        render.line(f"More may follow: --after {rows[-1]['person_id']}", style="dim")


@inclusion_app.command("history")
def history(
    person_id: Annotated[str, typer.Argument(metavar="PERSON", help="The person's id.")],
    limit: PageLimitOption = DEFAULT_PAGE_SIZE,
    after: Annotated[
        str | None,
        typer.Option("--after", metavar="DAY/ACTION_ID", help="Resume after this row."),
    ] = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """A person's actions by day, one page at a time."""
    cursor = None
    if after is not None:
        day, separator, action_id = after.partition("/")
        if not separator:
            usage_error(f"--after takes DAY/ACTION_ID, e.g. 2026-02-27/TRIP-1, got {after!r}")
        cursor = (day, action_id)
    with open_ledger(database, must_exist=True) as ledger:
        rows = InclusionRegistry(ledger).history(person_id, limit, cursor)
    if as_json:
        render.json_document(rows)
        return
    render.print_table(render.records_table(f"Actions of {person_id}", HISTORY_COLUMNS, rows))
    if len(rows) == limit:
        last = rows[-1]
        render.line(f"More may follow: --after {last['day']}/{last['action_id']}", style="dim")
