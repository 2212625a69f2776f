"""Read-only commands: holdings, blocks, statement, provenance, journal and summary."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from carbonex.cli import render
from carbonex.cli.accounts import HOLDING_COLUMNS
from carbonex.cli.exits import not_found, usage_error
from carbonex.cli.options import (
    DEFAULT_PAGE_SIZE,
    INTEGER_MAX,
    AfterPositionOption,
    AfterSeqOption,
    DatabaseOption,
    JsonOption,
    LimitOption,
)
from carbonex.cli.session import open_ledger
from carbonex.ledger import Ledger
from carbonex.ledger.limits import SERIAL_HISTORY_PAGE_SIZE_MAX
from carbonex.text import shortened

AccountArgument = Annotated[str, typer.Argument(metavar="ACCOUNT", help="Account id.")]

BLOCK_COLUMNS: list[render.Column] = [
    ("block_id", "block"),
    ("issuance_id", "issuance"),
    ("serial_space", "serial space"),
    ("serials", "serials"),
    ("quantity", "quantity"),
    ("state", "state"),
    ("hold_id", "hold"),
]
STATEMENT_COLUMNS: list[render.Column] = [
    ("seq", "seq"),
    ("recorded_at", "recorded at"),
    ("action", "action"),
    ("direction", "in/out"),
    ("spaced_serials", "serials"),
    ("quantity", "quantity"),
    ("counterparty", "counterparty"),
    ("details", "details"),
]
HISTORY_COLUMNS: list[render.Column] = [
    ("seq", "seq"),
    ("recorded_at", "recorded at"),
    ("action", "action"),
    ("serials", "serials"),
    ("from_account", "from"),
    ("to_account", "to"),
    ("details", "details"),
]
JOURNAL_COLUMNS: list[render.Column] = [
    ("seq", "seq"),
    ("recorded_at", "recorded at"),
    ("command_kind", "kind"),
    ("command_id", "command id"),
    ("effects", "effects"),
    ("hash", "entry hash"),
]
STATE_COLUMNS: list[render.Column] = [
    ("issued", "issued"),
    ("held", "held"),
    ("on_hold", "on hold"),
    ("retired", "retired"),
    ("cancelled", "cancelled"),
    ("surrendered", "surrendered"),
    ("expired", "expired"),
    ("converted", "converted"),
]


def counterparty(line: dict[str, Any]) -> str | None:
    """The other account of a statement line (None for issuance, the account for in-place)."""
    other: str | None = line["from_account"] if line["direction"] == "in" else line["to_account"]
    return other


def more_hint(rows: list[dict[str, Any]], limit: int, option: str, key: str) -> None:
    if len(rows) == limit:
        render.line(f"More may follow: {option} {rows[-1][key]}", style="dim")


def require_account(ledger: Ledger, account_id: str, as_json: bool) -> None:
    if ledger.account(account_id) is None:
        not_found(f"unknown account '{shortened(account_id)}'", as_json)


def holdings(
    account_id: AccountArgument, database: DatabaseOption = None, as_json: JsonOption = False
) -> None:
    """Quantities an account holds, by unit type, project, vintage and state."""
    with open_ledger(database, must_exist=True) as ledger:
        require_account(ledger, account_id, as_json)
        rows = ledger.holdings(account_id)
    if as_json:
        render.json_document(rows)
        return
    render.print_table(render.records_table(f"Holdings of {account_id}", HOLDING_COLUMNS, rows))


def blocks(
    account_id: AccountArgument,
    limit: LimitOption = DEFAULT_PAGE_SIZE,
    after: Annotated[
        int, typer.Option("--after", min=0, max=INTEGER_MAX, help="Blocks after this id.")
    ] = 0,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """The serial blocks an account holds (any state), in block id order."""
    with open_ledger(database, must_exist=True) as ledger:
        require_account(ledger, account_id, as_json)
        rows = ledger.blocks(account_id, limit, after)
    if as_json:
        render.json_document(rows)
        return
    render.print_table(render.records_table(f"Blocks of {account_id}", BLOCK_COLUMNS, rows))
    more_hint(rows, limit, "--after", "block_id")


def statement(
    account_id: AccountArgument,
    limit: LimitOption = DEFAULT_PAGE_SIZE,
    after_seq: AfterSeqOption = 0,
    after_position: AfterPositionOption = None,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every movement in or out of an account, oldest first."""
    with open_ledger(database, must_exist=True) as ledger:
        require_account(ledger, account_id, as_json)
        rows = ledger.statement(account_id, limit, after_seq, after_position)
    if as_json:
        render.json_document(rows)
        return
    lines = [
        row
        | {
            "counterparty": counterparty(row),
            "spaced_serials": f"{row['serial_space']} "
            f"{render.serials(row['first_serial'], row['last_serial'])}",
        }
        for row in rows
    ]
    render.print_table(render.records_table(f"Statement of {account_id}", STATEMENT_COLUMNS, lines))
    if len(rows) == limit:
        last = rows[-1]
        render.line(
            f"More may follow: --after-seq {last['seq']} --after-position {last['position']}",
            style="dim",
        )


HistoryLimitOption = Annotated[
    int,
    typer.Option(
        "--limit", min=1, max=SERIAL_HISTORY_PAGE_SIZE_MAX, help="Entries of history to show."
    ),
]


def provenance(
    serial_space: Annotated[str, typer.Argument(metavar="SERIAL_SPACE", help="e.g. VERRA/VCU.")],
    serial: Annotated[
        int, typer.Argument(metavar="SERIAL", min=1, max=INTEGER_MAX, help="One serial.")
    ],
    limit: HistoryLimitOption = SERIAL_HISTORY_PAGE_SIZE_MAX,
    after_seq: AfterSeqOption = 0,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """The life of one serial: its issuance, how it ended, where it is now, and the movements
    since, a page at a time (`--after-seq` resumes where a page said)."""
    if serial_space.count("/") != 1:
        usage_error(
            f"serial space must look like REGISTRY/UNIT_TYPE, e.g. VERRA/VCU, got {serial_space!r}"
        )
    with open_ledger(database, must_exist=True) as ledger:
        record = ledger.provenance(serial_space, serial, after_seq, limit)
    if record is None:
        not_found(f"serial {serial} of {shortened(serial_space)} was never issued", as_json)
    if as_json:
        render.json_document(record)
        return
    render_provenance(record)


def render_provenance(record: dict[str, Any]) -> None:
    issuance = record["issuance"]
    current = record["current"] or {}
    overview = {
        "serial": f"{record['serial_space']} {record['serial']:,}",
        "issuance": f"{issuance['issuance_id']} (serials "
        f"{render.serials(issuance['first_serial'], issuance['last_serial'])}, "
        f"journal entry {issuance['seq']})",
        "issued into": issuance["account_id"],
        "lineage": issuance["lineage"],
        "now in": current.get("account_id"),
        "state": current.get("state"),
        "hold": current.get("hold_id"),
    }
    overview |= final_facts(record["final"])
    overview |= {f"attribute {name}": value for name, value in issuance["attributes"].items()}
    render.print_table(render.key_value_table("Provenance", overview))
    render.print_table(render.records_table("History", HISTORY_COLUMNS, record["history"]))
    if record["next_after_seq"] is not None:
        render.line(f"More may follow: --after-seq {record['next_after_seq']}", style="dim")


def final_facts(final: dict[str, Any] | None) -> dict[str, Any]:
    """How the serial ended (retired, cancelled...) and its facts, whichever page shows it."""
    if final is None:
        return {}
    ended = f"{final['action']} (journal entry {final['seq']}, {final['recorded_at']})"
    details = {name.replace("_", " "): value for name, value in final["details"].items()}
    return {"ended by": ended} | details


def journal(
    limit: LimitOption = DEFAULT_PAGE_SIZE,
    after_seq: AfterSeqOption = 0,
    database: DatabaseOption = None,
    as_json: JsonOption = False,
) -> None:
    """Journal entries in sequence order: every accepted command, hash-chained."""
    with open_ledger(database, must_exist=True) as ledger:
        rows = ledger.journal(limit, after_seq)
    if as_json:
        render.json_document(rows)
        return
    shown = [
        row
        | {"effects": len(row["entry"]["effects"]), "hash": render.short_hash(row["entry_hash"])}
        for row in rows
    ]
    render.print_table(render.records_table("Journal", JOURNAL_COLUMNS, shown))
    more_hint(rows, limit, "--after-seq", "seq")


def summary(database: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """Totals issued, held, on hold, retired, cancelled, surrendered, expired and converted."""
    with open_ledger(database, must_exist=True) as ledger:
        totals = ledger.summary()
    if as_json:
        render.json_document(totals)
        return
    render_summary(totals)


def render_summary(totals: dict[str, Any]) -> None:
    # Tonnes, MWh and points never add up: one row per metric, never one mixed total.
    by_metric = [{"metric": metric} | values for metric, values in totals["by_metric"].items()]
    render.print_table(
        render.records_table("Totals by metric", [("metric", "metric"), *STATE_COLUMNS], by_metric)
    )
    by_type = [{"unit_type": code} | values for code, values in totals["by_unit_type"].items()]
    render.print_table(
        render.records_table("By unit type", [("unit_type", "unit type"), *STATE_COLUMNS], by_type)
    )
    render.print_table(
        render.records_table(
            "By project and vintage",
            [
                ("unit_type", "unit type"),
                ("project_id", "project"),
                ("vintage", "vintage"),
                *STATE_COLUMNS,
            ],
            totals["by_project_vintage"],
        )
    )
