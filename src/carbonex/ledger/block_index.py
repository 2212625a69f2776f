"""Per-account index of the blocks that are not final, in serial order within each serial space.

Two parallel lists per serial space (first serials, blocks) searched with bisect. A block whose
range shrinks but keeps its place among its neighbours (the usual partial transfer) is replaced
in place, without a remove and an insert. Inserts shift the list: cheap up to hundreds of
thousands of blocks per account and space, which is far beyond what one holder keeps active.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterator

from carbonex.ledger.model import Block


class SpaceBlocks:
    __slots__ = ("blocks", "firsts")

    def __init__(self) -> None:
        self.firsts: list[int] = []
        self.blocks: list[Block] = []

    def position(self, block: Block) -> int:
        position = bisect_left(self.firsts, block.first_serial)
        if position == len(self.blocks) or self.blocks[position].block_id != block.block_id:
            raise LookupError(f"block {block.block_id} is not in the index where expected")
        return position


class AccountBlocks:
    """The non-final blocks of one account."""

    __slots__ = ("spaces",)

    def __init__(self, blocks: list[Block] | None = None) -> None:
        self.spaces: dict[str, SpaceBlocks] = {}
        for block in sorted(blocks or (), key=lambda b: (b.serial_space, b.first_serial)):
            space = self._space(block.serial_space)
            space.firsts.append(block.first_serial)
            space.blocks.append(block)

    def _space(self, serial_space: str) -> SpaceBlocks:
        space = self.spaces.get(serial_space)
        if space is None:
            space = self.spaces[serial_space] = SpaceBlocks()
        return space

    def add(self, block: Block) -> None:
        space = self._space(block.serial_space)
        position = bisect_left(space.firsts, block.first_serial)
        space.firsts.insert(position, block.first_serial)
        space.blocks.insert(position, block)

    def remove(self, block: Block) -> None:
        space = self.spaces[block.serial_space]
        position = space.position(block)
        del space.firsts[position]
        del space.blocks[position]

    def replace(self, old: Block, new: Block) -> None:
        """Swap `old` for `new` (same account and space), in place when the order allows."""
        space = self.spaces[old.serial_space]
        position = space.position(old)
        first = new.first_serial
        firsts = space.firsts
        if (position == 0 or firsts[position - 1] < first) and (
            position + 1 == len(firsts) or firsts[position + 1] > first
        ):
            firsts[position] = first
            space.blocks[position] = new
            return
        del firsts[position]
        del space.blocks[position]
        self.add(new)

    def containing(self, serial_space: str, serial: int) -> Block | None:
        space = self.spaces.get(serial_space)
        if space is None:
            return None
        position = bisect_right(space.firsts, serial) - 1
        if position < 0 or space.blocks[position].last_serial < serial:
            return None
        return space.blocks[position]

    def in_space(self, serial_space: str) -> list[Block]:
        space = self.spaces.get(serial_space)
        return space.blocks if space is not None else []

    def neighbours(self, block: Block) -> tuple[Block | None, Block | None]:
        space = self.spaces[block.serial_space]
        position = space.position(block)
        lower = space.blocks[position - 1] if position > 0 else None
        upper = space.blocks[position + 1] if position + 1 < len(space.blocks) else None
        return lower, upper

    def __iter__(self) -> Iterator[Block]:
        for serial_space in sorted(self.spaces):
            yield from self.spaces[serial_space].blocks

    def __len__(self) -> int:
        return sum(len(space.blocks) for space in self.spaces.values())
