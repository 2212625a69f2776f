"""Project footprints read from a store, for the double-issuance report (`duplicates.py`).

Two sources, read in one read transaction:

* **The ledger.** Issuances joined with their unit attributes, grouped by (registry, project id).
  The registry is the issuance's serial-space prefix (`VERRA/VCU` -> VERRA), or the attributes'
  standard when the space has no prefix. Vintages become periods: the ledger's vintage end is the
  last day, a period's end is exclusive, so one day is added. Host country is the most frequent
  among the project's issuances (ties: alphabetical order); every distinct methodology is kept
  ("; "-joined). Issuances made by a conversion (with lineage) are skipped: they re-denominate
  units already issued, under the ledger's own checks. The ledger keeps no names, locations or
  cross-references, and the rule needs one of those: two imports alone never make a candidate.
  They do once a project registered here carries their id (next item) and cites the other.
* **Projects registered here** (`projects` and `monitoring_reports`, migration 0002), when both
  tables exist: source `PROJECTS_SOURCE`, name, host country, methodology, location,
  `other_registrations` (a JSON list of ids such as "CDM:1234") as cross-references, and the
  period of every monitoring report (`period_end` exclusive, as `lifecycle.Period`) except
  rejected ones: a submitted period counts before it is verified. The ledger's units under a
  registered project's id are the units this registry issued for it (`programme.py` issues them
  in the standard's registry, e.g. VERRA/VCU, under the project's id): their vintages join the
  project's footprint rather than making a footprint of their own, which would otherwise look
  like a duplicate of the project itself.

Tables are read a page of `PAGE_ROWS` rows at a time (keyset pagination), so memory holds the
footprints, never the tables. Rows that cannot be read (a period that is not ISO dates or ends
before it starts, other registrations that are not a JSON list of strings) are skipped and named
in `FootprintLoad.problems`.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from carbonex.projects.duplicates import THIS_REGISTRY, Period, PeriodKind, ProjectFootprint
from carbonex.store import SqlStore

PAGE_ROWS = 5_000
"""Rows fetched per query when paging through a table."""
PROBLEMS_MAX = 100
"""Problems named in a load; beyond that only counted."""
PROJECTS_SOURCE = THIS_REGISTRY
"""The registry of projects registered in this Carbonex instance."""
PROJECT_TABLES = frozenset({"projects", "monitoring_reports"})
REPORT_STATUSES_NOT_CLAIMING = frozenset({"rejected"})
"""Monitoring reports that claim no period (any other status, future ones included, counts)."""
SERIAL_SPACE_SEPARATOR = "/"
METHODOLOGY_SEPARATOR = "; "

ISSUANCES_PAGE_SQL = (
    "SELECT i.issuance_id, i.serial_space, a.standard, a.project_id, a.vintage_start, "
    "a.vintage_end, a.host_country, a.methodology FROM issuances i "
    "JOIN unit_attributes a ON a.attributes_id = i.attributes_id "
    "WHERE i.issuance_id > ? AND i.lineage IS NULL ORDER BY i.issuance_id LIMIT ?"
)
PROJECTS_PAGE_SQL = (
    "SELECT project_id, name, host_country, methodology, location, other_registrations "
    "FROM projects WHERE project_id > ? ORDER BY project_id LIMIT ?"
)
REPORTS_PAGE_SQL = (
    "SELECT project_id, period_start, event_seq, period_end, status FROM monitoring_reports "
    "WHERE (project_id, period_start, event_seq) > (?, ?, ?) "
    "ORDER BY project_id, period_start, event_seq LIMIT ?"
)


@dataclass(slots=True)
class FootprintLoad:
    footprints: list[ProjectFootprint] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    problems_not_shown: int = 0

    def problem(self, message: str) -> None:
        if len(self.problems) < PROBLEMS_MAX:
            self.problems.append(message)
        else:
            self.problems_not_shown += 1

    def to_record(self) -> dict[str, Any]:
        return {"problems": self.problems, "problems_not_shown": self.problems_not_shown}


def load_footprints(store: SqlStore, page_rows: int = PAGE_ROWS) -> FootprintLoad:
    """Every footprint the store holds: the ledger's, then the registered projects'."""
    load = FootprintLoad()
    store.begin_read()
    try:
        issued = ledger_footprints(store, load, page_rows)
        registered: list[ProjectFootprint] = []
        if PROJECT_TABLES.issubset(store.table_names()):
            registered = project_footprints(store, load, page_rows)
    finally:
        store.rollback()
    load.footprints = merged(issued, registered)
    return load


# -- the ledger --------------------------------------------------------------------------------


@dataclass(slots=True)
class _Issued:
    periods: set[Period] = field(default_factory=set)
    countries: Counter[str] = field(default_factory=Counter)
    methodologies: set[str] = field(default_factory=set)

    def footprint(self, registry: str, project_id: str) -> ProjectFootprint:
        countries = sorted(self.countries.items(), key=lambda item: (-item[1], item[0]))
        return ProjectFootprint(
            source=registry,
            project_id=project_id,
            host_country=countries[0][0] if countries else "",
            methodology=METHODOLOGY_SEPARATOR.join(sorted(self.methodologies - {""})),
            periods=tuple(sorted(self.periods)),
        )


def _pages(
    store: SqlStore, statement: str, cursor: tuple[Any, ...], page_rows: int
) -> Iterator[tuple[Any, ...]]:
    """Rows of a keyset-paged query: its parameters are the cursor then the page size, and its
    first `len(cursor)` columns are the key it orders by."""
    while True:
        rows = store.query(statement, (*cursor, page_rows))
        yield from rows
        if len(rows) < page_rows:
            return
        cursor = tuple(rows[-1][: len(cursor)])


def registry_of(serial_space: str, standard: str) -> str:
    """`VERRA/VCU` -> VERRA; the standard when the space names no registry."""
    registry, separator, _ = serial_space.partition(SERIAL_SPACE_SEPARATOR)
    return registry if separator and registry else standard


def ledger_footprints(
    store: SqlStore, load: FootprintLoad, page_rows: int
) -> list[ProjectFootprint]:
    """One footprint per (registry, project id) of the ledger's issuances, with their vintages."""
    issued: dict[tuple[str, str], _Issued] = {}
    for row in _pages(store, ISSUANCES_PAGE_SQL, (0,), page_rows):
        issuance_id, space, standard, project_id, start, end, country, methodology = row
        key = (registry_of(space, standard), project_id)
        entry = issued.setdefault(key, _Issued())
        period = period_of(start, end, PeriodKind.VINTAGE, end_inclusive=True)
        if period is None:
            load.problem(f"issuance {issuance_id}: vintage {start}..{end} is not a period")
        else:
            entry.periods.add(period)
        entry.countries[country] += 1
        entry.methodologies.add(methodology)
    return [entry.footprint(*key) for key, entry in sorted(issued.items())]


def period_of(start: str, end: str, kind: PeriodKind, end_inclusive: bool) -> Period | None:
    """The period of two ISO dates, or None when they are not dates in order."""
    try:
        first, last = dt.date.fromisoformat(start), dt.date.fromisoformat(end)
    except (TypeError, ValueError):
        return None
    if end_inclusive:
        if last == dt.date.max:
            return None
        last += dt.timedelta(days=1)
    return Period(first, last, kind) if first < last else None


# -- projects registered here ------------------------------------------------------------------


def cross_references(text: str) -> tuple[str, ...] | None:
    """The ids of a JSON list of strings ("" is none), or None when it is not one."""
    if not text.strip():
        return ()
    try:
        value = json.loads(text)
    except ValueError:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        return None
    return tuple(item for item in value if item.strip())


def _project(row: Sequence[Any], load: FootprintLoad) -> ProjectFootprint:
    project_id, name, country, methodology, location, registrations = row
    references = cross_references(registrations or "")
    if references is None:
        load.problem(f"project {project_id}: other_registrations is not a JSON list of ids")
    return ProjectFootprint(
        source=PROJECTS_SOURCE,
        project_id=project_id,
        name=name,
        host_country=country,
        methodology=methodology,
        location=location,
        cross_references=references or (),
    )


def _monitoring_periods(
    store: SqlStore, load: FootprintLoad, page_rows: int
) -> dict[str, set[Period]]:
    """Monitoring periods by project id, of the reports that claim one."""
    periods: dict[str, set[Period]] = {}
    for project_id, start, event_seq, end, status in _pages(
        store, REPORTS_PAGE_SQL, ("", "", -1), page_rows
    ):
        if status in REPORT_STATUSES_NOT_CLAIMING:
            continue
        period = period_of(start, end, PeriodKind.MONITORING, end_inclusive=False)
        if period is None:
            load.problem(
                f"monitoring report {event_seq} of project {project_id}: "
                f"{start}..{end} is not a period"
            )
            continue
        periods.setdefault(project_id, set()).add(period)
    return periods


def project_footprints(
    store: SqlStore, load: FootprintLoad, page_rows: int
) -> list[ProjectFootprint]:
    """One footprint per registered project, with its monitoring periods."""
    projects = [_project(row, load) for row in _pages(store, PROJECTS_PAGE_SQL, ("",), page_rows)]
    periods = _monitoring_periods(store, load, page_rows)
    return [
        replace(project, periods=tuple(sorted(periods.get(project.project_id, ()))))
        for project in projects
    ]


def merged(
    issued: Sequence[ProjectFootprint], registered: Sequence[ProjectFootprint]
) -> list[ProjectFootprint]:
    """The ledger's footprints, except those of a registered project's id, which are that
    project's units: their vintages join the project's footprint instead."""
    registered_ids = {project.project_id for project in registered}
    vintages: dict[str, set[Period]] = {}
    others = []
    for footprint in issued:
        if footprint.project_id in registered_ids:
            vintages.setdefault(footprint.project_id, set()).update(footprint.periods)
        else:
            others.append(footprint)
    projects = [
        replace(
            project,
            periods=tuple(sorted({*project.periods, *vintages.get(project.project_id, ())})),
        )
        for project in registered
    ]
    return [*others, *projects]
