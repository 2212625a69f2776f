"""What an import did: rows read, blocks imported, retired, cancelled, and the rows it skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PROBLEMS_KEPT_MAX = 1_000
"""Row problems a report keeps, the first ones; the rest are only counted (`problems_total`). A
file of a million junk lines held a million problems in memory to show a screenful of them."""


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
class RowProblems:
    """The first PROBLEMS_KEPT_MAX row problems, and how many there were in all."""

    kept: list[RowProblem] = field(default_factory=list)
    total: int = 0

    def add(self, problem: RowProblem) -> None:
        self.total += 1
        if len(self.kept) < PROBLEMS_KEPT_MAX:
            self.kept.append(problem)


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
    row_problems: RowProblems = field(default_factory=RowProblems)
    skipped_bad_rows: bool = False
    committed: bool = False

    @property
    def problems(self) -> list[RowProblem]:
        """The first PROBLEMS_KEPT_MAX of them."""
        return self.row_problems.kept

    @property
    def problems_total(self) -> int:
        return self.row_problems.total

    @property
    def ok(self) -> bool:
        return self.problems_total == 0

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
            "problems_total": self.problems_total,
        }
