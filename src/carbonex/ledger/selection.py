"""Choosing the units a command acts on: by quantity (lowest serials first) or by serial ranges."""

from __future__ import annotations

from enum import Enum

from carbonex.ledger.checks import is_whole_number
from carbonex.ledger.commands import Selection
from carbonex.ledger.context import Context
from carbonex.ledger.failures import FINAL_STATE_CODES, Code, Failure, unknown
from carbonex.ledger.limits import (
    BLOCKS_PER_COMMAND_MAX,
    FAILURES_NAMED_MAX,
    QUANTITY_MAX,
    SERIAL_MAX,
    SERIAL_RANGES_PER_COMMAND_MAX,
    VINTAGE_YEAR_MAX,
    VINTAGE_YEAR_MIN,
)
from carbonex.ledger.model import FINAL_STATES, Block, UnitAttributes, serial_space_of
from carbonex.ledger.placement import Portion
from carbonex.text import shortened


class Validity(Enum):
    """Which units a selection may take with respect to their validity period."""

    UNEXPIRED = "unexpired"  # moving, retiring, holding: units past validity are refused
    EXPIRED = "expired"  # the expire command: only units past validity


def check_selection(context: Context, selection: Selection) -> tuple[str | None, list[Failure]]:
    """Shape checks; returns the serial space when the selection is well formed."""
    failures: list[Failure] = []
    code = selection.unit_type
    # Python callers may pass any value: only a text can name a unit type or registry.
    unit_type = context.catalog.unit_types.get(code) if isinstance(code, str) else None
    if unit_type is None:
        failures.append(unknown(Code.E_UNKNOWN_UNIT_TYPE, "unit type", code))
    registry = selection.registry or (unit_type.registry if unit_type else "")
    if selection.registry is not None and (
        not isinstance(selection.registry, str) or registry not in context.catalog.registries
    ):
        failures.append(unknown(Code.E_UNKNOWN_REGISTRY, "registry", selection.registry))
    failures.extend(_check_amount(selection))
    if failures:
        return None, failures
    return serial_space_of(registry, selection.unit_type), []


def _check_amount(selection: Selection) -> list[Failure]:
    year = selection.vintage_year
    if year is not None and not (
        is_whole_number(year) and VINTAGE_YEAR_MIN <= year <= VINTAGE_YEAR_MAX
    ):
        return [
            Failure(
                Code.E_INVALID_COMMAND,
                f"vintage year must be {VINTAGE_YEAR_MIN}-{VINTAGE_YEAR_MAX}, "
                f"got {shortened(repr(year))}",
            )
        ]
    has_quantity = selection.quantity is not None
    if has_quantity == bool(selection.serial_ranges):
        return [
            Failure(
                Code.E_INVALID_COMMAND,
                "a selection names a quantity or serial ranges, exactly one of them",
            )
        ]
    if has_quantity:
        return check_quantity(selection.quantity)
    if selection.has_filters:
        return [
            Failure(
                Code.E_INVALID_COMMAND, "filters apply to a quantity, not to explicit serial ranges"
            )
        ]
    return check_ranges(selection)


def check_quantity(quantity: object) -> list[Failure]:
    if not is_whole_number(quantity) or quantity <= 0:
        return [
            Failure(
                Code.E_QUANTITY_NOT_POSITIVE_INTEGER,
                f"quantity must be a positive integer, got {quantity!r}",
            )
        ]
    if quantity > QUANTITY_MAX:
        return [Failure(Code.E_QUANTITY_TOO_LARGE, f"quantity {quantity} exceeds {QUANTITY_MAX}")]
    return []


def check_ranges(selection: Selection) -> list[Failure]:
    pairs = [(r.first_serial, r.last_serial) for r in selection.serial_ranges]
    if len(pairs) > SERIAL_RANGES_PER_COMMAND_MAX:
        return [
            Failure(
                Code.E_INVALID_SERIAL_RANGE,
                f"{len(pairs)} serial ranges exceed {SERIAL_RANGES_PER_COMMAND_MAX}",
            )
        ]
    for pair in pairs:
        if not all(is_whole_number(serial) for serial in pair):
            # 1.5-3.5 would move fractions of a unit, NaN-NaN nothing; "1" cannot be compared.
            shown = shortened(f"{pair[0]!r}-{pair[1]!r}")
            return [
                Failure(
                    Code.E_INVALID_SERIAL_RANGE,
                    f"serial range {shown} is not a pair of integers",
                    (shown,),
                )
            ]
    ranges = sorted(pairs)
    previous_last = 0
    for first, last in ranges:
        if first < 1 or last < first or last > SERIAL_MAX or first <= previous_last:
            return [
                Failure(
                    Code.E_INVALID_SERIAL_RANGE,
                    f"serial range {first}-{last} is empty, out of bounds or overlaps "
                    f"another range of the command",
                    (f"{first}-{last}",),
                )
            ]
        previous_last = last
    return []


def _matches(attributes: UnitAttributes, selection: Selection) -> bool:
    if selection.project_id is not None and attributes.project_id != selection.project_id:
        return False
    if selection.label is not None and selection.label not in attributes.labels:
        return False
    return selection.vintage_year is None or attributes.covers_year(selection.vintage_year)


def validity_ok(context: Context, attributes: UnitAttributes, validity: Validity) -> bool:
    expired = attributes.valid_until is not None and attributes.valid_until < context.today
    return expired if validity is Validity.EXPIRED else not expired


def pick(
    context: Context, account_id: str, space: str, selection: Selection, validity: Validity
) -> tuple[list[Portion], list[Failure]]:
    if selection.quantity is not None:
        return pick_quantity(context, account_id, space, selection, validity)
    return pick_ranges(context, account_id, space, selection, validity)


def pick_quantity(
    context: Context, account_id: str, space: str, selection: Selection, validity: Validity
) -> tuple[list[Portion], list[Failure]]:
    """Lowest serials first among the account's active, unheld units that match."""
    state = context.state
    remaining = selection.quantity or 0
    portions: list[Portion] = []
    filtered = selection.has_filters
    index = state.active_blocks(account_id)
    for block in index.in_space(space):
        if block.hold_id is not None:
            continue
        attributes = state.unit_attributes(block.attributes_id)
        if (filtered and not _matches(attributes, selection)) or not validity_ok(
            context, attributes, validity
        ):
            continue
        take = min(remaining, block.last_serial - block.first_serial + 1)
        portions.append((block, block.first_serial, block.first_serial + take - 1))
        remaining -= take
        if remaining == 0:
            return portions, []
        if len(portions) >= BLOCKS_PER_COMMAND_MAX:
            return [], [
                Failure(
                    Code.E_INVALID_COMMAND,
                    f"selection needs more than {BLOCKS_PER_COMMAND_MAX} blocks; "
                    "split it into several commands",
                )
            ]
    return [], [_shortfall(context, account_id, space, selection, validity)]


def _shortfall(
    context: Context, account_id: str, space: str, selection: Selection, validity: Validity
) -> Failure:
    """Say why a quantity cannot be met: units on hold, past validity, or simply not held."""
    state = context.state
    available = held = out_of_validity = 0
    for block in state.active_blocks(account_id).in_space(space):
        attributes = state.unit_attributes(block.attributes_id)
        if selection.has_filters and not _matches(attributes, selection):
            continue
        if not validity_ok(context, attributes, validity):
            out_of_validity += block.quantity
        elif block.hold_id is not None:
            held += block.quantity
        else:
            available += block.quantity
    wanted = selection.quantity or 0
    summary = (
        f"account {account_id} has {available} matching {space} units available, {wanted} requested"
    )
    if available + held >= wanted and held:
        return Failure(Code.E_UNITS_ON_HOLD, f"{summary}; {held} more are on hold", (account_id,))
    if available + out_of_validity >= wanted and out_of_validity:
        code = (
            Code.E_VALIDITY_PERIOD_PASSED
            if validity is Validity.UNEXPIRED
            else Code.E_VALIDITY_PERIOD_NOT_PASSED
        )
        return Failure(
            code, f"{summary}; {out_of_validity} more are outside their validity", (account_id,)
        )
    return Failure(Code.E_UNITS_NOT_HELD, summary, (account_id,))


def pick_ranges(
    context: Context,
    account_id: str,
    space: str,
    selection: Selection,
    validity: Validity,
    hold_id: str | None = None,
) -> tuple[list[Portion], list[Failure]]:
    """Exactly the named serials, which must all be active, unheld and in the account. At most
    BLOCKS_PER_COMMAND_MAX blocks are looked at (more is refused) and FAILURES_NAMED_MAX named."""
    context.state.active_blocks(account_id)
    portions: list[Portion] = []
    failures: list[Failure] = []
    looked_at = 0
    for serial_range in sorted(selection.serial_ranges, key=lambda r: r.first_serial):
        first, last = serial_range.first_serial, serial_range.last_serial
        cursor = first
        limit = BLOCKS_PER_COMMAND_MAX - looked_at + 1
        found = context.state.blocks_overlapping(space, first, last, limit)
        looked_at += len(found)
        if looked_at > BLOCKS_PER_COMMAND_MAX:
            return [], [_too_many_blocks()]
        for block in found:
            low, high = max(block.first_serial, first), min(block.last_serial, last)
            if low > cursor:
                failures.append(_not_held(account_id, space, cursor, low - 1, "are not issued"))
            failure = _block_failure(context, block, account_id, validity, hold_id)
            if failure is not None:
                failures.append(
                    Failure(
                        failure[0],
                        failure[1] + f" ({space} {low}-{high})",
                        (account_id, f"{space}:{low}-{high}"),
                    )
                )
            else:
                portions.append((block, low, high))
            cursor = high + 1
        if cursor <= last:
            failures.append(_not_held(account_id, space, cursor, last, "are not issued"))
    return ([] if failures else portions), _named_at_most(failures)


def _too_many_blocks() -> Failure:
    return Failure(
        Code.E_INVALID_COMMAND,
        f"selection touches more than {BLOCKS_PER_COMMAND_MAX} blocks; "
        "split it into several commands",
    )


def _named_at_most(failures: list[Failure]) -> list[Failure]:
    """The first FAILURES_NAMED_MAX failures, the last saying how many more there are."""
    if len(failures) <= FAILURES_NAMED_MAX:
        return failures
    kept = failures[:FAILURES_NAMED_MAX]
    last = kept[-1]
    more = len(failures) - FAILURES_NAMED_MAX
    kept[-1] = Failure(last.code, f"{last.message}; and {more} more not named", last.ids)
    return kept


def _not_held(account_id: str, space: str, first: int, last: int, why: str) -> Failure:
    return Failure(
        Code.E_UNITS_NOT_HELD,
        f"serials {space} {first}-{last} {why}",
        (account_id, f"{space}:{first}-{last}"),
    )


def _block_failure(
    context: Context, block: Block, account_id: str, validity: Validity, hold_id: str | None
) -> tuple[Code, str] | None:
    if block.state in FINAL_STATES:
        return FINAL_STATE_CODES[block.state], f"units are {block.state} and can never move again"
    if block.account_id != account_id:
        return Code.E_UNITS_NOT_HELD, f"units are not held by account {account_id}"
    if block.hold_id is not None and block.hold_id != hold_id:
        return Code.E_UNITS_ON_HOLD, f"units are on hold {block.hold_id}"
    attributes = context.state.unit_attributes(block.attributes_id)
    if not validity_ok(context, attributes, validity):
        if validity is Validity.UNEXPIRED:
            return Code.E_VALIDITY_PERIOD_PASSED, f"units were valid until {attributes.valid_until}"
        return Code.E_VALIDITY_PERIOD_NOT_PASSED, "units are still within their validity period"
    return None
