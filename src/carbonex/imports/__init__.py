"""Importers of registry exports (Verra, Gold Standard) and parsers of their serial numbers.

    from carbonex.imports import import_verra, import_gold_standard
    report = import_verra(ledger, Path("vcus.csv"), skip_bad_rows=False)

Each importer reads a CSV export as a stream of blocks, validates every row, and submits issue and
retire/cancel commands in all-or-nothing chunks with command ids derived from the row content, so
importing the same file twice changes nothing.
"""

from carbonex.imports.gold_standard import import_gold_standard
from carbonex.imports.report import ImportReport, RowProblem
from carbonex.imports.verra import import_verra

__all__ = ["ImportReport", "RowProblem", "import_gold_standard", "import_verra"]
