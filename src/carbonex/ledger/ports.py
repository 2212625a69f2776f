"""What the ledger needs from a store (implemented by SQLite, PostgreSQL and memory stores)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from carbonex.ledger.effects import Effect
from carbonex.ledger.journal import JournalRow
from carbonex.ledger.model import Account, Block, Hold, UnitAttributes


class DamagedLedgerError(RuntimeError):
    """The stored head contradicts the journal or the tables (altered by hand, or restored from
    mismatched files): writing on would damage the ledger for good (a new block over an existing
    one, an entry off the end of the chain), so no unit of work starts. `carbonex verify` names
    what is wrong."""


@dataclass(frozen=True, slots=True)
class Head:
    """The journal's head sequence number and the id counters, as committed, and how far the
    read models (blocks and the history indexes) have been projected; with what the tables hold,
    read in the same statement, to check the head against."""

    seq: int
    next_block_id: int
    next_issuance_id: int
    projected_seq: int
    journal_seq: int
    """The last entry the journal holds."""
    block_id_max: int
    """The highest block id stored (made by a projected entry)."""
    issuance_id_max: int

    def problems(self) -> list[str]:
        """Where the head contradicts the journal or the tables; [] when it is consistent."""
        problems = []
        if self.seq != self.journal_seq:
            problems.append(
                f"the head names entry {self.seq} but the journal ends at entry {self.journal_seq}"
            )
        if self.next_block_id <= self.block_id_max:
            problems.append(
                f"the next block id is {self.next_block_id}, but block ids up to "
                f"{self.block_id_max} are taken"
            )
        if self.next_issuance_id <= self.issuance_id_max:
            problems.append(
                f"the next issuance id is {self.next_issuance_id}, but issuance ids up to "
                f"{self.issuance_id_max} are taken"
            )
        return problems


class PendingEntry(NamedTuple):
    row: JournalRow
    effects: list[Effect]


ProjectedEntry = tuple[int, list[Effect]]
"""(seq, effects) of a journal entry whose effects the read models do not show yet."""


@dataclass(frozen=True, slots=True)
class Projection:
    """Entries to apply to the read models, in journal order, ending at `through_seq`."""

    entries: list[ProjectedEntry]
    through_seq: int
    first_new_block_id: int | None
    """Blocks numbered from here were made after the last projection: none is stored yet
    (None: not known, so every block merged away is deleted)."""


@dataclass(frozen=True, slots=True)
class PendingWrite:
    entries: list[PendingEntry]
    """Journal rows not written yet, with the effects the tables written with them need."""
    next_block_id: int
    next_issuance_id: int
    projection: Projection | None = None


class StateLoader(Protocol):
    """Reads the ledger's current state inside the open write transaction."""

    def load_head(self) -> Head: ...
    def load_entry_hash(self, seq: int) -> str: ...
    def load_account(self, account_id: str) -> Account | None: ...
    def load_active_blocks(self, account_id: str) -> list[Block]: ...
    def load_blocks_overlapping(self, space: str, first: int, last: int) -> list[Block]: ...
    def load_attributes(self, attributes_id: str) -> UnitAttributes | None: ...
    def load_hold(self, hold_id: str) -> Hold | None: ...
    def find_overlapping_issuance(self, space: str, first: int, last: int) -> int | None: ...
    def max_issued_serial(self, space: str) -> int: ...
    def find_journal_row(self, command_id: str) -> JournalRow | None: ...
    def is_duplicate_command_error(self, error: BaseException) -> bool: ...
    def journal_rows_after(self, seq: int, limit: int) -> Sequence[JournalRow]: ...
    def write(self, pending: PendingWrite) -> None: ...
    def project_journal(self, after_seq: int, through_seq: int) -> None: ...
