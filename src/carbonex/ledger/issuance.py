"""Issuance and conversion: the two commands that create serials.

New serials come from the serial space of (registry, unit type): the next free serial after the
highest issued one, or an explicit first serial that must not overlap any earlier issuance.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from carbonex.catalog import ConversionRule, UnitType
from carbonex.dates import is_day, years_after
from carbonex.ledger.checks import check_text, is_name_in, is_whole_number, usable_account
from carbonex.ledger.commands import Convert, Issue
from carbonex.ledger.context import Context
from carbonex.ledger.effects import attributes_effect, block_effect, issuance_effect
from carbonex.ledger.failures import Code, Failure, unknown
from carbonex.ledger.journal import canonical
from carbonex.ledger.limits import LABELS_PER_BLOCK_MAX, SERIAL_MAX, vintage_window_problem
from carbonex.ledger.model import (
    CATEGORIES,
    Block,
    BlockState,
    Issuance,
    UnitAttributes,
    serial_space_of,
)
from carbonex.ledger.placement import Portion, place
from carbonex.ledger.selection import check_quantity
from carbonex.text import shortened

ACTIVE = BlockState.ACTIVE.value


def check_attributes(context: Context, attributes: UnitAttributes) -> list[Failure]:
    failures: list[Failure] = []
    for name in ("standard", "project_id"):
        check_text(name, getattr(attributes, name), failures)
    for name in ("methodology", "authorization"):
        check_text(name, getattr(attributes, name), failures, required=False)
    problems = _date_problems(attributes)
    if not is_name_in(attributes.host_country, context.catalog.countries):
        country = shortened(str(attributes.host_country))
        problems.append(f"host country '{country}' is not an ISO 3166-1 code")
    if not is_name_in(attributes.category, CATEGORIES):
        problems.append(f"category must be one of {sorted(CATEGORIES)}")
    labels = attributes.labels
    if (
        not isinstance(labels, tuple | list)
        or len(labels) > LABELS_PER_BLOCK_MAX
        or not all(
            isinstance(label, str) and label.strip() and "\x00" not in label
            for label in attributes.labels
        )
    ):
        problems.append(f"labels must be at most {LABELS_PER_BLOCK_MAX} non-empty texts")
    failures += [Failure(Code.E_INVALID_ATTRIBUTES, problem) for problem in problems]
    return failures


def _date_problems(attributes: UnitAttributes) -> list[str]:
    vintage_start, vintage_end = attributes.vintage_start, attributes.vintage_end
    valid_until = attributes.valid_until
    if not (is_day(vintage_start) and is_day(vintage_end)) or not (
        valid_until is None or is_day(valid_until)
    ):
        return ["vintage and validity are dates (YYYY-MM-DD), not times or texts"]
    problems = []
    if vintage_end < vintage_start:
        problems.append("vintage ends before it starts")
    if valid_until is not None and valid_until < vintage_end:
        problems.append(f"validity ends ({valid_until}) before the vintage does")
    window_problem = vintage_window_problem(vintage_start, vintage_end)
    if window_problem is not None:
        problems.append(window_problem)
    return problems


def normalized(attributes: UnitAttributes, unit_type: UnitType) -> UnitAttributes:
    """Labels sorted and unique; the validity end set from the programme when it has one."""
    valid_until = attributes.valid_until
    if valid_until is None and unit_type.validity_years is not None:
        valid_until = years_after(attributes.vintage_end, unit_type.validity_years)
        if valid_until is None:
            # Vintages end by VINTAGE_YEAR_MAX and catalogs bound validity_years: not reachable.
            raise RuntimeError(f"{unit_type.code} validity past {dt.date.max}: limits changed?")
    return UnitAttributes(
        attributes.unit_type,
        attributes.standard,
        attributes.project_id,
        attributes.vintage_start,
        attributes.vintage_end,
        attributes.host_country,
        attributes.methodology,
        attributes.category,
        tuple(sorted(set(attributes.labels))),
        attributes.authorization,
        valid_until,
    )


def decide_issue(context: Context, command: Issue) -> list[Failure] | Callable[[], None]:
    attributes = command.attributes
    code = attributes.unit_type
    unit_type = context.catalog.unit_types.get(code) if isinstance(code, str) else None
    failures: list[Failure] = []
    if unit_type is None:
        failures.append(unknown(Code.E_UNKNOWN_UNIT_TYPE, "unit type", code))
    registry = command.registry or (unit_type.registry if unit_type else "")
    if command.registry is not None and (
        not isinstance(command.registry, str) or registry not in context.catalog.registries
    ):
        failures.append(unknown(Code.E_UNKNOWN_REGISTRY, "registry", command.registry))
    quantity_failures = check_quantity(command.quantity)
    failures += quantity_failures
    first = command.first_serial
    if (
        first is not None
        and not quantity_failures
        and (not is_whole_number(first) or first < 1 or first + command.quantity - 1 > SERIAL_MAX)
    ):
        failures.append(
            Failure(
                Code.E_INVALID_SERIAL_RANGE, f"first serial {first} is out of bounds 1-{SERIAL_MAX}"
            )
        )
    failures += check_attributes(context, attributes)
    if failures or unit_type is None:
        return failures
    usable_account(context, command.account_id, "issue_into", failures, unit_type)
    if failures:
        return failures
    space = serial_space_of(registry, unit_type.code)
    if first is None:
        first = context.state.max_issued_serial(space) + 1
    last = first + command.quantity - 1
    failures = check_serial_space_room(space, first, last)
    if failures:
        return failures
    overlapping = context.state.overlapping_issuance(space, first, last)
    if overlapping is not None:
        return [
            Failure(
                Code.E_SERIAL_RANGE_OVERLAPS,
                f"serials {space} {first}-{last} overlap issuance {overlapping}",
                (f"{space}:{first}-{last}", str(overlapping)),
            )
        ]
    final_attributes = normalized(attributes, unit_type)
    return lambda: create_serials(
        context, space, first, last, final_attributes, command.account_id, None
    )


def check_serial_space_room(space: str, first: int, last: int) -> list[Failure]:
    """New serials after the highest issued one that would pass SERIAL_MAX: the serial space has
    no room left for them (an explicit first serial out of bounds is a shape failure instead,
    E_INVALID_SERIAL_RANGE)."""
    if last <= SERIAL_MAX:
        return []
    return [
        Failure(
            Code.E_SERIAL_SPACE_FULL,
            f"serials {space} {first}-{last} would go beyond the last serial {SERIAL_MAX}",
            (f"{space}:{first}-{last}",),
        )
    ]


def create_serials(
    context: Context,
    space: str,
    first: int,
    last: int,
    attributes: UnitAttributes,
    account_id: str,
    lineage: str | None,
) -> None:
    state = context.state
    attributes_id = attributes.attributes_id
    if not state.attributes_known(attributes_id):
        context.emit(attributes_effect(attributes_id, attributes))
    issuance = Issuance(
        state.take_issuance_id(), space, first, last, attributes_id, account_id, lineage
    )
    context.emit(issuance_effect(issuance))
    context.emit(
        block_effect(
            Block(
                state.take_block_id(),
                issuance.issuance_id,
                space,
                first,
                last,
                account_id,
                ACTIVE,
                attributes_id,
                None,
            )
        )
    )
    action = "issue" if lineage is None else "convert_in"
    context.emit(("move", action, space, first, last, None, account_id))


def converted_attributes(
    attributes: UnitAttributes, rule: ConversionRule, target_type: UnitType
) -> UnitAttributes:
    """The new units' attributes. Where the target programme sets a validity period it runs from
    the vintage's end, as for units it issues; a conversion never lengthens a unit's life, so
    the earlier of that end and the source units' own is kept."""
    valid_until = attributes.valid_until
    if target_type.validity_years is not None:
        target_end = years_after(attributes.vintage_end, target_type.validity_years)
        if target_end is not None and (valid_until is None or target_end < valid_until):
            valid_until = target_end
    return UnitAttributes(
        rule.to_unit_type,
        rule.set_standard or attributes.standard,
        attributes.project_id,
        attributes.vintage_start,
        attributes.vintage_end,
        attributes.host_country,
        attributes.methodology,
        attributes.category,
        tuple(sorted(set(attributes.labels) | set(rule.add_labels))),
        attributes.authorization,
        valid_until,
    )


def _converted_validity_passed(
    context: Context, converted: UnitAttributes, rule: ConversionRule
) -> list[Failure]:
    valid_until = converted.valid_until
    if valid_until is None or valid_until >= context.today:
        return []
    return [
        Failure(
            Code.E_VALIDITY_PERIOD_PASSED,
            f"units converted under rule {rule.rule_id} would have been valid until {valid_until}",
            (rule.rule_id,),
        )
    ]


def convert_plan(
    context: Context,
    command: Convert,
    rule: ConversionRule,
    target_type: UnitType,
    portions: list[Portion],
) -> list[Failure] | Callable[[], None]:
    """Converted serials end in state `converted`; each attribute group becomes a new issuance
    in the target serial space (the unit type `rule` converts to) whose lineage names the rule
    and the source ranges."""
    state = context.state
    groups: dict[str, list[Portion]] = {}
    for portion in portions:
        attributes = state.unit_attributes(portion[0].attributes_id)
        if rule.min_vintage_start is not None and attributes.vintage_start < rule.min_vintage_start:
            return [
                Failure(
                    Code.E_CONVERSION_NOT_ALLOWED,
                    f"rule {rule.rule_id} needs vintages from {rule.min_vintage_start}; "
                    f"block {portion[0].block_id} starts {attributes.vintage_start}",
                    (rule.rule_id, str(portion[0].block_id)),
                )
            ]
        groups.setdefault(portion[0].attributes_id, []).append(portion)
    converted: dict[str, UnitAttributes] = {}
    for attributes_id in groups:  # new units: the checks an issue of them would pass
        source = state.unit_attributes(attributes_id)
        attributes = converted_attributes(source, rule, target_type)
        if attributes == source:  # e.g. a label added to units that carry it: only churn
            message = f"units of block {groups[attributes_id][0][0].block_id} already are what "
            message += f"rule {rule.rule_id} makes"
            return [Failure(Code.E_CONVERSION_NOT_ALLOWED, message, (rule.rule_id,))]
        failures = check_attributes(context, attributes) or _converted_validity_passed(
            context, attributes, rule
        )
        if failures:
            return failures
        converted[attributes_id] = attributes
    target_space = serial_space_of(target_type.registry, target_type.code)
    # Read the serial space before emitting: this command's own issuances are not stored yet.
    first = state.max_issued_serial(target_space) + 1
    total = sum(high - low + 1 for _, low, high in portions)
    failures = check_serial_space_room(target_space, first, first + total - 1)
    if failures:
        return failures

    def plan() -> None:
        next_serial = first
        place(context, portions, "convert", command.account_id, BlockState.CONVERTED.value, None)
        for attributes_id, group in groups.items():
            quantity = sum(high - low + 1 for _, low, high in group)
            lineage = canonical(
                {
                    "rule": rule.rule_id,
                    "from": [[block.serial_space, low, high] for block, low, high in group],
                }
            ).decode()
            create_serials(
                context,
                target_space,
                next_serial,
                next_serial + quantity - 1,
                converted[attributes_id],
                command.account_id,
                lineage,
            )
            next_serial += quantity

    return plan
