"""Read models over the store: accounts, holdings, statements, provenance, summary, journal.

Every list is bounded by `QUERY_PAGE_SIZE_MAX` and pages by a cursor (the last id seen).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from carbonex.ledger.journal import decode_payload
from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX
from carbonex.store import SqlStore

STATES = ("active", "retired", "cancelled", "surrendered", "expired", "converted")
AFTER_WHOLE_ENTRY = 2**31 - 1
"""A movement position past any entry's last movement."""
QUANTITY_SQL = "(b.last_serial - b.first_serial + 1)"


def _page(limit: int) -> int:
    return max(1, min(int(limit), QUERY_PAGE_SIZE_MAX))


def account(store: SqlStore, account_id: str) -> dict[str, Any] | None:
    row = store.query_one(
        "SELECT account_id, registry, kind, holder, status FROM accounts WHERE account_id = ?",
        (account_id,),
    )
    if row is None:
        return None
    return dict(zip(("account_id", "registry", "kind", "holder", "status"), row, strict=True))


def accounts(store: SqlStore, limit: int, after: str) -> list[dict[str, Any]]:
    rows = store.query(
        "SELECT account_id, registry, kind, holder, status FROM accounts "
        "WHERE account_id > ? ORDER BY account_id LIMIT ?",
        (after, _page(limit)),
    )
    keys = ("account_id", "registry", "kind", "holder", "status")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def holdings(store: SqlStore, account_id: str) -> list[dict[str, Any]]:
    """Quantities held by an account, by unit type, project, vintage and state."""
    rows = store.query(
        f"SELECT a.unit_type, b.serial_space, a.project_id, a.vintage_start, a.vintage_end, "
        f"b.state, CASE WHEN b.hold_id IS NULL THEN 0 ELSE 1 END, SUM({QUANTITY_SQL}), COUNT(*) "
        "FROM blocks b JOIN unit_attributes a ON a.attributes_id = b.attributes_id "
        "WHERE b.account_id = ? GROUP BY a.unit_type, b.serial_space, a.project_id, "
        "a.vintage_start, a.vintage_end, b.state, CASE WHEN b.hold_id IS NULL THEN 0 ELSE 1 END "
        "ORDER BY a.unit_type, a.project_id, a.vintage_start, b.state, 7",
        (account_id,),
    )
    keys = (
        "unit_type",
        "serial_space",
        "project_id",
        "vintage_start",
        "vintage_end",
        "state",
        "on_hold",
        "quantity",
        "blocks",
    )
    result = [dict(zip(keys, row, strict=True)) for row in rows]
    for entry in result:
        entry["on_hold"] = bool(entry["on_hold"])
        entry["quantity"] = int(entry["quantity"])
    return result


def blocks(
    store: SqlStore, account_id: str, limit: int, after_block_id: int
) -> list[dict[str, Any]]:
    rows = store.query(
        "SELECT block_id, issuance_id, serial_space, first_serial, last_serial, state, "
        "attributes_id, hold_id FROM blocks WHERE account_id = ? AND block_id > ? "
        "ORDER BY block_id LIMIT ?",
        (account_id, after_block_id, _page(limit)),
    )
    keys = (
        "block_id",
        "issuance_id",
        "serial_space",
        "first_serial",
        "last_serial",
        "state",
        "attributes_id",
        "hold_id",
    )
    return [dict(zip(keys, row, strict=True)) | {"quantity": row[4] - row[3] + 1} for row in rows]


def _command_of(seq: int, payload: bytes, decoded: dict[int, dict[str, Any]]) -> dict[str, Any]:
    """The entry's command, decoded once per query however many lines it gives."""
    command = decoded.get(seq)
    if command is None:
        command = decoded[seq] = decode_payload(payload)["command"]
    return command


def statement(
    store: SqlStore, account_id: str, limit: int, after_seq: int, after_position: int | None = None
) -> list[dict[str, Any]]:
    """Every movement in or out of the account, oldest first, with the command's details.
    Pages resume after (seq, position) of the last line seen, since one entry may move many
    ranges; without a position, after the whole entry `after_seq`."""
    position = AFTER_WHOLE_ENTRY if after_position is None else after_position
    rows = store.query(
        "SELECT m.seq, m.position, j.recorded_at, j.command_id, m.action, m.serial_space, "
        "m.first_serial, m.last_serial, m.from_account, m.to_account, j.payload "
        "FROM movements m JOIN journal j ON j.seq = m.seq "
        "WHERE (m.from_account = ? OR m.to_account = ?) "
        "AND (m.seq > ? OR (m.seq = ? AND m.position > ?)) "
        "ORDER BY m.seq, m.position LIMIT ?",
        (account_id, account_id, after_seq, after_seq, position, _page(limit)),
    )
    lines = []
    decoded: dict[int, dict[str, Any]] = {}
    for row in rows:
        quantity = row[7] - row[6] + 1
        incoming = row[9] == account_id and row[8] != account_id
        lines.append(
            {
                "seq": row[0],
                "position": row[1],
                "recorded_at": row[2],
                "command_id": row[3],
                "action": row[4],
                "serial_space": row[5],
                "first_serial": row[6],
                "last_serial": row[7],
                "quantity": quantity,
                "from_account": row[8],
                "to_account": row[9],
                "direction": "in" if incoming else "out",
                "details": _details(_command_of(row[0], bytes(row[10]), decoded)),
            }
        )
    return lines


DETAIL_FIELDS = (
    "beneficiary",
    "purpose",
    "claim_period_start",
    "claim_period_end",
    "reason",
    "compliance_period",
    "rule_id",
    "hold_id",
)


def _details(command: dict[str, Any]) -> dict[str, Any]:
    details = {name: command[name] for name in DETAIL_FIELDS if command.get(name)}
    details.update(command.get("details") or {})
    return details


def provenance(store: SqlStore, serial_space: str, serial: int) -> dict[str, Any] | None:
    """The life of one serial: its issuance, every movement since, and where it is now."""
    issuance = store.query_one(
        "SELECT i.issuance_id, i.first_serial, i.last_serial, i.account_id, i.seq, i.lineage, "
        "a.record FROM issuances i JOIN unit_attributes a ON a.attributes_id = i.attributes_id "
        "WHERE i.serial_space = ? AND i.first_serial <= ? ORDER BY i.first_serial DESC LIMIT 1",
        (serial_space, serial),
    )
    if issuance is None or issuance[2] < serial:
        return None
    current = store.query_one(
        "SELECT block_id, first_serial, last_serial, account_id, state, hold_id FROM blocks "
        "WHERE serial_space = ? AND first_serial <= ? ORDER BY first_serial DESC LIMIT 1",
        (serial_space, serial),
    )
    history = store.query(
        "SELECT m.seq, j.recorded_at, j.command_id, m.action, m.first_serial, m.last_serial, "
        "m.from_account, m.to_account, j.payload FROM movements m JOIN journal j ON "
        "j.seq = m.seq WHERE m.serial_space = ? AND m.last_serial >= ? AND m.first_serial <= ? "
        "ORDER BY m.seq, m.position LIMIT ?",
        (serial_space, serial, serial, QUERY_PAGE_SIZE_MAX),
    )
    decoded: dict[int, dict[str, Any]] = {}
    return {
        "serial_space": serial_space,
        "serial": serial,
        "issuance": {
            "issuance_id": issuance[0],
            "first_serial": issuance[1],
            "last_serial": issuance[2],
            "account_id": issuance[3],
            "seq": issuance[4],
            "lineage": issuance[5],
            "attributes": decode_payload(bytes(issuance[6])),
        },
        "current": None
        if current is None or current[2] < serial
        else {
            "block_id": current[0],
            "first_serial": current[1],
            "last_serial": current[2],
            "account_id": current[3],
            "state": current[4],
            "hold_id": current[5],
        },
        "history_complete": len(history) < QUERY_PAGE_SIZE_MAX,
        "history": [
            {
                "seq": row[0],
                "recorded_at": row[1],
                "command_id": row[2],
                "action": row[3],
                "first_serial": row[4],
                "last_serial": row[5],
                "from_account": row[6],
                "to_account": row[7],
                "details": _details(_command_of(row[0], bytes(row[8]), decoded)),
            }
            for row in history
        ],
    }


def empty_totals() -> dict[str, int]:
    """The counters of a summary bucket, each at zero (also used by `journal_export`)."""
    return {"issued": 0, "held": 0, "on_hold": 0} | dict.fromkeys(STATES[1:], 0)


def summary(store: SqlStore) -> dict[str, Any]:
    """Totals issued, held (active), on hold, retired, cancelled, surrendered, expired and
    converted: overall, per unit type, and per unit type, project and vintage."""
    totals = empty_totals()
    by_type: dict[str, dict[str, int]] = defaultdict(empty_totals)
    by_project: dict[tuple[str, str, str, str], dict[str, int]] = defaultdict(empty_totals)
    for unit_type, project, start, end, quantity in store.query(
        "SELECT a.unit_type, a.project_id, a.vintage_start, a.vintage_end, "
        "SUM(i.last_serial - i.first_serial + 1) FROM issuances i JOIN unit_attributes a "
        "ON a.attributes_id = i.attributes_id GROUP BY a.unit_type, a.project_id, "
        "a.vintage_start, a.vintage_end"
    ):
        for bucket in (totals, by_type[unit_type], by_project[(unit_type, project, start, end)]):
            bucket["issued"] += int(quantity)
    for unit_type, project, start, end, state, held, quantity in store.query(
        f"SELECT a.unit_type, a.project_id, a.vintage_start, a.vintage_end, b.state, "
        f"CASE WHEN b.hold_id IS NULL THEN 0 ELSE 1 END, SUM({QUANTITY_SQL}) FROM blocks b "
        "JOIN unit_attributes a ON a.attributes_id = b.attributes_id GROUP BY a.unit_type, "
        "a.project_id, a.vintage_start, a.vintage_end, b.state, "
        "CASE WHEN b.hold_id IS NULL THEN 0 ELSE 1 END"
    ):
        key = "held" if state == "active" else state
        for bucket in (totals, by_type[unit_type], by_project[(unit_type, project, start, end)]):
            bucket[key] += int(quantity)
            if held:
                bucket["on_hold"] += int(quantity)
    return {
        "totals": totals,
        "by_unit_type": dict(sorted(by_type.items())),
        "by_project_vintage": [
            {
                "unit_type": key[0],
                "project_id": key[1],
                "vintage_start": key[2],
                "vintage_end": key[3],
            }
            | values
            for key, values in sorted(by_project.items())
        ],
    }


def head(store: SqlStore) -> dict[str, Any]:
    seq = store.load_head().seq
    return {"seq": seq, "entry_hash": store.load_entry_hash(seq)}


def journal(store: SqlStore, limit: int, after_seq: int) -> list[dict[str, Any]]:
    rows = store.query(
        "SELECT seq, command_id, command_kind, recorded_at, previous_hash, entry_hash, payload "
        "FROM journal WHERE seq > ? ORDER BY seq LIMIT ?",
        (after_seq, _page(limit)),
    )
    return [
        {
            "seq": row[0],
            "command_id": row[1],
            "command_kind": row[2],
            "recorded_at": row[3],
            "previous_hash": row[4],
            "entry_hash": row[5],
            "entry": decode_payload(bytes(row[6])),
        }
        for row in rows
    ]
