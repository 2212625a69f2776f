"""Read models over the store: accounts, holdings, statements, provenance, summary, journal.

Every list is bounded by `QUERY_PAGE_SIZE_MAX` (a serial's history by
`SERIAL_HISTORY_PAGE_SIZE_MAX`) and pages by a cursor (the last id seen).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from carbonex.ledger.history import SerialKey, keys_holding, unpack_moves, unpack_seqs
from carbonex.ledger.journal import decode_payload
from carbonex.ledger.limits import (
    HISTORY_ROWS_PER_QUERY,
    HISTORY_ROWS_READ_MAX,
    QUERY_PAGE_SIZE_MAX,
    SERIAL_HISTORY_PAGE_SIZE_MAX,
)
from carbonex.store import SqlStore

STATES = ("active", "retired", "cancelled", "surrendered", "expired", "converted")
AFTER_WHOLE_ENTRY = 2**31 - 1
"""A movement position past any entry's last movement."""
AFTER_ANY_SEQ = 2**63 - 1
"""A sequence number past any entry's."""
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


def account_entry_seqs(
    store: SqlStore, account_id: str, after_seq: int, limit: int, newest_first: bool = False
) -> list[int]:
    """Entries that moved units in or out of the account, from its history postings: after
    `after_seq` oldest first, or the newest first; at most `limit`."""
    order = "DESC" if newest_first else ""
    rows = store.query(
        "SELECT seqs FROM account_history WHERE account_id = ? AND last_seq > ? "
        f"ORDER BY last_seq {order} LIMIT ?",
        (account_id, after_seq, limit),
    )
    seqs: list[int] = []
    for (packed,) in rows:
        filed = [seq for seq in unpack_seqs(bytes(packed)) if seq > after_seq]
        seqs += reversed(filed) if newest_first else filed
        if len(seqs) >= limit:
            break
    return seqs[:limit]


def _entries(store: SqlStore, seqs: list[int]) -> list[tuple[int, str, str, dict[str, Any]]]:
    """(seq, recorded_at, command_id, decoded payload) of the entries, in seq order."""
    if not seqs:
        return []
    marks = ", ".join("?" * len(seqs))
    rows = store.query(
        f"SELECT seq, recorded_at, command_id, payload FROM journal WHERE seq IN ({marks}) "
        "ORDER BY seq",
        seqs,
    )
    return [(row[0], row[1], row[2], decode_payload(bytes(row[3]))) for row in rows]


def _moves(payload: dict[str, Any]) -> list[tuple[int, list[Any]]]:
    """The entry's "move" effects with their positions (1, 2, ... in effect order)."""
    moves = [effect for effect in payload["effects"] if effect[0] == "move"]
    return list(enumerate(moves, 1))


def statement(
    store: SqlStore, account_id: str, limit: int, after_seq: int, after_position: int | None = None
) -> list[dict[str, Any]]:
    """Every movement in or out of the account, oldest first, with the command's details.
    Pages resume after (seq, position) of the last line seen, since one entry may move many
    ranges; without a position, after the whole entry `after_seq`."""
    limit = _page(limit)
    position_after = AFTER_WHOLE_ENTRY if after_position is None else after_position
    start = after_seq if after_position is None else after_seq - 1
    # Every entry the history names moves some of the account's units, so `limit` lines lie
    # within `limit` entries, one more when the page resumes inside an entry.
    entries = limit if after_position is None else limit + 1
    lines: list[dict[str, Any]] = []
    for seq, recorded_at, command_id, payload in _entries(
        store, account_entry_seqs(store, account_id, start, entries)
    ):
        details = _details(payload["command"])
        for position, move in _moves(payload):
            _, action, space, first, last, from_account, to_account = move
            if account_id not in (from_account, to_account):
                continue
            if seq == after_seq and position <= position_after:
                continue
            incoming = to_account == account_id and from_account != account_id
            lines.append(
                {
                    "seq": seq,
                    "position": position,
                    "recorded_at": recorded_at,
                    "command_id": command_id,
                    "action": action,
                    "serial_space": space,
                    "first_serial": first,
                    "last_serial": last,
                    "quantity": last - first + 1,
                    "from_account": from_account,
                    "to_account": to_account,
                    "direction": "in" if incoming else "out",
                    "details": details,
                }
            )
            if len(lines) == limit:
                return lines
    return lines


SerialPage = tuple[list[int], int | None]
"""Entries of a serial's history page, oldest first, and the cursor the next page resumes after
(None: no more)."""


def serial_entry_seqs(
    store: SqlStore,
    serial_space: str,
    serial: int,
    after_seq: int = 0,
    limit: int = SERIAL_HISTORY_PAGE_SIZE_MAX,
) -> SerialPage:
    """Entries after `after_seq` that moved `serial`, from the serial history postings, oldest
    first, at most `limit`; and the cursor of the next page. A page may hold fewer than `limit`
    entries and still have a next one: when a bucket is read up to HISTORY_ROWS_READ_MAX rows,
    the page ends at the last entry read there, and the next resumes after it."""
    limit = max(1, min(int(limit), SERIAL_HISTORY_PAGE_SIZE_MAX))
    seqs: set[int] = set()
    known_to: int | None = None
    for key in keys_holding(serial_space, serial):
        found, bucket_known_to = _bucket_entry_seqs(store, key, serial, after_seq, limit + 1)
        seqs |= found
        if bucket_known_to is not None:
            known_to = bucket_known_to if known_to is None else min(known_to, bucket_known_to)
    # Every bucket gave all its entries up to `known_to`: later ones may lack some of another's.
    known = sorted(seq for seq in seqs if known_to is None or seq <= known_to)
    if len(known) > limit:
        return known[:limit], known[limit - 1]
    return known, known_to


def _bucket_entry_seqs(
    store: SqlStore, key: SerialKey, serial: int, after_seq: int, wanted: int
) -> tuple[set[int], int | None]:
    """Entries after `after_seq` filed in one bucket that moved `serial`, read oldest first until
    `wanted` are found; and the last entry up to which they are all there (None: all of them).
    A posting row holds only entries after the bucket's previous rows' (projection goes in
    journal order), so the rows with a last seq after `after_seq` hold every entry after it."""
    serial_space, level, bucket = key
    found: set[int] = set()
    read_to, rows_read = after_seq, 0
    while rows_read < HISTORY_ROWS_READ_MAX:
        batch = min(HISTORY_ROWS_PER_QUERY, HISTORY_ROWS_READ_MAX - rows_read)
        rows = store.query(
            "SELECT last_seq, moves FROM serial_history WHERE serial_space = ? AND level = ? "
            "AND bucket = ? AND last_seq > ? ORDER BY last_seq LIMIT ?",
            (serial_space, level, bucket, read_to, batch),
        )
        for last_seq, packed in rows:
            found.update(_seqs_moving(bytes(packed), serial, after_seq))
            read_to = last_seq
            if len(found) >= wanted:
                return found, read_to
        if len(rows) < batch:
            return found, None
        rows_read += len(rows)
    return found, read_to


def _seqs_moving(packed: bytes, serial: int, after_seq: int) -> set[int]:
    return {
        seq
        for seq, first, last in unpack_moves(packed)
        if seq > after_seq and first <= serial <= last
    }


def serial_last_entry_seq(store: SqlStore, serial_space: str, serial: int) -> int | None:
    """The last entry that moved `serial`; None if no posting names it, or if a bucket read up to
    HISTORY_ROWS_READ_MAX rows may hold a later one in the rows left unread (never an earlier
    entry taken for the last). Each bucket is read from its newest rows back, and only as far
    as entries later than the last found so far."""
    last: int | None = None
    unread_below = 0
    for key in keys_holding(serial_space, serial):
        found, bucket_unread_below = _bucket_last_seq(store, key, serial, last or 0)
        if found is not None:
            last = found if last is None else max(last, found)
        unread_below = max(unread_below, bucket_unread_below)
    # Rows left unread hold entries before `unread_below` only.
    return last if last is not None and last >= unread_below else None


def _bucket_last_seq(
    store: SqlStore, key: SerialKey, serial: int, after_seq: int
) -> tuple[int | None, int]:
    """The last entry after `after_seq` filed in one bucket that moved `serial` (None if none),
    and the seq below which rows were left unread (0: none were)."""
    serial_space, level, bucket = key
    before, rows_read = AFTER_ANY_SEQ, 0
    while rows_read < HISTORY_ROWS_READ_MAX:
        batch = min(HISTORY_ROWS_PER_QUERY, HISTORY_ROWS_READ_MAX - rows_read)
        rows = store.query(
            "SELECT last_seq, moves FROM serial_history WHERE serial_space = ? AND level = ? "
            "AND bucket = ? AND last_seq > ? AND last_seq < ? ORDER BY last_seq DESC LIMIT ?",
            (serial_space, level, bucket, after_seq, before, batch),
        )
        for _last_seq, packed in rows:
            # The newest row naming the serial holds the bucket's last entry moving it.
            seqs = _seqs_moving(bytes(packed), serial, after_seq)
            if seqs:
                return max(seqs), 0
        if len(rows) < batch:
            return None, 0
        before, rows_read = rows[-1][0], rows_read + len(rows)
    return None, before


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


def provenance(
    store: SqlStore,
    serial_space: str,
    serial: int,
    after_seq: int = 0,
    limit: int = SERIAL_HISTORY_PAGE_SIZE_MAX,
    with_history: bool = True,
) -> dict[str, Any] | None:
    """The life of one serial: its issuance, where it is now, a page of the movements since
    (the entries after `after_seq`, at most `limit`; `next_after_seq` resumes, None at the end),
    and, whichever page it is on, the movement that made it final (`final`: None while active)
    and the one that brought it into being (`origin`: its issuance or conversion in). Without
    `with_history` the page is left unread (empty): for a view that shows only those two."""
    issuance = store.query_one(
        "SELECT i.issuance_id, i.first_serial, i.last_serial, i.account_id, i.seq, i.lineage, "
        "a.record FROM issuances i JOIN unit_attributes a ON a.attributes_id = i.attributes_id "
        "WHERE i.serial_space = ? AND i.first_serial <= ? ORDER BY i.first_serial DESC LIMIT 1",
        (serial_space, serial),
    )
    if issuance is None or issuance[2] < serial:
        return None
    current = _current_block(store, serial_space, serial)
    seqs, next_after_seq = (
        serial_entry_seqs(store, serial_space, serial, after_seq, limit)
        if with_history
        else ([], None)
    )
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
        "current": current,
        "origin": next(iter(_serial_history(store, serial, [issuance[4]])), None),
        "final": _final_line(store, serial_space, serial, current),
        "history_complete": after_seq == 0 and next_after_seq is None,
        "history": _serial_history(store, serial, seqs),
        "next_after_seq": next_after_seq,
    }


def _current_block(store: SqlStore, serial_space: str, serial: int) -> dict[str, Any] | None:
    row = store.query_one(
        "SELECT block_id, first_serial, last_serial, account_id, state, hold_id FROM blocks "
        "WHERE serial_space = ? AND first_serial <= ? ORDER BY first_serial DESC LIMIT 1",
        (serial_space, serial),
    )
    if row is None or row[2] < serial:
        return None
    keys = ("block_id", "first_serial", "last_serial", "account_id", "state", "hold_id")
    return dict(zip(keys, row, strict=True))


def _final_line(
    store: SqlStore, serial_space: str, serial: int, current: dict[str, Any] | None
) -> dict[str, Any] | None:
    """The movement that made the serial final (retired, cancelled...): the last that moved it,
    since nothing moves a unit in a final state; found directly, not by reading its history.
    None while the serial is active (or if `serial_last_entry_seq` cannot say which is last:
    the history's pages still reach it)."""
    if current is None or current["state"] == "active":
        return None
    last_seq = serial_last_entry_seq(store, serial_space, serial)
    lines = [] if last_seq is None else _serial_history(store, serial, [last_seq])
    return lines[-1] if lines else None


def _serial_history(store: SqlStore, serial: int, seqs: list[int]) -> list[dict[str, Any]]:
    lines = []
    for seq, recorded_at, command_id, payload in _entries(store, seqs):
        for _position, move in _moves(payload):
            _, action, _space, first, last, from_account, to_account = move
            if first <= serial <= last:
                lines.append(
                    {
                        "seq": seq,
                        "recorded_at": recorded_at,
                        "command_id": command_id,
                        "action": action,
                        "first_serial": first,
                        "last_serial": last,
                        "from_account": from_account,
                        "to_account": to_account,
                        "details": _details(payload["command"]),
                    }
                )
    return lines


def empty_totals() -> dict[str, int]:
    """The counters of a summary bucket, each at zero (also used by `journal_export`)."""
    return {"issued": 0, "held": 0, "on_hold": 0} | dict.fromkeys(STATES[1:], 0)


UNKNOWN_METRIC = "unknown"
"""The metric of a unit type the catalog no longer lists."""


def with_totals_by_metric(summary: dict[str, Any], metric_of: Mapping[str, str]) -> dict[str, Any]:
    """The summary with `by_metric` after `totals`: the totals per quantity measured (tCO2e, MWh,
    points). `totals` counts units of every type; only units of one metric add up to a quantity."""
    by_metric: dict[str, dict[str, int]] = defaultdict(empty_totals)
    for unit_type, values in summary["by_unit_type"].items():
        bucket = by_metric[metric_of.get(unit_type, UNKNOWN_METRIC)]
        for key, quantity in values.items():
            bucket[key] += quantity
    totals, *rest = summary.items()
    return dict([totals, ("by_metric", dict(sorted(by_metric.items()))), *rest])


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
