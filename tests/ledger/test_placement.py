"""Split arithmetic (`placement.place`): any portion of a block splits it into pieces that tile the
original range exactly, the portion alone taking its new account, state and hold."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from carbonex.catalog import default_catalog
from carbonex.ledger.block_index import AccountBlocks
from carbonex.ledger.context import Context
from carbonex.ledger.model import Block
from carbonex.ledger.placement import Portion, place
from carbonex.ledger.state import LedgerState
from tests.ledger.support import hypothesis_settings

SPACE = "VERRA/VCU"
# (account, state, hold) a portion may go to; A is the account it comes from.
DESTINATIONS = [
    ("B", "active", None),
    ("A", "retired", None),
    ("B", "retired", None),
    ("A", "active", "hold-1"),
    ("A", "active", None),
    ("A", "converted", None),
]


class NoStore:
    """A loader for a state that must never reach the store: placement is pure arithmetic."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"placement touched the store ({name})")


def state_with(blocks: Sequence[Block], accounts: Sequence[str] = ("A", "B")) -> LedgerState:
    state = LedgerState(NoStore())
    for account in accounts:
        owned = [b for b in blocks if b.account_id == account]
        state.account_blocks[account] = AccountBlocks(owned)
        for block in owned:
            state.blocks[block.block_id] = block
    state.next_block_id = max((b.block_id for b in blocks), default=0) + 1
    return state


def after(blocks: Sequence[Block], effects: Sequence[tuple[Any, ...]]) -> list[Block]:
    """The blocks once the effects are applied, in serial order."""
    current = {b.block_id: b for b in blocks}
    for effect in effects:
        if effect[0] == "block":
            current[effect[1]] = Block(*effect[1:])
        elif effect[0] == "unblock":
            del current[effect[1]]
    return sorted(current.values(), key=lambda b: b.first_serial)


def run_place(
    blocks: Sequence[Block], portions: list[Portion], destination: tuple[str, str, str | None]
) -> list[tuple[Any, ...]]:
    context = Context(state_with(blocks), default_catalog(), dt.date(2026, 3, 1))
    account, state, hold = destination
    place(context, portions, "test", account, state, hold)
    return context.effects


def assert_tiles(pieces: list[Block], first: int, last: int) -> None:
    assert pieces[0].first_serial == first
    assert pieces[-1].last_serial == last
    for lower, upper in itertools.pairwise(pieces):
        assert upper.first_serial == lower.last_serial + 1, pieces
    assert all(p.first_serial <= p.last_serial for p in pieces)
    assert len({p.block_id for p in pieces}) == len(pieces)


@st.composite
def block_and_portion(draw: st.DrawFn) -> tuple[Block, int, int]:
    first = draw(st.integers(1, 10**12))
    last = first + draw(st.one_of(st.integers(0, 50), st.integers(0, 10**12)))
    low = draw(st.integers(first, last))
    high = draw(st.integers(low, last))
    block = Block(7, 3, SPACE, first, last, "A", "active", "attributes", None)
    return block, low, high


@hypothesis_settings("pure")
@given(block_and_portion(), st.sampled_from(DESTINATIONS))
def test_any_portion_splits_its_block_into_pieces_that_tile_it_exactly(
    case: tuple[Block, int, int], destination: tuple[str, str, str | None]
) -> None:
    block, low, high = case
    effects = run_place([block], [(block, low, high)], destination)
    pieces = after([block], effects)
    assert_tiles(pieces, block.first_serial, block.last_serial)
    moved = [p for p in pieces if (p.account_id, p.state, p.hold_id) == destination]
    stayed = [p for p in pieces if p not in moved]
    if destination == ("A", "active", None):
        # Nothing changed: the pieces merge back into one block.
        assert [(p.first_serial, p.last_serial) for p in pieces] == [
            (block.first_serial, block.last_serial)
        ]
        return
    assert [(p.first_serial, p.last_serial) for p in moved] == [(low, high)]
    assert all((p.account_id, p.state, p.hold_id) == ("A", "active", None) for p in stayed)
    assert len(pieces) == 1 + (low > block.first_serial) + (high < block.last_serial)
    assert block.block_id in {p.block_id for p in pieces}
    assert all(p.issuance_id == block.issuance_id for p in pieces)
    assert all(p.attributes_id == block.attributes_id for p in pieces)
    assert [e[1:] for e in effects if e[0] == "move"] == [
        ("test", SPACE, low, high, "A", destination[0])
    ]


@st.composite
def blocks_and_portions(draw: st.DrawFn) -> tuple[list[Block], list[Portion]]:
    """Blocks of account A in serial order (neighbours of one issuance are never adjacent, as
    the ledger merges them), and a portion of some of them."""
    blocks: list[Block] = []
    serial = draw(st.integers(1, 1_000))
    for block_id in range(1, draw(st.integers(1, 6)) + 1):
        last = serial + draw(st.integers(0, 20))
        issuance = draw(st.integers(1, 3))
        previous = blocks[-1] if blocks else None
        if previous and previous.last_serial + 1 == serial and previous.issuance_id == issuance:
            issuance = previous.issuance_id + 1  # the ledger never leaves mergeable neighbours
        blocks.append(Block(block_id, issuance, SPACE, serial, last, "A", "active", "x", None))
        serial = last + 1 + draw(st.integers(0, 3))
    portions: list[Portion] = []
    for block in blocks:
        if draw(st.booleans()):
            low = draw(st.integers(block.first_serial, block.last_serial))
            portions.append((block, low, draw(st.integers(low, block.last_serial))))
    return blocks, portions


@hypothesis_settings("pure")
@given(blocks_and_portions(), st.sampled_from(DESTINATIONS))
def test_portions_of_several_blocks_move_exactly_their_serials(
    case: tuple[list[Block], list[Portion]], destination: tuple[str, str, str | None]
) -> None:
    blocks, portions = case
    effects = run_place(blocks, portions, destination)
    pieces = after(blocks, effects)
    moved_serials = {s for _, low, high in portions for s in range(low, high + 1)}

    def owner(serial: int, among: list[Block]) -> tuple[Any, ...]:
        [piece] = [p for p in among if p.first_serial <= serial <= p.last_serial]
        return (piece.account_id, piece.state, piece.hold_id, piece.issuance_id)

    for block in blocks:
        for serial in range(block.first_serial, block.last_serial + 1):
            expected = (
                (*destination, block.issuance_id)
                if serial in moved_serials
                else ("A", "active", None, block.issuance_id)
            )
            assert owner(serial, pieces) == expected
    total = sum(b.quantity for b in blocks)
    assert sum(p.quantity for p in pieces) == total
    for lower, upper in itertools.pairwise(pieces):
        assert lower.last_serial < upper.first_serial


def test_a_portion_arriving_between_two_blocks_of_its_issuance_merges_all_three() -> None:
    lower = Block(1, 1, SPACE, 1, 10, "B", "active", "x", None)
    middle = Block(2, 1, SPACE, 11, 20, "A", "active", "x", None)
    upper = Block(3, 1, SPACE, 21, 30, "B", "active", "x", None)
    effects = run_place([lower, middle, upper], [(middle, 11, 20)], ("B", "active", None))
    pieces = after([lower, middle, upper], effects)
    assert [(p.block_id, p.first_serial, p.last_serial, p.account_id) for p in pieces] == [
        (1, 1, 30, "B")
    ]


def test_held_and_final_pieces_never_merge() -> None:
    lower = Block(1, 1, SPACE, 1, 10, "A", "retired", "x", None)
    middle = Block(2, 1, SPACE, 11, 20, "A", "active", "x", None)
    effects = run_place([lower, middle], [(middle, 11, 15)], ("A", "retired", None))
    pieces = after([lower, middle], effects)
    assert [(p.first_serial, p.last_serial, p.state) for p in pieces] == [
        (1, 10, "retired"),
        (11, 15, "retired"),
        (16, 20, "active"),
    ]
    effects = run_place([middle], [(middle, 11, 15)], ("A", "active", "h"))
    pieces = after([middle], effects)
    assert [(p.first_serial, p.last_serial, p.hold_id) for p in pieces] == [
        (11, 15, "h"),
        (16, 20, None),
    ]
