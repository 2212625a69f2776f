"""The carbon-inclusion tables (migration 0003) through the store's SQL, `?` placeholders.

Writers call these inside `Ledger.transact`; readers inside a read transaction. PostgreSQL sums
BIGINT columns as NUMERIC, so every sum is turned back into an int here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from carbonex.inclusion.results import Aggregated
from carbonex.inclusion.rules import Action, Earned, Plan, Status
from carbonex.store import SqlStore

IN_LIST_CHUNK = 500
"""Ids per `IN (...)` list: far below both databases' limits on parameters."""
ACTION_COLUMNS = (
    "action_id, person_id, action_type, quantity_micro, day, points_milli, status, "
    "recorded_at, reviewed_by, reviewed_at, aggregation_id"
)
ACTION_KEYS = tuple(name.strip() for name in ACTION_COLUMNS.split(","))
AGGREGATION_COLUMNS = (
    "aggregation_id, aggregator_account_id, period_start, period_end, unit_type, project_id, "
    "host_country, units, points_per_unit, points_used_milli, people, actions, command_id, "
    "journal_seq, entry_hash, serial_space, first_serial, last_serial, aggregated_at"
)
AGGREGATION_KEYS = tuple(name.strip() for name in AGGREGATION_COLUMNS.split(","))
CONTRIBUTION_KEYS = ("person_id", "available_milli", "used_milli", "carried_milli", "actions")
UPSERT_BALANCE = (
    "INSERT INTO inclusion_balances (person_id, carried_milli) VALUES (?, ?) "
    "ON CONFLICT (person_id) DO UPDATE SET carried_milli = excluded.carried_milli"
)


def _int(value: Any) -> int:
    return int(value) if value is not None else 0


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(ids), IN_LIST_CHUNK):
        yield ids[start : start + IN_LIST_CHUNK]


# -- actions ---------------------------------------------------------------------------------------


def action(store: SqlStore, action_id: str) -> dict[str, Any] | None:
    row = store.query_one(
        f"SELECT {ACTION_COLUMNS} FROM inclusion_actions WHERE action_id = ?", (action_id,)
    )
    return dict(zip(ACTION_KEYS, row, strict=True)) if row is not None else None


def recorded_same_day_micro(store: SqlStore, person_id: str, action_type: str, day: str) -> int:
    row = store.query_one(
        "SELECT SUM(quantity_micro) FROM inclusion_actions WHERE person_id = ? AND day = ? "
        "AND action_type = ? AND status <> ?",
        (person_id, day, action_type, Status.REJECTED.value),
    )
    return _int(row[0] if row else None)


def insert_action(store: SqlStore, action: Action, earned: Earned, recorded_at: str) -> None:
    store.execute(
        "INSERT INTO inclusion_actions (action_id, person_id, action_type, quantity_micro, day, "
        "points_milli, status, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            action.action_id,
            action.person_id,
            action.action_type,
            earned.quantity_micro,
            action.day.isoformat(),
            earned.points_milli,
            Status.RECORDED.value,
            recorded_at,
        ),
    )


def statuses(store: SqlStore, action_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
    """Action id -> (status, person id) of those that exist."""
    found: dict[str, tuple[str, str]] = {}
    for chunk in _chunks(action_ids):
        marks = ", ".join("?" * len(chunk))
        rows = store.query(
            "SELECT action_id, status, person_id FROM inclusion_actions "
            f"WHERE action_id IN ({marks})",
            chunk,
        )
        found.update((str(row[0]), (str(row[1]), str(row[2]))) for row in rows)
    return found


def set_status(
    store: SqlStore, action_ids: Sequence[str], status: Status, reviewer: str, at: str
) -> None:
    store.execute_many(
        "UPDATE inclusion_actions SET status = ?, reviewed_by = ?, reviewed_at = ? "
        "WHERE action_id = ?",
        [(status.value, reviewer, at, action_id) for action_id in action_ids],
    )


def history(
    store: SqlStore, person_id: str, limit: int, after: tuple[str, str] | None
) -> list[dict[str, Any]]:
    """A person's actions by day then action id, from after the cursor (day, action id)."""
    after_day, after_id = after if after is not None else ("", "")
    rows = store.query(
        f"SELECT {ACTION_COLUMNS} FROM inclusion_actions WHERE person_id = ? "
        "AND (day > ? OR (day = ? AND action_id > ?)) ORDER BY day, action_id LIMIT ?",
        (person_id, after_day, after_day, after_id, limit),
    )
    return [dict(zip(ACTION_KEYS, row, strict=True)) for row in rows]


# -- points ----------------------------------------------------------------------------------------


def points_by_status(store: SqlStore, person_id: str) -> dict[str, int]:
    rows = store.query(
        "SELECT status, SUM(points_milli) FROM inclusion_actions WHERE person_id = ? "
        "GROUP BY status",
        (person_id,),
    )
    return {str(row[0]): _int(row[1]) for row in rows}


def carried_milli(store: SqlStore, person_id: str) -> int:
    row = store.query_one(
        "SELECT carried_milli FROM inclusion_balances WHERE person_id = ?", (person_id,)
    )
    return _int(row[0] if row else None)


def converted_milli(store: SqlStore, person_id: str) -> int:
    row = store.query_one(
        "SELECT SUM(used_milli) FROM inclusion_contributions WHERE person_id = ?", (person_id,)
    )
    return _int(row[0] if row else None)


# -- aggregations ----------------------------------------------------------------------------------


def aggregation(store: SqlStore, aggregation_id: str) -> tuple[str, dict[str, Any]] | None:
    """(request hash, the aggregation's columns) or None."""
    row = store.query_one(
        f"SELECT request_hash, {AGGREGATION_COLUMNS} FROM inclusion_aggregations "
        "WHERE aggregation_id = ?",
        (aggregation_id,),
    )
    if row is None:
        return None
    return str(row[0]), dict(zip(AGGREGATION_KEYS, row[1:], strict=True))


def verified_in_period(
    store: SqlStore, start: dt.date, end: dt.date
) -> tuple[dict[str, int], dict[str, int]]:
    """Per person: milli-points and number of the verified actions of days in [start, end)."""
    rows = store.query(
        "SELECT person_id, SUM(points_milli), COUNT(*) FROM inclusion_actions "
        "WHERE status = ? AND day >= ? AND day < ? GROUP BY person_id",
        (Status.VERIFIED.value, start.isoformat(), end.isoformat()),
    )
    points = {str(row[0]): _int(row[1]) for row in rows}
    return points, {str(row[0]): _int(row[2]) for row in rows}


def all_carried(store: SqlStore) -> dict[str, int]:
    rows = store.query(
        "SELECT person_id, carried_milli FROM inclusion_balances WHERE carried_milli > 0"
    )
    return {str(row[0]): _int(row[1]) for row in rows}


def latest_period_end(store: SqlStore) -> dt.date | None:
    """The latest period end of the aggregations recorded (ISO text sorts as the dates do)."""
    row = store.query_one("SELECT MAX(period_end) FROM inclusion_aggregations")
    return dt.date.fromisoformat(str(row[0])) if row and row[0] is not None else None


def write_aggregation(
    store: SqlStore,
    request_hash: str,
    done: Aggregated,
    plan: Plan,
    counts: dict[str, int],
    kept_milli: Mapping[str, int],
) -> None:
    """The aggregation, its contributions, its actions marked aggregated, and each contributor's
    carried points: what they did not contribute plus `kept_milli`, carried points the
    aggregation did not take (`rules.carried_points_join`)."""
    values = [getattr(done, key) for key in AGGREGATION_KEYS]
    values = [value.isoformat() if isinstance(value, dt.date) else value for value in values]
    marks = ", ".join("?" * (len(values) + 1))
    store.execute(
        f"INSERT INTO inclusion_aggregations (request_hash, {AGGREGATION_COLUMNS}) "
        f"VALUES ({marks})",
        (request_hash, *values),
    )
    store.execute_many(
        "INSERT INTO inclusion_contributions (aggregation_id, person_id, available_milli, "
        "used_milli, carried_milli, actions) VALUES (?, ?, ?, ?, ?, ?)",
        [
            (
                done.aggregation_id,
                c.person_id,
                c.available_milli,
                c.used_milli,
                c.carried_milli,
                counts.get(c.person_id, 0),
            )
            for c in plan.contributions
        ],
    )
    store.execute(
        "UPDATE inclusion_actions SET status = ?, aggregation_id = ? "
        "WHERE status = ? AND day >= ? AND day < ?",
        (
            Status.AGGREGATED.value,
            done.aggregation_id,
            Status.VERIFIED.value,
            done.period_start.isoformat(),
            done.period_end.isoformat(),
        ),
    )
    store.execute_many(
        UPSERT_BALANCE,
        [
            (c.person_id, kept_milli.get(c.person_id, 0) + c.carried_milli)
            for c in plan.contributions
        ],
    )


def contributions(
    store: SqlStore, aggregation_id: str, limit: int, after_person_id: str
) -> list[dict[str, Any]]:
    rows = store.query(
        "SELECT person_id, available_milli, used_milli, carried_milli, actions "
        "FROM inclusion_contributions WHERE aggregation_id = ? AND person_id > ? "
        "ORDER BY person_id LIMIT ?",
        (aggregation_id, after_person_id, limit),
    )
    return [
        dict(zip(CONTRIBUTION_KEYS, (row[0], *map(_int, row[1:])), strict=True)) for row in rows
    ]
