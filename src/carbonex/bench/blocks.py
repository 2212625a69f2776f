"""Growing a ledger to many blocks quickly: transfers naming many explicit serial ranges.

Each source account starts with one large issuance. A transfer names one serial in the middle of
each of up to `RANGES_PER_COMMAND` of the source's blocks and moves it to the source's target
account: every such range splits one block in three, so it adds two blocks. Splitting the pieces
breadth-first keeps them balanced; the number of pieces doubles until a command is full.

A command names at most one range per existing block (it takes at most as many pieces as
existed when it was built), so the pieces tracked here match the ledger's blocks one to one and
the build does not depend on how the ledger splits one block several times in one command.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass

from carbonex.bench.common import Bar, Deadline
from carbonex.bench.workload import (
    ACCOUNT_KIND,
    UNIT_TYPE,
    BenchError,
    attributes_for,
    submit_all_accepted,
)
from carbonex.ledger import (
    Accepted,
    Command,
    Issue,
    Ledger,
    OpenAccount,
    Refused,
    Selection,
    SerialRange,
    Transfer,
)

BLOCKS_PER_SOURCE_MAX = 20_000
"""Blocks one source and its target end with: keeps each account's block index moderate."""
RANGES_PER_COMMAND = 1_000
RANGES_PER_COMMIT = 10_000
SOURCE_ISSUANCE_T = 10**9
PIECE_SIZE_MIN_T = 3
"""A piece is split around its middle serial, leaving at least one serial either side."""
BLOCKS_PER_RANGE = 2


class SourceSplitter:
    """One source account's blocks, as the transfers this class builds will leave them."""

    def __init__(self, number: int, first_serial: int, last_serial: int) -> None:
        self.source_id = f"BLKSRC{number:05d}"
        self.target_id = f"BLKDST{number:05d}"
        self.pieces: deque[tuple[int, int]] = deque([(first_serial, last_serial)])
        self.blocks_made = 0

    def next_ranges(self, count: int) -> tuple[SerialRange, ...]:
        """The middle serial of up to `count` distinct existing pieces; splits them."""
        ranges = []
        for _ in range(min(count, len(self.pieces))):
            first, last = self.pieces[0]
            if last - first + 1 < PIECE_SIZE_MIN_T:
                break
            self.pieces.popleft()
            middle = (first + last) // 2
            ranges.append(SerialRange(middle, middle))
            self.pieces.extend(((first, middle - 1), (middle + 1, last)))
        self.blocks_made += BLOCKS_PER_RANGE * len(ranges)
        return tuple(ranges)


@dataclass(slots=True)
class BlockBuild:
    blocks_added: int = 0
    commands: int = 0
    seconds: float = 0.0


def _setup_sources(ledger: Ledger, sources: int) -> list[SourceSplitter]:
    commands: list[Command] = []
    for number in range(sources):
        commands += [
            OpenAccount(
                f"blk-open-src-{number}",
                f"BLKSRC{number:05d}",
                ACCOUNT_KIND,
                f"Block source {number}",
            ),
            OpenAccount(
                f"blk-open-dst-{number}",
                f"BLKDST{number:05d}",
                ACCOUNT_KIND,
                f"Block target {number}",
            ),
            Issue(
                f"blk-issue-{number}",
                f"BLKSRC{number:05d}",
                SOURCE_ISSUANCE_T,
                attributes_for(number),
            ),
        ]
    outcomes = submit_all_accepted(ledger, commands)
    splitters = []
    for number, outcome in enumerate(outcomes[2::3]):
        assert isinstance(outcome, Accepted)
        issuance = next(effect for effect in outcome.effects if effect[0] == "issuance")
        splitters.append(SourceSplitter(number, issuance[3], issuance[4]))
    return splitters


def block_count(ledger: Ledger) -> int:
    row = ledger.read(lambda store: store.query_one("SELECT COUNT(*) FROM blocks"))
    return int(row[0]) if row else 0


def _next_commit(splitters: list[SourceSplitter], ranges_wanted: int, number: int) -> list[Command]:
    """Transfers for one commit, round robin over the sources that still have room."""
    commands: list[Command] = []
    budget = min(ranges_wanted, RANGES_PER_COMMIT)
    for splitter in splitters:
        room = (BLOCKS_PER_SOURCE_MAX - splitter.blocks_made) // BLOCKS_PER_RANGE
        ranges = splitter.next_ranges(min(RANGES_PER_COMMAND, budget, room))
        if not ranges:
            continue
        commands.append(
            Transfer(
                f"blk-{number}-{len(commands)}",
                splitter.source_id,
                splitter.target_id,
                Selection(UNIT_TYPE, serial_ranges=ranges),
            )
        )
        budget -= len(ranges)
        if budget <= 0:
            break
    return commands


def grow_to_blocks(ledger: Ledger, target_blocks: int, deadline: Deadline, bar: Bar) -> BlockBuild:
    """Add blocks until the ledger holds `target_blocks` (or the deadline passes)."""
    build = BlockBuild()
    started = time.perf_counter()
    missing = target_blocks - block_count(ledger)
    sources = max(1, -(-missing // BLOCKS_PER_SOURCE_MAX))
    splitters = _setup_sources(ledger, sources)
    missing = target_blocks - block_count(ledger)
    bar.update(target_blocks - missing)
    while missing > 0 and not deadline.expired:
        commands = _next_commit(splitters, -(-missing // BLOCKS_PER_RANGE), build.commands)
        if not commands:
            raise BenchError("block sources ran out of room before the target block count")
        outcomes = ledger.submit_many(commands)
        refused = [outcome for outcome in outcomes if isinstance(outcome, Refused)]
        if refused:
            raise BenchError(f"a block-splitting transfer was refused: {refused[0]}")
        added = (
            sum(len(c.selection.serial_ranges) for c in commands if isinstance(c, Transfer))
            * BLOCKS_PER_RANGE
        )
        build.commands += len(commands)
        build.blocks_added += added
        missing -= added
        bar.advance(added)
    build.seconds = time.perf_counter() - started
    return build
