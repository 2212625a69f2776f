"""Public records: issuances and retirements with their beneficiaries (read-only queries), and
what the public may see of a serial's provenance."""

from __future__ import annotations

from typing import Any

import orjson

from carbonex.ledger import Ledger
from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX, SERIAL_HISTORY_PAGE_SIZE_MAX
from carbonex.ledger.queries import DETAIL_FIELDS
from carbonex.service.identity import READ_EVERYTHING, Principal
from carbonex.store import SqlStore

ISSUANCE_COLUMNS = (
    "issuance_id",
    "serial_space",
    "first_serial",
    "last_serial",
    "seq",
    "unit_type",
    "standard",
    "project_id",
    "vintage_start",
    "vintage_end",
    "host_country",
    "methodology",
    "category",
)
RETIREMENTS_PAGE = (
    "SELECT seq, recorded_at, payload FROM journal WHERE command_kind = 'retire' AND seq > ? "
    "ORDER BY seq LIMIT ?"
)
"""Its WHERE repeats the predicate of the partial index `journal_retirements` (migration 0005)
word for word, so the planners use it."""

PUBLIC_ACTIONS = frozenset(
    {"issue", "convert_in", "retire", "cancel", "surrender", "expire", "convert"}
)
"""The movements of a serial a registry publishes: its issuance and the final states. Transfers,
holds and releases say who traded with whom, which an account's holdings keep private."""
PUBLIC_DETAILS = tuple(name for name in DETAIL_FIELDS if name != "hold_id")
"""The facts of a final state the public sees (a retirement's beneficiary and purpose, a
cancellation's reason...): not a hold id, nor a consumed hold's free-form details."""
PUBLIC_LINE_FIELDS = ("seq", "recorded_at", "action", "first_serial", "last_serial")
"""A public history line names no account and no command id (a user id and their key)."""
PRIVATE_RETIREMENT_FIELDS = frozenset({"account_id"})
"""What a public retirement record leaves out: the account the units were retired from (a
registry publishes the beneficiary, purpose, claim period and serials, not whose account held
them, as the public serial view names no account either)."""


def _page(limit: int) -> int:
    return max(1, min(limit, QUERY_PAGE_SIZE_MAX))


def issuances(
    store: SqlStore, limit: int, after_id: int, project_id: str | None
) -> list[dict[str, Any]]:
    """Issuances in id order; `quantity` is the size of the serial range."""
    where = "i.issuance_id > ?" + (" AND a.project_id = ?" if project_id else "")
    params: tuple[Any, ...] = (after_id, project_id) if project_id else (after_id,)
    rows = store.query(
        "SELECT i.issuance_id, i.serial_space, i.first_serial, i.last_serial, i.seq, "
        "a.unit_type, a.standard, a.project_id, a.vintage_start, a.vintage_end, a.host_country, "
        "a.methodology, a.category FROM issuances i JOIN unit_attributes a "
        f"ON a.attributes_id = i.attributes_id WHERE {where} ORDER BY i.issuance_id LIMIT ?",
        (*params, _page(limit)),
    )
    records = [dict(zip(ISSUANCE_COLUMNS, row, strict=True)) for row in rows]
    for record in records:
        record["quantity"] = record["last_serial"] - record["first_serial"] + 1
    return records


def retirements(store: SqlStore, limit: int, after_seq: int) -> list[dict[str, Any]]:
    """Retirements in journal order: beneficiary, purpose, claim period, serials, quantity
    (read through the partial index `journal_retirements`: one page costs one page of rows)."""
    rows = store.query(RETIREMENTS_PAGE, (after_seq, _page(limit)))
    return [_retirement(int(row[0]), str(row[1]), bytes(row[2])) for row in rows]


def _retirement(seq: int, recorded_at: str, payload: bytes) -> dict[str, Any]:
    entry = orjson.loads(payload)
    command = entry["command"]
    moves = [effect for effect in entry["effects"] if effect[0] == "move"]
    return {
        "seq": seq,
        "retired_at": recorded_at,
        "account_id": command.get("account_id"),
        "unit_type": command.get("selection", {}).get("unit_type"),
        "beneficiary": command.get("beneficiary"),
        "purpose": command.get("purpose"),
        "claim_period_start": command.get("claim_period_start"),
        "claim_period_end": command.get("claim_period_end"),
        "serials": [{"serial_space": m[2], "first": m[3], "last": m[4]} for m in moves],
        "quantity": sum(m[4] - m[3] + 1 for m in moves),
    }


def retirements_view(records: list[dict[str, Any]], principal: Principal) -> list[dict[str, Any]]:
    """Retirement records as much as the principal may see: with the account retired from only
    for those who read everything."""
    if sees_whole_provenance(principal):
        return records
    return [
        {name: value for name, value in record.items() if name not in PRIVATE_RETIREMENT_FIELDS}
        for record in records
    ]


def sees_whole_provenance(principal: Principal) -> bool:
    """Who sees every movement of a serial, with its accounts, holds and command ids."""
    return principal.has(*READ_EVERYTHING)


def serial_view(
    ledger: Ledger,
    serial_space: str,
    serial: int,
    principal: Principal,
    after_seq: int = 0,
    limit: int = SERIAL_HISTORY_PAGE_SIZE_MAX,
) -> dict[str, Any] | None:
    """A serial's provenance (the page of its history after `after_seq`, at most `limit`
    entries) as much as the principal may see; None if it was never issued. The public view
    shows no page of the whole history, so none is read for it: a public request would
    otherwise decode up to a page of journal entries to throw them away."""
    whole = sees_whole_provenance(principal)
    found = ledger.provenance(serial_space, serial, after_seq, limit, with_history=whole)
    if found is None or whole:
        return found
    return public_provenance(found, after_seq, limit)


def public_provenance(
    found: dict[str, Any], after_seq: int = 0, limit: int = SERIAL_HISTORY_PAGE_SIZE_MAX
) -> dict[str, Any]:
    """A serial's issuance (without the account it went into), its state now, and its
    issuance and final-state lines: no account, hold or command id, and no block boundaries
    (an active block's range tells how holdings were split). Those two lines are the whole
    public history, taken from `origin` and `final` and paged on their own: a page of the whole
    history, and its cursor, would tell when and how often the serial changed hands."""
    issuance = {name: value for name, value in found["issuance"].items() if name != "account_id"}
    current = found["current"]
    final = found["final"]
    lines = [
        line
        for line in (found["origin"], final)
        if line is not None and line["seq"] > after_seq and line["action"] in PUBLIC_ACTIONS
    ]
    shown = max(1, min(limit, SERIAL_HISTORY_PAGE_SIZE_MAX))
    page, more = lines[:shown], len(lines) > shown
    return {
        "serial_space": found["serial_space"],
        "serial": found["serial"],
        "issuance": issuance,
        "current": None if current is None else {"state": current["state"]},
        "final": None if final is None else _public_line(final),
        "history_complete": after_seq == 0 and not more,
        "history": [_public_line(line) for line in page],
        "next_after_seq": page[-1]["seq"] if more else None,
    }


def _public_line(line: dict[str, Any]) -> dict[str, Any]:
    details = line["details"]
    public = {name: details[name] for name in PUBLIC_DETAILS if name in details}
    return {name: line[name] for name in PUBLIC_LINE_FIELDS} | {"details": public}
