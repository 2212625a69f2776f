"""Helpers of the import tests: fixture paths, a full-table snapshot of the store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from carbonex.imports.report import ImportReport
from carbonex.ledger import Ledger
from carbonex.ledger.stored_values import TABLE_KEYS

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_VERRA = Path(__file__).parents[2] / ".." / "shared" / "data" / "verra" / "vcus_singapore.csv"
VERRA_FILE = SHARED_VERRA if SHARED_VERRA.exists() else FIXTURES / "vcus_singapore.csv"
GS_RETIREMENTS = FIXTURES / "gs_retirements.csv"
GS_ISSUANCES = FIXTURES / "gs_issuances.csv"
TABLES = tuple(TABLE_KEYS)


def snapshot(ledger: Ledger, project: bool = True) -> dict[str, Any]:
    """Every row of every table, sorted, so two snapshots compare equal iff nothing changed
    (after projecting, so that a projection is not mistaken for a change; `project` False: as the
    store holds them)."""
    if project:
        ledger.project()
    ledger.store.begin_read()
    try:
        return {
            table: sorted(repr(row) for row in ledger.store.query(f"SELECT * FROM {table}"))
            for table in TABLES
        }
    finally:
        ledger.store.rollback()


def assert_imported_again_unchanged(
    ledger: Ledger, importing: Callable[[], ImportReport], already_present: int
) -> None:
    """Importing again finds `already_present` rows there already, imports none and changes
    nothing, and the ledger verifies."""
    before = snapshot(ledger)
    again = importing()
    assert (again.blocks_imported, again.blocks_already_present) == (0, already_present), (
        again.row_problems
    )
    assert snapshot(ledger) == before
    assert ledger.verify().ok


def corrupted_copy(source: Path, target: Path, line: int, old: str, new: str) -> Path:
    """A copy of `source` with `old` replaced by `new` on one line (1 = header)."""
    lines = source.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    assert old in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new, 1)
    target.write_text("".join(lines), encoding="utf-8")
    return target
