"""`AccountBlocks` behaves like a sorted list of blocks per serial space (a Hypothesis model)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from carbonex.ledger.block_index import AccountBlocks
from carbonex.ledger.model import Block
from tests.ledger.support import hypothesis_settings

SPACES = ("VERRA/VCU", "CDM/CER")
SERIAL_TOP = 300


def make_block(block_id: int, space: str, first: int, last: int) -> Block:
    return Block(block_id, 1, space, first, last, "A", "active", "attributes", None)


def overlaps(blocks: list[Block], first: int, last: int) -> bool:
    return any(b.first_serial <= last and first <= b.last_serial for b in blocks)


class AccountBlocksMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.index = AccountBlocks()
        self.model: dict[str, list[Block]] = {space: [] for space in SPACES}
        self.ids = itertools.count(1)

    def _sort(self, space: str) -> None:
        self.model[space].sort(key=lambda b: b.first_serial)

    def _all(self) -> list[Block]:
        return [b for space in SPACES for b in self.model[space]]

    @rule(
        space=st.sampled_from(SPACES),
        first=st.integers(1, SERIAL_TOP),
        length=st.integers(1, 20),
    )
    def add(self, space: str, first: int, length: int) -> None:
        last = first + length - 1
        if overlaps(self.model[space], first, last):
            return  # a no-op step, not a filtered one: filtering starves the health check
        block = make_block(next(self.ids), space, first, last)
        self.index.add(block)
        self.model[space].append(block)
        self._sort(space)

    @precondition(lambda self: any(self.model.values()))
    @rule(data=st.data())
    def remove(self, data: st.DataObject) -> None:
        block = data.draw(st.sampled_from(self._all()))
        self.index.remove(block)
        self.model[block.serial_space].remove(block)

    @precondition(lambda self: any(self.model.values()))
    @rule(data=st.data())
    def shrink(self, data: st.DataObject) -> None:
        """The usual split: a block keeps its place but loses serials at one end or both."""
        old = data.draw(st.sampled_from(self._all()))
        first = data.draw(st.integers(old.first_serial, old.last_serial))
        last = data.draw(st.integers(first, old.last_serial))
        new = old.with_range(first, last, old.block_id)
        self.index.replace(old, new)
        blocks = self.model[old.serial_space]
        blocks[blocks.index(old)] = new
        self._sort(old.serial_space)

    @precondition(lambda self: any(self.model.values()))
    @rule(data=st.data(), first=st.integers(1, SERIAL_TOP), length=st.integers(1, 30))
    def move(self, data: st.DataObject, first: int, length: int) -> None:
        """A block replaced by one anywhere else in its space (a merge that grows it, or a
        range that jumps past its neighbours)."""
        old = data.draw(st.sampled_from(self._all()))
        last = first + length - 1
        others = [b for b in self.model[old.serial_space] if b is not old]
        if overlaps(others, first, last):
            return
        new = old.with_range(first, last, old.block_id)
        self.index.replace(old, new)
        blocks = self.model[old.serial_space]
        blocks[blocks.index(old)] = new
        self._sort(old.serial_space)

    @invariant()
    def matches_the_sorted_model(self) -> None:
        for space in SPACES:
            assert self.index.in_space(space) == self.model[space]
            assert [b.first_serial for b in self.index.in_space(space)] == sorted(
                b.first_serial for b in self.model[space]
            )
        assert list(self.index) == [b for space in sorted(SPACES) for b in self.model[space]]
        assert len(self.index) == sum(len(blocks) for blocks in self.model.values())
        assert self.index.in_space("NO/SUCH") == []

    @invariant()
    def neighbours_are_the_adjacent_blocks(self) -> None:
        for blocks in self.model.values():
            for position, block in enumerate(blocks):
                lower = blocks[position - 1] if position > 0 else None
                upper = blocks[position + 1] if position + 1 < len(blocks) else None
                assert self.index.neighbours(block) == (lower, upper)


TestAccountBlocksAgainstASortedList = AccountBlocksMachine.TestCase
TestAccountBlocksAgainstASortedList.settings = hypothesis_settings("pure-stateful")


@st.composite
def disjoint_blocks(draw: st.DrawFn) -> list[Block]:
    blocks: list[Block] = []
    for block_id in range(1, draw(st.integers(0, 25)) + 1):
        space = draw(st.sampled_from(SPACES))
        first = draw(st.integers(1, SERIAL_TOP))
        last = first + draw(st.integers(0, 10))
        same_space = [b for b in blocks if b.serial_space == space]
        if not overlaps(same_space, first, last):
            blocks.append(make_block(block_id, space, first, last))
    return draw(st.permutations(blocks))


@hypothesis_settings("pure")
@given(disjoint_blocks())
def test_an_index_built_from_blocks_in_any_order_lists_them_in_serial_order(
    blocks: list[Block],
) -> None:
    index = AccountBlocks(blocks)
    assert list(index) == sorted(blocks, key=lambda b: (b.serial_space, b.first_serial))
    assert len(index) == len(blocks)


def test_removing_a_block_the_index_does_not_hold_fails_loudly() -> None:
    index = AccountBlocks([make_block(1, "S", 1, 10)])
    stranger = make_block(2, "S", 1, 10)
    try:
        index.remove(stranger)
    except LookupError:
        return
    raise AssertionError("a block with another id at the same place was removed")
