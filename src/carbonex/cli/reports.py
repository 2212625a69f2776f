"""`carbonex report double-issuance`: candidate double issuances across registries.

Reads the ledger's issuances (imports of Verra, Gold Standard, ... exports and units issued here)
and the projects registered here, and lists pairs of projects from different registries that may
be the same mitigation issued twice (`carbonex.projects.duplicates`), with the periods they share
and the reasons. Read only: exit 0 whether or not candidates are found, 2 when the database cannot
be read (a SQLite file that does not exist is refused rather than created).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import typer

from carbonex.cli import render
from carbonex.cli.options import DatabaseOption, JsonOption
from carbonex.cli.session import driver_errors, driver_failed, open_store_or_exit
from carbonex.projects.duplicate_sources import FootprintLoad, load_footprints
from carbonex.projects.duplicates import (
    CANDIDATE_RULE,
    Candidate,
    DuplicateScan,
    Overlap,
    ProjectFootprint,
    scan_footprints,
)
from carbonex.store import resolve_database

OVERLAPS_SHOWN_MAX = 3
"""Overlapping periods a table cell lists (`--json` gives them all)."""
CANDIDATE_COLUMNS: list[render.Column] = [
    ("number", "#"),
    ("first", "project"),
    ("second", "possible duplicate"),
    ("overlaps", "overlapping periods (first..last day)"),
    ("reasons", "reasons"),
]

report_app = typer.Typer(no_args_is_help=True)


@report_app.callback()
def reports() -> None:
    """Reports over the registry's records (read only)."""


def _load(database: str | None) -> FootprintLoad:
    target = resolve_database(database)
    store = open_store_or_exit(target)
    try:
        return load_footprints(store)
    except driver_errors() as error:
        driver_failed(target, error)
    finally:
        store.close()


def _footprint_text(footprint: ProjectFootprint) -> str:
    lines = [f"{footprint.source} {footprint.project_id}"]
    if footprint.name:
        lines.append(footprint.name)
    details = [footprint.host_country, footprint.methodology, footprint.location]
    lines.append(" · ".join(detail for detail in details if detail) or "-")
    return "\n".join(lines)


def _overlap_text(overlap: Overlap) -> str:
    last_day = overlap.end - dt.timedelta(days=1)
    span = f"{overlap.start.isoformat()}..{last_day.isoformat()}"
    return f"{span} ({overlap.first.kind.value} / {overlap.second.kind.value})"


def _row(number: int, candidate: Candidate) -> dict[str, Any]:
    shown = [_overlap_text(overlap) for overlap in candidate.overlaps[:OVERLAPS_SHOWN_MAX]]
    hidden = len(candidate.overlaps) - len(shown)
    if hidden > 0:
        shown.append(f"… and {hidden} more")
    return {
        "number": number,
        "first": _footprint_text(candidate.first),
        "second": _footprint_text(candidate.second),
        "overlaps": "\n".join(shown),
        "reasons": "\n".join(reason.value for reason in candidate.reasons),
    }


def _warnings(load: FootprintLoad, scan: DuplicateScan) -> None:
    console = render.stderr_console()
    for message in load.problems:
        console.print(
            render.shown(f"Warning: skipped {message}"),
            style="yellow",
            markup=False,
            soft_wrap=True,
        )
    if load.problems_not_shown:
        console.print(
            f"Warning: {load.problems_not_shown} more rows skipped",
            style="yellow",
            markup=False,
            soft_wrap=True,
        )
    for block in scan.oversized_blocks:
        console.print(
            render.shown(
                f"Warning: {block.footprints:,} footprints share the key '{block.key}': "
                "too many to compare pairwise, not compared through it"
            ),
            style="yellow",
            markup=False,
            soft_wrap=True,
        )


def _print(load: FootprintLoad, scan: DuplicateScan) -> None:
    _warnings(load, scan)
    if not scan.candidates:
        render.line(
            f"No candidate double issuances among {scan.footprints:,} project footprints.",
            style="green",
        )
        return
    rows = [_row(number, c) for number, c in enumerate(scan.candidates, start=1)]
    render.print_table(render.records_table("Candidate double issuances", CANDIDATE_COLUMNS, rows))
    render.line(
        f"{len(scan.candidates):,} candidate pair(s) among {scan.footprints:,} project "
        f"footprints ({scan.pairs_compared:,} pairs compared). Rule: {CANDIDATE_RULE}."
    )


@report_app.command("double-issuance")
def double_issuance(database: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """List projects of different registries that may be the same mitigation issued twice.

    A pair is listed when their vintages or monitoring periods overlap AND one cites the other's
    id (or both cite the same one), or their names match, or their location, methodology and
    host country all match. Exit 0 whether or not any are found."""
    load = _load(database)
    scan = scan_footprints(load.footprints)
    if as_json:
        render.json_document(scan.to_record() | load.to_record())
        return
    _print(load, scan)
