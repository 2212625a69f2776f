"""`carbonex project ...`: create projects, take them through their cycle, inspect them.

    carbonex project create P-1 --standard VCS --category avoidance --name "..." ...
    carbonex project act P-1 list --role project_proponent --actor alice --document pdd.pdf
    carbonex project act P-1 submit_monitoring_report --role project_proponent \
        --period 2025-01-01..2026-01-01 --quantity 12000 --document mr.pdf
    carbonex project act P-1 approve_issuance --role standard_administrator --actor carol
    carbonex project show P-1 | carbonex project list

Documents are files: their SHA-256 is recorded with the event (the file itself stays with its
owner); `--document-hash NAME=HEX` records a hash computed elsewhere.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any

import typer

from carbonex.catalog.standards import default_project_catalog
from carbonex.cli import render
from carbonex.cli.exits import EXIT_REFUSED, not_found, usage_error
from carbonex.cli.options import DEFAULT_PAGE_SIZE, DatabaseOption, JsonOption, LimitOption
from carbonex.cli.session import open_ledger
from carbonex.projects.calculation import CalculationError, calculate
from carbonex.projects.events import ProjectRequest
from carbonex.projects.lifecycle import Action, Role
from carbonex.projects.outcomes import ProjectOutcome
from carbonex.projects.registry import ProjectParticulars, ProjectRegistry
from carbonex.text import iso_date, shortened

project_app = typer.Typer(help="Projects, monitoring reports and issuance.", no_args_is_help=True)

DOCUMENT_BYTES_MAX = 1 << 30
"""Bytes of a document hashed (1 GiB: a scanned report, with room): counted as read, so a device
or an endless special file given as a document is refused, never hashed for ever."""
HASH_CHUNK_BYTES = 1 << 20
"""Bytes read at a time while hashing: memory stays at one chunk whatever the document's size."""

ProjectIdArgument = Annotated[str, typer.Argument(metavar="PROJECT_ID", help="Project id.")]
ActorOption = Annotated[str, typer.Option("--actor", help="Who acts (recorded with the event).")]
RequestIdOption = Annotated[
    str | None,
    typer.Option(
        "--request-id",
        show_default=False,
        help="Client-chosen id; repeating it returns the first outcome. Default: a fresh id.",
    ),
]
PROJECT_COLUMNS: list[render.Column] = [
    ("project_id", "project"),
    ("standard", "standard"),
    ("category", "category"),
    ("name", "name"),
    ("host_country", "country"),
    ("state", "state"),
]
REPORT_COLUMNS: list[render.Column] = [
    ("event_seq", "report"),
    ("period_start", "from"),
    ("period_end", "until"),
    ("claimed_t", "claimed t"),
    ("verified_t", "verified t"),
    ("issued_t", "issued t"),
    ("status", "status"),
]
HISTORY_COLUMNS: list[render.Column] = [
    ("event_seq", "event"),
    ("at", "at"),
    ("action", "action"),
    ("actor", "actor"),
    ("detail", "detail"),
]


MonitoredOption = Annotated[
    list[str] | None,
    typer.Option(
        "--input",
        help="Monitored value NAME=DECIMAL for the methodology's calculator (repeatable), "
        "e.g. net_electricity_mwh=12000.",
    ),
]


def _inputs(pairs: list[str] | None) -> dict[str, str]:
    inputs: dict[str, str] = {}
    for text in pairs or []:
        name, separator, value = text.partition("=")
        if not separator or not name.strip():
            usage_error(f"--input takes NAME=VALUE, got {text!r}")
        if name.strip() in inputs:  # which one was meant? Keeping the last would be a guess
            usage_error(f"--input {name.strip()} is given twice")
        inputs[name.strip()] = value.strip()
    return inputs


def _request_id(request_id: str | None) -> str:
    import uuid

    return request_id if request_id is not None else uuid.uuid4().hex


def _file_sha256(path: Path) -> tuple[str, str]:
    if not path.is_file():
        usage_error(f"document {path} is not a readable file")
    try:
        return path.name, _bounded_sha256(path)
    except OSError as error:
        usage_error(f"cannot read document {path}: {error.strerror or error}")


def _bounded_sha256(path: Path) -> str:
    """The file's SHA-256, counting what is read: a file's stated size (0 for many special
    files) does not bound what reading it yields."""
    digest, read = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            read += len(chunk)
            if read > DOCUMENT_BYTES_MAX:
                usage_error(f"document {path} is larger than {DOCUMENT_BYTES_MAX:,} bytes")
            digest.update(chunk)
    return digest.hexdigest()


def _documents(files: list[Path], hashes: list[str]) -> tuple[tuple[str, str], ...]:
    documents = [_file_sha256(path) for path in files]
    for text in hashes:
        name, separator, value = text.partition("=")
        if not separator:
            usage_error(f"--document-hash takes NAME=SHA256, got {text!r}")
        documents.append((name, value.strip().lower()))
    return tuple(documents)


def _period(text: str | None) -> tuple[str, str] | None:
    if text is None:
        return None
    start, separator, end = text.partition("..")
    try:
        if not separator:
            raise ValueError("no '..'")
        return iso_date(start).isoformat(), iso_date(end).isoformat()
    except ValueError:
        shown = shortened(text)
        usage_error(f"--period takes START..END as YYYY-MM-DD dates (END exclusive), got {shown!r}")


def _report(outcome: ProjectOutcome, as_json: bool) -> None:
    if as_json:
        render.json_document(outcome.to_record())
    elif outcome.accepted:
        again = " (already recorded: nothing changed)" if outcome.duplicate else ""
        render.line(
            f"Accepted: event {outcome.event_seq}, project {outcome.project_id} is now "
            f"{outcome.state}{again}",
            style="green bold",
        )
        if outcome.outcome:
            render.print_table(render.key_value_table("Effect", outcome.outcome))
    else:
        render.line(f"Refused: {outcome.request_id or 'request'}", style="red bold")
        render.print_table(
            render.records_table(
                "Failures",
                [("code", "code"), ("message", "message")],
                [failure.to_record() for failure in outcome.failures],
            )
        )
    if not outcome.accepted:
        raise typer.Exit(EXIT_REFUSED)


@project_app.command("create")
def create(
    project_id: ProjectIdArgument,
    standard: Annotated[str, typer.Option("--standard", help="Standard code, e.g. VCS, A6.4M.")],
    name: Annotated[str, typer.Option("--name")],
    host_country: Annotated[str, typer.Option("--host-country", help="ISO 3166-1 alpha-2.")],
    methodology: Annotated[str, typer.Option("--methodology", help="e.g. ACM0002.")],
    proponent_account: Annotated[str, typer.Option("--proponent-account")],
    actor: ActorOption,
    category: Annotated[str, typer.Option("--category")] = "avoidance",
    location: Annotated[str, typer.Option("--location", help="Place or 'lat,lon'.")] = "",
    other_registration: Annotated[
        list[str] | None,
        typer.Option("--other-registration", help="Id elsewhere, e.g. CDM:1234 (repeatable)."),
    ] = None,
    risk_rating: Annotated[
        str | None, typer.Option("--risk-rating", help="Non-permanence risk, e.g. 0.15.")
    ] = None,
    request_id: RequestIdOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Create a project in draft."""
    particulars = ProjectParticulars(
        project_id, standard, category, name, host_country.upper(), methodology,
        proponent_account, location, tuple(other_registration or ()), risk_rating,
    )  # fmt: skip
    with open_ledger(database) as ledger:
        outcome = ProjectRegistry(ledger).create(_request_id(request_id), particulars, actor)
    _report(outcome, as_json)


@project_app.command("act")
def act(
    project_id: ProjectIdArgument,
    action: Annotated[Action, typer.Argument(help="What happens.")],
    role: Annotated[Role, typer.Option("--role", help="The role the actor acts in.")],
    actor: ActorOption,
    document: Annotated[
        list[Path] | None, typer.Option("--document", help="A file to attach (repeatable).")
    ] = None,
    document_hash: Annotated[
        list[str] | None, typer.Option("--document-hash", help="NAME=SHA256 (repeatable).")
    ] = None,
    period: Annotated[
        str | None, typer.Option("--period", help="START..END, ISO dates, END exclusive.")
    ] = None,
    quantity: Annotated[
        int | None, typer.Option("--quantity", min=1, help="Claimed, verified or reversed t.")
    ] = None,
    registration: Annotated[
        str | None, typer.Option("--registration", help="The other registration evidenced.")
    ] = None,
    monitored: MonitoredOption = None,
    request_id: RequestIdOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Take one step of the project cycle (approve_issuance issues the verified units)."""
    documents = _documents(document or [], document_hash or [])
    details = {"inputs": _inputs(monitored)} if monitored else None
    request = ProjectRequest(
        project_id, action.value, actor, role.value, documents, _period(period), quantity,
        registration, details,
    )  # fmt: skip
    with open_ledger(database) as ledger:
        outcome = ProjectRegistry(ledger).act(_request_id(request_id), request)
    _report(outcome, as_json)


def _history_rows(history: list[dict[str, Any]]) -> list[dict[str, Any]]:
    rows = []
    for record in history:
        request = record["request"]
        detail = {
            key: request[key]
            for key in ("period", "quantity_t", "registration")
            if request.get(key) is not None
        }
        detail.update(record["outcome"])
        if request["documents"]:
            detail["documents"] = ", ".join(f"{n} sha256:{h[:12]}" for n, h in request["documents"])
        rows.append(
            {
                "event_seq": record["event_seq"],
                "at": render.timestamp(record["at"]),
                "action": request["action"],
                "actor": f"{request['actor']} ({request['role']})",
                "detail": render.details(detail),
            }
        )
    return rows


@project_app.command("show")
def show(
    project_id: ProjectIdArgument, database: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """A project: its particulars, monitoring reports and full history."""
    with open_ledger(database, must_exist=True) as ledger:
        record = ProjectRegistry(ledger).project(project_id)
    if record is None:
        not_found(f"no project '{shortened(project_id)}'", as_json)
    if as_json:
        render.json_document(record)
        return
    particulars = {k: v for k, v in record.items() if k not in ("history", "monitoring_reports")}
    render.print_table(render.key_value_table(f"Project {project_id}", particulars))
    render.print_table(
        render.records_table("Monitoring reports", REPORT_COLUMNS, record["monitoring_reports"])
    )
    render.print_table(
        render.records_table("History", HISTORY_COLUMNS, _history_rows(record["history"]))
    )


@project_app.command("list")
def list_projects(
    limit: LimitOption = DEFAULT_PAGE_SIZE,
    after: Annotated[str, typer.Option("--after", help="Show projects after this id.")] = "",
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Projects in id order, one page at a time."""
    with open_ledger(database, must_exist=True) as ledger:
        records = ProjectRegistry(ledger).projects(limit, after)
    if as_json:
        render.json_document(records)
    else:
        render.print_table(render.records_table("Projects", PROJECT_COLUMNS, records))


@project_app.command("calculate")
def calculate_command(
    methodology: Annotated[str, typer.Argument(help="Methodology code, e.g. ACM0002.")],
    monitored: MonitoredOption = None,
    standard: Annotated[
        str | None,
        typer.Option(
            "--standard", help="The project's standard, whose GWP set converts gases (e.g. CDM)."
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run monitored data through a methodology's calculator and show every term."""
    catalog = default_project_catalog()
    try:
        _claimable_t, record = calculate(catalog, methodology, _inputs(monitored), standard)
    except CalculationError as error:
        usage_error(f"{error.code}: {error}")
    if as_json:
        render.json_document(record)
        return
    title = f"{record['methodology']} ({record['calculator']})"
    render.print_table(render.key_value_table(title, record["inputs"] | record["terms"]))
    render.line(f"The data support {record['claimable_t']:,} t", style="green bold")
