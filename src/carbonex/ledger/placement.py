"""Moving portions of blocks: exact split and merge arithmetic on serial ranges.

A portion is (block, first_serial, last_serial) inside that block. Placing it somewhere splits the
block into at most three pieces: the part below and the part above stay where they were, the
portion goes to its new account, state or hold. The original block id stays on a piece that did
not move, so a whole-block move rewrites one row and a partial move writes two (or three).
Active, unheld blocks that arrive next to a block of the same issuance merge with it.
"""

from __future__ import annotations

from carbonex.ledger.context import Context
from carbonex.ledger.model import Block, BlockState

Portion = tuple[Block, int, int]
ACTIVE = BlockState.ACTIVE.value


def place(
    context: Context,
    portions: list[Portion],
    action: str,
    to_account: str,
    to_state: str,
    to_hold: str | None,
) -> None:
    """Move each portion to (to_account, to_state, to_hold), emitting block and move effects."""
    state = context.state
    effects = context.effects
    put = state.put_block
    merging = to_state == ACTIVE and to_hold is None
    for picked, first, last in portions:
        block = current_block(context, picked, first, last)
        remainder_id = block.block_id
        if first > block.first_serial:
            effects.append(put(block.with_range(block.first_serial, first - 1, remainder_id)))
            remainder_id = state.take_block_id()
        if last < block.last_serial:
            effects.append(put(block.with_range(last + 1, block.last_serial, remainder_id)))
            remainder_id = state.take_block_id()
        moved = Block(
            remainder_id,
            block.issuance_id,
            block.serial_space,
            first,
            last,
            to_account,
            to_state,
            block.attributes_id,
            to_hold,
        )
        effects.append(put(moved))
        if merging:
            merge_neighbours(context, moved)
        effects.append(
            ("move", action, block.serial_space, first, last, block.account_id, to_account)
        )


def current_block(context: Context, picked: Block, first: int, last: int) -> Block:
    """The block that holds [first, last] now: an earlier portion of the same command may have
    split the block this portion was picked from."""
    current = context.state.blocks.get(picked.block_id, picked)
    if current.first_serial <= first and last <= current.last_serial:
        return current
    index = context.state.account_blocks.get(picked.account_id)
    found = index.containing(picked.serial_space, first) if index is not None else None
    if found is None or last > found.last_serial:
        raise LookupError(f"serials {first}-{last} of block {picked.block_id} are not in one block")
    return found


def _mergeable(lower: Block, upper: Block) -> bool:
    return (
        lower.last_serial + 1 == upper.first_serial
        and lower.issuance_id == upper.issuance_id
        and lower.serial_space == upper.serial_space
        and lower.attributes_id == upper.attributes_id
        and lower.account_id == upper.account_id
        and lower.state == ACTIVE
        and upper.state == ACTIVE
        and lower.hold_id is None
        and upper.hold_id is None
    )


def merge_neighbours(context: Context, block: Block) -> None:
    """Merge an active, unheld block with adjacent blocks of its issuance in its account."""
    index = context.state.account_blocks.get(block.account_id)
    if index is None:
        return
    lower, upper = index.neighbours(block)
    if lower is not None and _mergeable(lower, block):
        context.emit(("unblock", block.block_id))
        block = lower.with_range(lower.first_serial, block.last_serial, lower.block_id)
        context.emit_block(block)
    if upper is not None and _mergeable(block, upper):
        context.emit(("unblock", upper.block_id))
        context.emit_block(block.with_range(block.first_serial, upper.last_serial, block.block_id))
