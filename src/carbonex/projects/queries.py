"""Reads of the project tables, and their verification against the event chain."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import orjson

from carbonex.catalog.standards import ProjectCatalog
from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX
from carbonex.projects.events import CREATE, ReplayError, replay, verify_event_chain
from carbonex.store import SqlStore

PROJECT_COLUMNS = (
    "project_id",
    "standard",
    "category",
    "name",
    "host_country",
    "methodology",
    "location",
    "proponent_account_id",
    "other_registrations",
    "state",
    "last_event_seq",
)
REPORT_COLUMNS = (
    "event_seq",
    "project_id",
    "period_start",
    "period_end",
    "claimed_t",
    "verified_t",
    "issued_t",
    "issuance_journal_seq",
    "status",
)
PROBLEMS_MAX = 100


def _project_row(row: Iterable[Any]) -> dict[str, Any]:
    record = dict(zip(PROJECT_COLUMNS, row, strict=True))
    record["other_registrations"] = orjson.loads(record["other_registrations"])
    return record


def projects(store: SqlStore, limit: int, after: str) -> list[dict[str, Any]]:
    limit = max(1, min(limit, QUERY_PAGE_SIZE_MAX))
    rows = store.query(
        f"SELECT {', '.join(PROJECT_COLUMNS)} FROM projects WHERE project_id > ? "
        "ORDER BY project_id LIMIT ?",
        (after, limit),
    )
    return [_project_row(row) for row in rows]


def reports(store: SqlStore, project_id: str) -> list[dict[str, Any]]:
    rows = store.query(
        f"SELECT {', '.join(REPORT_COLUMNS)} FROM monitoring_reports WHERE project_id = ? "
        "ORDER BY event_seq",
        (project_id,),
    )
    return [dict(zip(REPORT_COLUMNS, row, strict=True)) for row in rows]


def project(store: SqlStore, project_id: str, catalog: ProjectCatalog) -> dict[str, Any] | None:
    """The project, its monitoring reports and its full history (from the events)."""
    row = store.query_one(
        f"SELECT {', '.join(PROJECT_COLUMNS)} FROM projects WHERE project_id = ?", (project_id,)
    )
    if row is None:
        return None
    record = _project_row(row)
    payloads = store.query(
        "SELECT payload FROM project_events WHERE project_id = ? ORDER BY event_seq",
        (project_id,),
    )
    rebuilt, history = replay((bytes(p[0]) for p in payloads), catalog.standards)
    record["history"] = history
    record["monitoring_reports"] = reports(store, project_id)
    if rebuilt is not None:
        record["crediting_periods"] = [
            [p.start.isoformat(), p.end.isoformat()] for p in rebuilt.crediting_periods
        ]
    return record


def expected_reports(
    project_id: str, records: Iterable[Mapping[str, Any]]
) -> list[tuple[Any, ...]]:
    """The monitoring report rows a project's events imply, in event order."""
    rows: list[list[Any]] = []
    for record in records:
        request, outcome, seq = record["request"], record["outcome"], record["event_seq"]
        action = request["action"]
        if action == "submit_monitoring_report":
            start, end = request["period"]
            rows.append([seq, project_id, start, end, request["quantity_t"], None, None, None,
                         "submitted"])  # fmt: skip
        elif action == "verify":
            rows[-1][5], rows[-1][8] = request["quantity_t"], "verified"
        elif action == "reject_monitoring_report":
            rows[-1][8] = "rejected"
        elif action == "approve_issuance":
            rows[-1][6], rows[-1][7] = outcome["quantity_t"], outcome["journal_seq"]
            rows[-1][8] = "issued"
    return [tuple(row) for row in rows]


def _check_project(
    store: SqlStore, project_id: str, payloads: list[bytes], catalog: ProjectCatalog
) -> list[str]:
    try:
        rebuilt, records = replay(payloads, catalog.standards)
    except ReplayError as error:
        return [f"replay: {error}"]
    row = store.query_one(
        f"SELECT {', '.join(PROJECT_COLUMNS)} FROM projects WHERE project_id = ?", (project_id,)
    )
    if row is None or rebuilt is None:
        return [f"project {project_id}: events without a projects row"]
    stored = _project_row(row)
    create = records[0]["request"]
    expected = {**create["details"], "project_id": project_id, "state": rebuilt.state.value,
                "last_event_seq": records[-1]["event_seq"]}  # fmt: skip
    problems = [
        f"project {project_id}: {name} is {stored[name]!r}, its events say {expected[name]!r}"
        for name in PROJECT_COLUMNS
        if stored[name] != expected[name]
    ]
    actual = [tuple(r.values()) for r in reports(store, project_id)]
    if actual != expected_reports(project_id, records):
        problems.append(f"project {project_id}: monitoring reports differ from its events")
    return problems


def verify(store: SqlStore, catalog: ProjectCatalog) -> list[str]:
    """The event chain, then each project replayed and compared with its derived rows."""
    rows = store.query(
        "SELECT event_seq, payload, previous_hash, event_hash FROM project_events "
        "ORDER BY event_seq"
    )
    _count, broken = verify_event_chain((r[0], bytes(r[1]), r[2], r[3]) for r in rows)
    problems = [broken] if broken else []
    by_project: dict[str, list[bytes]] = {}
    for row in store.query("SELECT project_id, payload FROM project_events ORDER BY event_seq"):
        by_project.setdefault(str(row[0]), []).append(bytes(row[1]))
    for project_id, payloads in sorted(by_project.items()):
        problems += _check_project(store, project_id, payloads, catalog)
        if len(problems) >= PROBLEMS_MAX:
            return problems[:PROBLEMS_MAX]
    listed = {str(r[0]) for r in store.query("SELECT project_id FROM projects")}
    problems += [
        f"project {p}: a projects row without events" for p in sorted(listed - set(by_project))
    ]
    orphans = store.query("SELECT COUNT(*) FROM monitoring_reports WHERE project_id NOT IN "
                          "(SELECT project_id FROM projects)")  # fmt: skip
    if orphans[0][0]:
        problems.append(f"{orphans[0][0]} monitoring report(s) of unknown projects")
    return problems[:PROBLEMS_MAX]


__all__ = ["CREATE", "project", "projects", "reports", "verify"]
