"""One decision function per command kind, registered in `HANDLERS`.

A handler runs its checks in phases (shape, then accounts, then units) and stops after the first
phase that fails, so a refusal never reports a consequence of an earlier failure. If every check
passes it returns a plan: a function that emits the command's effects and cannot fail.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from carbonex.catalog import UnitType
from carbonex.dates import is_day
from carbonex.ledger.checks import check_text, is_name_in, usable_account
from carbonex.ledger.commands import (
    CONSUME_ACTIONS,
    Cancel,
    CloseAccount,
    Command,
    ConsumeHold,
    Convert,
    Expire,
    FreezeAccount,
    OpenAccount,
    PlaceHold,
    ReleaseHold,
    Retire,
    Surrender,
    Transfer,
    UnfreezeAccount,
)
from carbonex.ledger.context import Context
from carbonex.ledger.effects import account_effect, hold_effect
from carbonex.ledger.failures import Code, Failure, unknown
from carbonex.ledger.issuance import convert_plan, decide_issue
from carbonex.ledger.limits import ACCOUNT_ID_LENGTH_MAX, vintage_window_problem
from carbonex.ledger.model import Account, AccountStatus, Block, BlockState, Hold, HoldStatus
from carbonex.ledger.placement import place
from carbonex.ledger.selection import Validity, check_selection, pick, validity_ok
from carbonex.text import iso_date, shortened

Plan = Callable[[], None]
Decision = list[Failure] | Plan
Handler = Callable[[Context, Any], Decision]

ACCOUNT_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
ACTIVE = BlockState.ACTIVE.value


# -- accounts ------------------------------------------------------------------------------------


def decide_open_account(context: Context, command: OpenAccount) -> Decision:
    failures: list[Failure] = []
    account_id = command.account_id
    if (
        not isinstance(account_id, str)
        or len(account_id) > ACCOUNT_ID_LENGTH_MAX
        or not ACCOUNT_ID_PATTERN.fullmatch(account_id)
    ):
        shown = shortened(str(account_id))
        failures.append(
            Failure(
                Code.E_INVALID_ACCOUNT_ID,
                f"account id {shown!r} must be 1-{ACCOUNT_ID_LENGTH_MAX} "
                "letters, digits or . _ : - , starting with a letter or digit",
                (shown,),
            )
        )
    if not is_name_in(command.account_kind, context.catalog.account_kinds):
        failures.append(unknown(Code.E_UNKNOWN_ACCOUNT_KIND, "account kind", command.account_kind))
    if not is_name_in(command.registry, context.catalog.registries):
        failures.append(unknown(Code.E_UNKNOWN_REGISTRY, "registry", command.registry))
    check_text("holder", command.holder, failures)
    if failures:
        return failures
    if context.state.account(account_id) is not None:
        return [
            Failure(Code.E_ACCOUNT_EXISTS, f"account {account_id} already exists", (account_id,))
        ]

    def plan() -> None:
        account = Account(account_id, command.registry, command.account_kind, command.holder)
        context.emit(account_effect(account))
        context.state.active_blocks(account_id)

    return plan


def _existing_account(context: Context, account_id: str) -> tuple[Account | None, list[Failure]]:
    account = context.state.account(account_id) if isinstance(account_id, str) else None
    if account is None:
        return None, [unknown(Code.E_UNKNOWN_ACCOUNT, "account", account_id)]
    if account.status == AccountStatus.CLOSED:
        return None, [
            Failure(Code.E_ACCOUNT_CLOSED, f"account {account_id} is closed", (account_id,))
        ]
    return account, []


def _status_plan(context: Context, account: Account, status: str) -> Plan:
    def plan() -> None:
        context.emit(
            account_effect(
                Account(account.account_id, account.registry, account.kind, account.holder, status)
            )
        )

    return plan


def decide_close_account(context: Context, command: CloseAccount) -> Decision:
    account, failures = _existing_account(context, command.account_id)
    if account is None:
        return failures
    remaining = sum(block.quantity for block in context.state.active_blocks(account.account_id))
    if remaining:
        return [
            Failure(
                Code.E_ACCOUNT_NOT_EMPTY,
                f"account {account.account_id} still holds {remaining} active units",
                (account.account_id,),
            )
        ]
    return _status_plan(context, account, AccountStatus.CLOSED.value)


def decide_freeze_account(context: Context, command: FreezeAccount) -> Decision:
    failures: list[Failure] = []
    check_text("reason", command.reason, failures)
    account, account_failures = _existing_account(context, command.account_id)
    failures += account_failures
    if account is not None and account.status == AccountStatus.FROZEN:
        failures.append(
            Failure(
                Code.E_ACCOUNT_FROZEN,
                f"account {account.account_id} is already frozen",
                (account.account_id,),
            )
        )
    if failures or account is None:
        return failures
    return _status_plan(context, account, AccountStatus.FROZEN.value)


def decide_unfreeze_account(context: Context, command: UnfreezeAccount) -> Decision:
    failures: list[Failure] = []
    check_text("reason", command.reason, failures)
    account, account_failures = _existing_account(context, command.account_id)
    failures += account_failures
    if account is not None and account.status != AccountStatus.FROZEN:
        failures.append(
            Failure(
                Code.E_ACCOUNT_NOT_FROZEN,
                f"account {account.account_id} is not frozen",
                (account.account_id,),
            )
        )
    if failures or account is None:
        return failures
    return _status_plan(context, account, AccountStatus.OPEN.value)


# -- moving units ----------------------------------------------------------------------------------


def same_source_and_target(account_id: str, message: str) -> Failure:
    return Failure(Code.E_SAME_SOURCE_AND_TARGET, message, (account_id,))


def decide_transfer(context: Context, command: Transfer) -> Decision:
    space, failures = check_selection(context, command.selection)
    if failures or space is None:
        return failures
    unit_type = context.catalog.unit_types[command.selection.unit_type]
    usable_account(context, command.source_account_id, "send", failures)
    usable_account(context, command.target_account_id, "receive", failures, unit_type)
    if command.source_account_id == command.target_account_id:
        failures.append(
            same_source_and_target(
                command.source_account_id, "source and target are the same account"
            )
        )
    if failures:
        return failures
    portions, failures = pick(
        context, command.source_account_id, space, command.selection, Validity.UNEXPIRED
    )
    if failures:
        return failures
    context.state.active_blocks(command.target_account_id)
    return lambda: place(context, portions, "transfer", command.target_account_id, ACTIVE, None)


def _decide_final(
    context: Context,
    command: Retire | Cancel | Surrender,
    action: str,
    final_state: str,
    details: dict[str, object],
) -> Decision:
    space, failures = check_selection(context, command.selection)
    for name, value in details.items():
        check_text(name, value, failures)
    if failures or space is None:
        return failures
    unit_type = context.catalog.unit_types[command.selection.unit_type]
    usable_account(context, command.account_id, action, failures, unit_type)
    into = command.into_account_id
    if into is not None:
        usable_account(context, into, f"receive_{final_state}", failures, unit_type)
        if into == command.account_id:
            # A catalog may let one kind both retire and receive retired units; naming the
            # account itself as destination would record a movement from it to itself.
            failures.append(same_source_and_target(into, "the destination is the source account"))
    if failures:
        return failures
    portions, failures = pick(
        context, command.account_id, space, command.selection, Validity.UNEXPIRED
    )
    if failures:
        return failures
    destination = into or command.account_id
    return lambda: place(context, portions, action, destination, final_state, None)


def claim_period_failures(start: dt.date | None, end: dt.date | None) -> list[Failure]:
    """A retirement's claim period names both its first and last day, or neither; it ends on or
    after it starts, within the years a vintage may have (a claim for years 1 to 9999, or from
    2030 on without end, says nothing a buyer could check)."""
    if start is None and end is None:
        return []
    if not all(day is None or is_day(day) for day in (start, end)):
        message = "a claim period's first and last day are dates (YYYY-MM-DD), not times or texts"
    elif start is None or end is None:
        message = "a claim period names both its first and its last day, or neither"
    elif end < start:
        message = "claim period ends before it starts"
    elif (window_problem := vintage_window_problem(start, end)) is not None:
        message = f"claim period: {window_problem}"
    else:
        return []
    return [Failure(Code.E_INVALID_COMMAND, message)]


def decide_retire(context: Context, command: Retire) -> Decision:
    failures = claim_period_failures(command.claim_period_start, command.claim_period_end)
    if failures:
        return failures
    return _decide_final(
        context,
        command,
        "retire",
        BlockState.RETIRED.value,
        {"beneficiary": command.beneficiary, "purpose": command.purpose},
    )


def decide_cancel(context: Context, command: Cancel) -> Decision:
    return _decide_final(
        context, command, "cancel", BlockState.CANCELLED.value, {"reason": command.reason}
    )


def decide_surrender(context: Context, command: Surrender) -> Decision:
    return _decide_final(
        context,
        command,
        "surrender",
        BlockState.SURRENDERED.value,
        {"compliance_period": command.compliance_period},
    )


def decide_expire(context: Context, command: Expire) -> Decision:
    space, failures = check_selection(context, command.selection)
    if failures or space is None:
        return failures
    account = usable_account(context, command.account_id, "expire", failures)
    if account is not None and account.status == AccountStatus.FROZEN:
        # Validity runs out whether or not an account is frozen.
        failures = [f for f in failures if f.code is not Code.E_ACCOUNT_FROZEN]
    if failures:
        return failures
    portions, failures = pick(
        context, command.account_id, space, command.selection, Validity.EXPIRED
    )
    if failures:
        return failures
    return lambda: place(
        context, portions, "expire", command.account_id, BlockState.EXPIRED.value, None
    )


# -- holds ---------------------------------------------------------------------------------------


def decide_place_hold(context: Context, command: PlaceHold) -> Decision:
    space, failures = check_selection(context, command.selection)
    check_text("purpose", command.purpose, failures)
    hold_id = command.effective_hold_id
    check_text("hold_id", hold_id, failures)
    if failures or space is None:
        return failures
    usable_account(context, command.account_id, "hold", failures)
    if context.state.hold(hold_id) is not None:
        failures.append(Failure(Code.E_HOLD_EXISTS, f"hold {hold_id} already exists", (hold_id,)))
    if failures:
        return failures
    portions, failures = pick(
        context, command.account_id, space, command.selection, Validity.UNEXPIRED
    )
    if failures:
        return failures
    quantity = sum(last - first + 1 for _, first, last in portions)

    def plan() -> None:
        place(context, portions, "hold", command.account_id, ACTIVE, hold_id)
        context.emit(
            hold_effect(
                Hold(
                    hold_id, command.account_id, quantity, HoldStatus.PENDING.value, command.purpose
                )
            )
        )

    return plan


def _named_hold(context: Context, hold_id: str) -> tuple[Hold | None, list[Failure]]:
    """The hold and, unless it is pending, why it cannot be released or consumed: a hold no
    longer pending is still returned, since its account is known and may be checked too."""
    hold = context.state.hold(hold_id) if isinstance(hold_id, str) else None
    if hold is None:
        return None, [unknown(Code.E_UNKNOWN_HOLD, "hold", hold_id)]
    if hold.status != HoldStatus.PENDING:
        return hold, [
            Failure(Code.E_HOLD_NOT_PENDING, f"hold {hold_id} is already {hold.status}", (hold_id,))
        ]
    return hold, []


def _close_hold(context: Context, hold: Hold, status: str) -> None:
    context.emit(
        hold_effect(Hold(hold.hold_id, hold.account_id, hold.quantity, status, hold.purpose))
    )


def decide_release_hold(context: Context, command: ReleaseHold) -> Decision:
    hold, failures = _named_hold(context, command.hold_id)
    if failures or hold is None:
        return failures
    portions = [(b, b.first_serial, b.last_serial) for b in context.state.held_blocks(hold)]

    def plan() -> None:
        place(context, portions, "release", hold.account_id, ACTIVE, None)
        _close_hold(context, hold, HoldStatus.RELEASED.value)

    return plan


CONSUME_STATES = {
    "transfer": ACTIVE,
    "retire": BlockState.RETIRED.value,
    "cancel": BlockState.CANCELLED.value,
    "surrender": BlockState.SURRENDERED.value,
}
CONSUME_DETAILS = {
    "transfer": (),
    "retire": ("beneficiary", "purpose"),
    "cancel": ("reason",),
    "surrender": ("compliance_period",),
}
CONSUME_OPTIONAL_DETAILS = {"retire": ("claim_period_start", "claim_period_end")}
"""Details an action may carry besides its required ones (claim period days as YYYY-MM-DD)."""
DETAILS_NAMED_MAX = 5
"""Stray detail names a refusal quotes (a command may carry many)."""


def consume_details_failures(action: str, details: dict[str, str]) -> list[Failure]:
    """The details of a consumed hold, under the rules the action has when given directly: its
    texts, its claim period; a detail the action does not take is refused, not recorded."""
    required, optional = CONSUME_DETAILS[action], CONSUME_OPTIONAL_DETAILS.get(action, ())
    if not isinstance(details, dict) or not all(isinstance(name, str) for name in details):
        return [Failure(Code.E_INVALID_COMMAND, "details map texts to texts")]
    failures: list[Failure] = []
    stray = sorted(set(details) - set(required) - set(optional))
    if stray:
        names = ", ".join(repr(shortened(name)) for name in stray[:DETAILS_NAMED_MAX])
        message = f"'{action}' takes no detail {names}"
        failures.append(Failure(Code.E_INVALID_COMMAND, message))
    for name in required:
        check_text(name, details.get(name), failures)
    for name in optional:
        check_text(name, details.get(name), failures, required=False)
    if failures or not optional:
        return failures
    try:
        days = [iso_date(details[name]) if name in details else None for name in optional]
    except ValueError as error:
        return [Failure(Code.E_INVALID_COMMAND, f"claim period: {error}")]
    return claim_period_failures(days[0], days[1])


def expired_while_held(context: Context, hold: Hold, blocks: list[Block]) -> list[Failure]:
    """Units whose validity ran out while on hold may not leave through the hold."""
    expired = [
        b
        for b in blocks
        if not validity_ok(
            context, context.state.unit_attributes(b.attributes_id), Validity.UNEXPIRED
        )
    ]
    if not expired:
        return []
    ranges = [f"{b.serial_space}:{b.first_serial}-{b.last_serial}" for b in expired]
    return [
        Failure(
            Code.E_VALIDITY_PERIOD_PASSED,
            f"units on hold {hold.hold_id} are past their validity; release and expire them",
            (hold.hold_id, *ranges),
        )
    ]


def unknown_unit_types(context: Context, hold: Hold, unit_types: set[str]) -> list[Failure]:
    """Held units of a type the catalog in force no longer lists leave through the hold no more
    than by a transfer or retirement naming that type: only a release frees them."""
    return [
        Failure(
            Code.E_UNKNOWN_UNIT_TYPE,
            f"hold {hold.hold_id} holds {code} units, a unit type the catalog in force does not "
            "list; release them instead",
            (code, hold.hold_id),
        )
        for code in sorted(unit_types)
        if code not in context.catalog.unit_types
    ]


def consume_shape_failures(command: ConsumeHold) -> list[Failure]:
    if command.action not in CONSUME_ACTIONS:
        return [Failure(Code.E_INVALID_COMMAND, f"action must be one of {list(CONSUME_ACTIONS)}")]
    failures = consume_details_failures(command.action, command.details)
    if command.action == "transfer" and command.target_account_id is None:
        failures.append(Failure(Code.E_INVALID_COMMAND, "a transfer names a target account"))
    return failures


def consume_account_failures(
    context: Context, command: ConsumeHold, hold: Hold | None, unit_types: set[str]
) -> list[Failure]:
    """The accounts' failures, and the hold's own (unknown or not pending, which rank among
    them): every one that applies, as for a transfer's two sides. Without a pending hold the
    units' types are unknown, so the target is checked for the action alone."""
    failures: list[Failure] = []
    action = command.action
    if hold is not None:
        usable_account(
            context, hold.account_id, "send" if action == "transfer" else action, failures
        )
    target = command.target_account_id
    if target is not None:
        if hold is not None and target == hold.account_id:
            failures.append(same_source_and_target(target, "target is the hold's own account"))
        receive = "receive" if action == "transfer" else f"receive_{CONSUME_STATES[action]}"
        held_types: list[UnitType | None] = [
            context.catalog.unit_types[code] for code in sorted(unit_types)
        ]
        for unit_type in held_types or [None]:
            usable_account(context, target, receive, failures, unit_type)
    return failures


def decide_consume_hold(context: Context, command: ConsumeHold) -> Decision:
    failures = consume_shape_failures(command)
    if failures:
        return failures
    hold, failures = _named_hold(context, command.hold_id)
    pending = hold if hold is not None and not failures else None
    blocks = context.state.held_blocks(pending) if pending is not None else []
    unit_types = {context.state.unit_attributes(b.attributes_id).unit_type for b in blocks}
    if pending is not None and (unknown_types := unknown_unit_types(context, pending, unit_types)):
        return unknown_types
    failures += consume_account_failures(context, command, hold, unit_types)
    if failures or pending is None:
        return failures
    failures = expired_while_held(context, pending, blocks)  # the units, after the accounts
    if failures:
        return failures
    action = command.action
    destination = command.target_account_id or pending.account_id
    context.state.active_blocks(destination)
    portions = [(b, b.first_serial, b.last_serial) for b in blocks]

    def plan() -> None:
        place(context, portions, action, destination, CONSUME_STATES[action], None)
        _close_hold(context, pending, HoldStatus.CONSUMED.value)

    return plan


def decide_convert(context: Context, command: Convert) -> Decision:
    space, failures = check_selection(context, command.selection)
    if failures or space is None:
        return failures
    rule_id = command.rule_id
    rule = context.catalog.conversions.get(rule_id) if isinstance(rule_id, str) else None
    if rule is None:
        return [unknown(Code.E_UNKNOWN_CONVERSION_RULE, "conversion rule", command.rule_id)]
    target_type = context.catalog.unit_types.get(rule.to_unit_type)
    if target_type is None:  # rules naming a type their catalog lacks: refused, never a KeyError
        return [
            Failure(
                Code.E_UNKNOWN_UNIT_TYPE,
                f"rule {rule.rule_id} converts to {rule.to_unit_type}, a unit type the catalog "
                "in force does not list",
                (rule.to_unit_type, rule.rule_id),
            )
        ]
    usable_account(context, command.account_id, "convert", failures, target_type)
    if failures:
        return failures
    portions, failures = pick(
        context, command.account_id, space, command.selection, Validity.UNEXPIRED
    )
    if rule.from_unit_type != command.selection.unit_type:
        # A check of the units, after the account's (E_CONVERSION_NOT_ALLOWED's precedence).
        failures.append(
            Failure(
                Code.E_CONVERSION_NOT_ALLOWED,
                f"rule {rule.rule_id} converts {rule.from_unit_type}, not "
                f"{command.selection.unit_type}",
                (rule.rule_id,),
            )
        )
    if failures:
        return failures
    return convert_plan(context, command, rule, target_type, portions)


HANDLERS: dict[str, Handler] = {
    "open_account": decide_open_account,
    "close_account": decide_close_account,
    "freeze_account": decide_freeze_account,
    "unfreeze_account": decide_unfreeze_account,
    "issue": decide_issue,
    "transfer": decide_transfer,
    "retire": decide_retire,
    "cancel": decide_cancel,
    "surrender": decide_surrender,
    "expire": decide_expire,
    "hold": decide_place_hold,
    "release": decide_release_hold,
    "consume": decide_consume_hold,
    "convert": decide_convert,
}


def decide(context: Context, command: Command) -> Decision:
    return HANDLERS[command.kind](context, command)
