"""What an import did: rows read, blocks imported, retired, cancelled, and the rows it skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class RowProblem:
    """A row that could not be imported: its line in the file (1 = header) and why."""

    line: int
    reason: str

    def to_record(self) -> dict[str, Any]:
        return {"line": self.line, "reason": self.reason}


class ImportRefusedError(ValueError):
    """The file cannot be imported at all (unreadable, or a required header column is missing)."""


@dataclass(slots=True)
class ImportReport:
    source: str
    rows_read: int = 0
    blocks_imported: int = 0
    """Issuances accepted by this run (a re-import counts 0: the ledger returns duplicates)."""
    blocks_already_present: int = 0
    retired: int = 0
    cancelled: int = 0
    held: int = 0
    """Blocks left active in the import account (issuance exports)."""
    quantity_imported: int = 0
    problems: list[RowProblem] = field(default_factory=list)
    skipped_bad_rows: bool = False
    committed: bool = False

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_record(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "rows_read": self.rows_read,
            "blocks_imported": self.blocks_imported,
            "blocks_already_present": self.blocks_already_present,
            "retired": self.retired,
            "cancelled": self.cancelled,
            "held": self.held,
            "quantity_imported": self.quantity_imported,
            "committed": self.committed,
            "skipped_bad_rows": self.skipped_bad_rows,
            "problems": [problem.to_record() for problem in self.problems],
        }
