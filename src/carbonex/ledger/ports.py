"""What the ledger needs from a store (implemented by SQLite, PostgreSQL and memory stores)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple, Protocol

from carbonex.ledger.effects import Effect
from carbonex.ledger.journal import JournalRow
from carbonex.ledger.model import Account, Block, Hold, UnitAttributes


class DamagedLedgerError(RuntimeError):
    """The head (the id counters the journal's last entry carries) contradicts the tables
    (altered by hand, or restored from mismatched files): writing on would damage the ledger for
    good (a new block over an existing one), so no unit of work starts. `carbonex verify` names
    what is wrong."""


COUNTER_MISSING = 0
"""A counter the journal's last entry does not carry (ids start at 1)."""


@dataclass(frozen=True, slots=True)
class Head:
    """The journal's last entry and the id counters it carries, as committed, and how far the
    read models (blocks and the history indexes) have been projected."""

    seq: int
    next_block_id: int
    next_issuance_id: int
    projected_seq: int

    @property
    def counters(self) -> tuple[int, int]:
        return self.next_block_id, self.next_issuance_id


class IdEnds(NamedTuple):
    """The highest block and issuance ids taken (0: none)."""

    block_id_max: int
    issuance_id_max: int


def head_problems(head: Head, taken: IdEnds) -> list[str]:
    """Where the head's counters contradict the ids already taken; [] when consistent."""
    if head.seq and COUNTER_MISSING in head.counters:
        return [f"the journal's last entry ({head.seq}) carries no id counters"]
    problems = []
    if head.next_block_id <= taken.block_id_max:
        problems.append(
            f"the next block id is {head.next_block_id}, but block ids up to "
            f"{taken.block_id_max} are taken"
        )
    if head.next_issuance_id <= taken.issuance_id_max:
        problems.append(
            f"the next issuance id is {head.next_issuance_id}, but issuance ids up to "
            f"{taken.issuance_id_max} are taken"
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
    def load_id_ends(self) -> IdEnds: ...
    def load_entry_hash(self, seq: int) -> str: ...
    def load_account(self, account_id: str) -> Account | None: ...
    def load_active_blocks(self, account_id: str) -> list[Block]: ...
    def load_blocks_overlapping(
        self, space: str, first: int, last: int, limit: int
    ) -> list[Block]: ...
    def load_attributes(self, attributes_id: str) -> UnitAttributes | None: ...
    def load_hold(self, hold_id: str) -> Hold | None: ...
    def find_overlapping_issuance(self, space: str, first: int, last: int) -> int | None: ...
    def max_issued_serial(self, space: str) -> int: ...
    def find_journal_row(self, command_id: str) -> JournalRow | None: ...
    def is_duplicate_command_error(self, error: BaseException) -> bool: ...
    def journal_rows_after(self, seq: int, limit: int) -> Sequence[JournalRow]: ...
    def write(self, pending: PendingWrite) -> None: ...
    def project_journal(self, after_seq: int, through_seq: int) -> None: ...
