"""The write-side cache: what the ledger knows of the state inside one writer.

Loaded lazily from the store, account by account, and kept across transactions. Effects are
applied to it as commands are accepted. Two kinds of writes follow, at two paces:

* the journal rows (and the rarely written accounts, holds, issuances and attributes) are queued
  and flushed in bulk inside the command's transaction: a commit makes them durable;
* the read models (blocks and the history indexes) are *projected* from the entries' effects
  later, in bulk: at the latest when PROJECTION_LAG_ENTRIES_MAX entries wait, before any read of
  them, and whenever this cache must load blocks from the store. `ledger_meta.projected_seq`
  says how far they go; whoever finds them behind entries it does not hold projects those from
  the journal first (another process's writes, or a process that crashed before projecting).

Other writers' commits are caught up from the journal at the start of each transaction. Any
rollback drops the whole cache (`reset`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from carbonex.ledger.block_index import AccountBlocks
from carbonex.ledger.effects import (
    Effect,
    account_from_effect,
    block_from_effect,
    hold_from_effect,
)
from carbonex.ledger.journal import JournalRow, decode_payload
from carbonex.ledger.limits import (
    CATCH_UP_ENTRIES_MAX,
    PENDING_ENTRIES_FLUSH,
    PROJECTION_LAG_EFFECTS_MAX,
    PROJECTION_LAG_ENTRIES_MAX,
    UNPROJECTED_BLOCKS_LOAD_SCAN_MAX,
    UNPROJECTED_BLOCKS_SCAN_MAX,
)
from carbonex.ledger.model import FINAL_STATES, Account, Block, Hold, UnitAttributes
from carbonex.ledger.ports import (
    DamagedLedgerError,
    Head,
    PendingEntry,
    PendingWrite,
    ProjectedEntry,
    Projection,
    StateLoader,
    head_problems,
)


class LedgerState:
    def __init__(self, loader: StateLoader) -> None:
        self.loader = loader
        self.projection_lag_entries_max = PROJECTION_LAG_ENTRIES_MAX
        self.store_writes = 0
        """How many times this cache has written to the store; never reset, so that a savepoint
        can tell whether anything it must undo reached the store (`mark`)."""
        self.reset()

    def reset(self) -> None:
        """Forget everything cached and pending; the next read reloads from the store."""
        self.accounts: dict[str, Account | None] = {}
        self.account_blocks: dict[str, AccountBlocks] = {}
        self.blocks: dict[int, Block] = {}
        self.attributes: dict[str, UnitAttributes] = {}
        self.holds: dict[str, Hold | None] = {}
        self.last_issued_serial: dict[str, int] = {}
        """Serial space -> its highest issued serial, once loaded; kept current by `apply`."""
        self.projected_last_serial: dict[str, int] = {}
        """The same as of the last projection: no block row of the store lies above it."""
        self.unprojected_blocks: dict[int, Block | None] = {}
        """Block id -> its latest version (None: merged away) since the last projection: what
        the store's block rows do not show yet."""
        self.pending: list[PendingEntry] = []
        self.pending_commands: dict[str, JournalRow] = {}
        """Command id -> journal row, for the rows queued and not yet written to the store."""
        self.written_command_ids: set[str] = set()
        """Command ids this transaction recorded and wrote already: a repeat within one call is
        caught from the store (which holds the row), without keeping every row in memory."""
        self.unprojected: list[ProjectedEntry] = []
        """Entries after `projected_seq`, in order: what the next projection applies."""
        self.unprojected_effects = 0
        self.projected_seq: int | None = None
        """How far the store's read models go, as this cache knows it (None: not known)."""
        self.head_known = False
        self.seq = 0
        self.head_hash = ""
        self.head_recorded_at = ""
        """When the head entry was recorded (ISO 8601, "" before the first): no entry is
        recorded earlier than the one before it."""
        self.next_block_id = 1
        self.next_issuance_id = 1
        self.first_unprojected_block_id: int | None = 1
        self.dirty = False
        """Set when this transaction recorded an entry or wrote to the store: rolling it back
        then means forgetting the cache."""
        # Optimistic idempotency: skip the per-command journal lookup and let the journal's
        # unique command id catch a resubmission at write time; the service then redoes the
        # unit of work with lookups on (see Ledger._unit_of_work).
        self.look_up_command_ids = False

    # -- transactions -------------------------------------------------------------------------

    def begin(self) -> None:
        """Catch up with the committed head (replay other writers' entries, or reload), then make
        sure the store's read models plus this cache's unprojected entries show the head."""
        self.dirty = False
        head = self.loader.load_head()
        if self.head_known and head.seq == self.seq:
            self._check_counters_unchanged(head)
        elif self.head_known and 0 < head.seq - self.seq <= CATCH_UP_ENTRIES_MAX:
            for row in self.loader.journal_rows_after(self.seq, head.seq - self.seq):
                effects = decode_payload(row.payload)["effects"]
                self.apply_all(effects)
                self._hold_unprojected(row.seq, effects)
                self.head_hash = row.entry_hash
                self.head_recorded_at = row.recorded_at
        else:
            self._check_head(head)
            look_up = self.look_up_command_ids
            self.reset()
            self.look_up_command_ids = look_up
            self.head_hash = self.loader.load_entry_hash(head.seq)
            heads = self.loader.journal_rows_after(head.seq - 1, 1) if head.seq else []
            self.head_recorded_at = heads[0].recorded_at if heads else ""
        self.head_known = True
        self.pending_commands = {}
        self.written_command_ids = set()
        self.seq = head.seq
        self.next_block_id = head.next_block_id
        self.next_issuance_id = head.next_issuance_id
        self._reconcile_projection(head)

    def reload(self) -> None:
        """Forget the cache and load it again from the store, inside the open transaction: after
        a rollback to a savepoint the store is the truth (every entry before the savepoint was
        flushed to it; entries queued since are dropped with the rest). The transaction stays
        dirty: rolled back whole, the cache goes too."""
        look_up = self.look_up_command_ids
        self.reset()
        self.look_up_command_ids = look_up
        self.begin()
        self.dirty = True

    def _check_head(self, head: Head) -> None:
        """Before a cache is loaded: counters at or below an id already taken would put a new
        block or issuance over an existing one, sealed in the chain by the next entry."""
        problems = head_problems(head, self.loader.load_id_ends())
        if problems:
            raise DamagedLedgerError(f"the ledger's head is damaged: {'; '.join(problems)}")

    def _check_counters_unchanged(self, head: Head) -> None:
        """No entry since this cache's last: the counters are the ones it committed."""
        cached = (self.next_block_id, self.next_issuance_id)
        if head.counters != cached:
            raise DamagedLedgerError(
                f"the ledger's head is damaged: the journal's last entry ({head.seq}) carries the "
                f"id counters {head.counters}, not {cached} as committed"
            )

    def _reconcile_projection(self, head: Head) -> None:
        if head.projected_seq == head.seq:
            self._projected(head.seq)
            return
        held_from = self.projected_seq
        held_to = self.unprojected[-1][0] if self.unprojected else held_from
        if held_from is None or held_to != head.seq or held_from > head.projected_seq:
            # The read models lag behind entries this cache does not hold (another process's,
            # or one that stopped before projecting them): project those from the journal.
            self.dirty = True
            self.store_writes += 1
            self.loader.project_journal(head.projected_seq, head.seq)
            self._projected(head.seq)
        elif held_from < head.projected_seq:
            # Another process projected part of what this cache holds: keep the rest. Blocks
            # made since this cache's last projection may now be stored, so none is presumed
            # absent (the block overlay stays right: it holds each block's latest version).
            self.unprojected = [
                entry for entry in self.unprojected if entry[0] > head.projected_seq
            ]
            self.unprojected_effects = sum(len(effects) for _, effects in self.unprojected)
            self.projected_seq = head.projected_seq
            self.first_unprojected_block_id = None

    def _projected(self, seq: int) -> None:
        """The store's read models now show every entry up to `seq` (this cache's head)."""
        self.projected_seq = seq
        self.unprojected = []
        self.unprojected_effects = 0
        self.unprojected_blocks = {}
        self.projected_last_serial = dict(self.last_issued_serial)
        self.first_unprojected_block_id = self.next_block_id

    def _hold_unprojected(self, seq: int, effects: list[Effect]) -> None:
        self.unprojected.append((seq, effects))
        self.unprojected_effects += len(effects)

    @property
    def projection_due(self) -> bool:
        """Whether the next commit should bring the read models up to the head."""
        return (
            len(self.unprojected) >= self.projection_lag_entries_max
            or self.unprojected_effects >= PROJECTION_LAG_EFFECTS_MAX
        )

    def flush(self) -> None:
        """Write the queued journal rows (and the tables written with them), not the read
        models: before reading accounts, holds, issuances or attributes from the store."""
        self._write(self.take_pending(project=False))

    def project(self) -> None:
        """Write everything queued and bring the read models up to this cache's head: before
        reading blocks or history from the store."""
        self._write(self.take_pending(project=True))

    def _write(self, pending: PendingWrite | None) -> None:
        if pending is not None:
            self.dirty = True
            self.store_writes += 1
            self.loader.write(pending)

    def mark(self) -> tuple[int, int]:
        """Where this cache stands: its head and its count of store writes. Equal marks mean
        no entry was recorded and nothing was written in between."""
        return self.seq, self.store_writes

    def take_pending(self, project: bool) -> PendingWrite | None:
        """The writes queued since the last flush (with the projection when `project`), handed
        over and forgotten here."""
        projection = None
        if project and self.unprojected:
            projection = Projection(self.unprojected, self.seq, self.first_unprojected_block_id)
            self._projected(self.seq)
        if not self.pending and projection is None:
            return None
        pending = PendingWrite(self.pending, self.next_block_id, self.next_issuance_id, projection)
        self.pending = []
        self.written_command_ids.update(self.pending_commands)
        self.pending_commands = {}
        return pending

    def record(self, row: JournalRow, effects: list[Effect]) -> None:
        self.dirty = True
        self.pending.append(PendingEntry(row, effects))
        self.pending_commands[row.command_id] = row
        self._hold_unprojected(row.seq, effects)
        self.seq = row.seq
        self.head_hash = row.entry_hash
        self.head_recorded_at = row.recorded_at
        if len(self.pending) >= PENDING_ENTRIES_FLUSH:
            # The projection lag holds inside a long unit of work (an import) too, not only at
            # its commit: what waits to be projected is kept in memory.
            self._write(self.take_pending(project=self.projection_due))

    # -- reads ----------------------------------------------------------------------------------

    def account(self, account_id: str) -> Account | None:
        if not isinstance(account_id, str) or "\x00" in account_id:
            return None  # never stored (ids are checked on opening); PostgreSQL refuses NUL
        if account_id not in self.accounts:
            self.flush()
            self.accounts[account_id] = self.loader.load_account(account_id)
        return self.accounts[account_id]

    def active_blocks(self, account_id: str) -> AccountBlocks:
        """Blocks of the account that are not in a final state, in serial order."""
        blocks = self.account_blocks.get(account_id)
        if blocks is None:
            loaded = self._load_active_blocks(account_id)
            blocks = AccountBlocks(loaded)
            self.account_blocks[account_id] = blocks
            for block in loaded:
                self.blocks[block.block_id] = block
        return blocks

    def _load_active_blocks(self, account_id: str) -> list[Block]:
        """The store's rows corrected by the blocks changed since the last projection: entries
        caught up from other writers may have moved blocks into or out of an account this cache
        had not loaded."""
        if len(self.unprojected_blocks) > UNPROJECTED_BLOCKS_LOAD_SCAN_MAX:
            self.project()
        changed = self.unprojected_blocks
        stored = self.loader.load_active_blocks(account_id)
        if not changed:
            return stored
        loaded = [block for block in stored if block.block_id not in changed]
        loaded += [
            block
            for block in changed.values()
            if block is not None
            and block.account_id == account_id
            and block.state not in FINAL_STATES
        ]
        return loaded

    def blocks_overlapping(self, space: str, first: int, last: int, limit: int) -> list[Block]:
        """Blocks holding any of `first`..`last`, in serial order: the store's rows, corrected by
        the blocks changed since the last projection (projecting only when those grow many, so
        that commands naming serials do not each cost a write). At most `limit` are loaded from
        the store past the changed ones, so a longer answer says there are more than `limit`."""
        if len(self.unprojected_blocks) > UNPROJECTED_BLOCKS_SCAN_MAX:
            self.project()
        changed = self.unprojected_blocks
        stored_last = self.projected_last_serial.get(space)
        if stored_last is not None and first > stored_last:
            found = []  # above every stored serial: only unprojected blocks can hold these
        else:
            found = self.loader.load_blocks_overlapping(space, first, last, limit + len(changed))
        blocks = [
            self.blocks.get(block.block_id, block)
            for block in found
            if block.block_id not in changed
        ]
        if not changed:
            return blocks
        for block in changed.values():
            if (
                block is not None
                and block.serial_space == space
                and block.first_serial <= last
                and block.last_serial >= first
            ):
                blocks.append(block)
        blocks.sort(key=lambda block: block.first_serial)
        return blocks

    def unit_attributes(self, attributes_id: str) -> UnitAttributes:
        attributes = self.attributes.get(attributes_id)
        if attributes is None:
            # No flush first: attributes written in this process are applied to the cache when
            # emitted, so a pending row is never what this lookup is missing.
            attributes = self.loader.load_attributes(attributes_id)
            if attributes is None:
                raise LookupError(f"attributes {attributes_id} are referenced but not stored")
            self.attributes[attributes_id] = attributes
        return attributes

    def attributes_known(self, attributes_id: str) -> bool:
        if attributes_id in self.attributes:
            return True
        attributes = self.loader.load_attributes(attributes_id)  # no flush: see above
        if attributes is not None:
            self.attributes[attributes_id] = attributes
        return attributes is not None

    def hold(self, hold_id: str) -> Hold | None:
        if not isinstance(hold_id, str) or "\x00" in hold_id:
            return None  # never stored: hold ids are checked texts
        if hold_id not in self.holds:
            self.flush()
            self.holds[hold_id] = self.loader.load_hold(hold_id)
        return self.holds[hold_id]

    def held_blocks(self, hold: Hold) -> list[Block]:
        return [b for b in self.active_blocks(hold.account_id) if b.hold_id == hold.hold_id]

    def overlapping_issuance(self, space: str, first: int, last: int) -> int | None:
        if first > self.max_issued_serial(space):
            return None  # past every issued serial: nothing to overlap, no query needed
        self.flush()
        return self.loader.find_overlapping_issuance(space, first, last)

    def max_issued_serial(self, space: str) -> int:
        known_last = self.last_issued_serial.get(space)
        if known_last is None:
            self.flush()
            known_last = self.last_issued_serial[space] = self.loader.max_issued_serial(space)
            # Issuances are written with their command, blocks projected later: the stored blocks
            # lie at or below this, which is all a lookup needs to know.
            self.projected_last_serial[space] = known_last
        return known_last

    def committed_journal_row(self, command_id: str) -> JournalRow | None:
        """The journal row of a command id, looked up whatever the optimistic setting."""
        row = self.pending_commands.get(command_id)
        return row if row is not None else self.loader.find_journal_row(command_id)

    def journal_row(self, command_id: str) -> JournalRow | None:
        """The journal row of a command id: from the queue, else from the store when this
        transaction wrote it or when looking up (see `look_up_command_ids`)."""
        row = self.pending_commands.get(command_id)
        if row is not None:
            return row
        if self.look_up_command_ids or command_id in self.written_command_ids:
            return self.loader.find_journal_row(command_id)
        return None

    # -- writes ---------------------------------------------------------------------------------

    def take_block_id(self) -> int:
        block_id = self.next_block_id
        self.next_block_id += 1
        return block_id

    def take_issuance_id(self) -> int:
        issuance_id = self.next_issuance_id
        self.next_issuance_id += 1
        return issuance_id

    def apply_all(self, effects: Iterable[Sequence[Any]]) -> None:
        for effect in effects:
            self.apply(effect)

    def apply(self, effect: Sequence[Any]) -> None:
        """Bring the cache in line with one effect (pending writes are queued by `record`)."""
        tag = effect[0]
        if tag == "block":
            self.put_block(block_from_effect(effect))
        elif tag == "unblock":
            self._drop_block(effect[1])
            self.unprojected_blocks[effect[1]] = None
        elif tag == "account":
            self.accounts[effect[1]] = account_from_effect(effect)
        elif tag == "hold":
            self.holds[effect[1]] = hold_from_effect(effect)
        elif tag == "attributes":
            self.attributes[effect[1]] = UnitAttributes.from_record(effect[2])
        elif tag == "issuance":
            space, last = effect[2], effect[4]
            if space in self.last_issued_serial and last > self.last_issued_serial[space]:
                self.last_issued_serial[space] = last

    def put_block(self, block: Block) -> Effect:
        """Write a block into the cache and return its effect."""
        block_id = block.block_id
        self.unprojected_blocks[block_id] = block
        blocks = self.blocks
        old = blocks.get(block_id)
        final = block.state in FINAL_STATES
        if old is not None:
            if (
                old.account_id == block.account_id
                and old.serial_space == block.serial_space
                and not final
            ):
                self.account_blocks[old.account_id].replace(old, block)
                blocks[block_id] = block
                return ("block", *block)
            del blocks[block_id]
            self.account_blocks[old.account_id].remove(old)
        if not final:
            index = self.account_blocks.get(block.account_id)
            if index is not None:
                index.add(block)
                blocks[block_id] = block
        return ("block", *block)

    def _drop_block(self, block_id: int) -> None:
        old = self.blocks.pop(block_id, None)
        if old is not None:
            self.account_blocks[old.account_id].remove(old)
