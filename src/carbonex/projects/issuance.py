"""A verified issuance as one all-or-nothing unit of work: issue, then distribute the split.

The ledger issues the verified quantity into the programme's issuance account and, in the same
transaction, moves the proponent's share to the proponent, each deduction to its account (share
of proceeds transferred to the Adaptation Fund account, OMGE cancelled into the OMGE
cancellation account) and the buffer contribution to the buffer pool. Either every unit lands
where the split says, or nothing is issued.

The distribution names the serials the issue made (proponent first, then each deduction, then
the buffer, in serial order), not a quantity: the issuance account may hold other units of the
same project and vintage (issued directly, or left by an earlier distribution), and those must
not be handed out in place of the new ones.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from carbonex.catalog.standards import Deduction
from carbonex.ledger import (
    Accepted,
    Cancel,
    Command,
    Issue,
    Ledger,
    Refused,
    Selection,
    SerialRange,
    Transaction,
    Transfer,
    UnitAttributes,
)
from carbonex.ledger.effects import issuance_from_effect
from carbonex.projects.deductions import ZERO, IssuanceSplit, split_issuance

SubmitBatch = Callable[[Sequence[Command]], Refused | list[Accepted]]


@dataclass(frozen=True, slots=True)
class IssuanceAccounts:
    issuance_account_id: str
    proponent_account_id: str
    deduction_account_ids: Mapping[str, str] = field(default_factory=dict)
    """Deduction code (share_of_proceeds, omge) -> the account that receives it."""
    buffer_account_id: str | None = None


class IssuanceSetupError(ValueError):
    """The accounts do not cover the split (a deduction or buffer without an account)."""


def check_accounts(
    split: IssuanceSplit, deductions: tuple[Deduction, ...], accounts: IssuanceAccounts
) -> None:
    """Raise IssuanceSetupError when a part of the split has no account to go to."""
    parts = split.deducted_t
    for deduction in deductions:
        if parts.get(deduction.code, 0) and deduction.code not in accounts.deduction_account_ids:
            raise IssuanceSetupError(f"no account given for deduction '{deduction.code}'")
    if split.buffer_t and accounts.buffer_account_id is None:
        raise IssuanceSetupError("the split withholds a buffer but no buffer account is given")


def issue_command(
    request_id: str,
    attributes: UnitAttributes,
    split: IssuanceSplit,
    accounts: IssuanceAccounts,
    registry: str | None = None,
) -> Issue:
    return Issue(
        f"{request_id}:issue", accounts.issuance_account_id, split.quantity_t, attributes, registry
    )


def issued_range(issued: Accepted) -> SerialRange:
    """The serials an accepted (or repeated) issue made, from its issuance effect."""
    for effect in issued.effects:
        if effect[0] == "issuance":
            issuance = issuance_from_effect(effect)
            return SerialRange(issuance.first_serial, issuance.last_serial)
    raise RuntimeError(f"accepted issue {issued.command_id} has no issuance effect")


def distribution_commands(
    request_id: str,
    issue: Issue,
    issued: SerialRange,
    split: IssuanceSplit,
    deductions: tuple[Deduction, ...],
    accounts: IssuanceAccounts,
) -> list[Command]:
    """The moves out of the issuance account, each naming its slice of the `issued` serials;
    command ids derive from `request_id` (idempotent). The accounts cover the split
    (`check_accounts`)."""
    source = accounts.issuance_account_id
    next_serial = issued.first_serial

    def take(quantity_t: int) -> Selection:
        nonlocal next_serial
        serials = SerialRange(next_serial, next_serial + quantity_t - 1)
        next_serial += quantity_t
        return Selection(
            issue.attributes.unit_type, serial_ranges=(serials,), registry=issue.registry
        )

    commands: list[Command] = []
    if split.to_proponent_t:
        target = accounts.proponent_account_id
        commands.append(
            Transfer(f"{request_id}:proponent", source, target, take(split.to_proponent_t))
        )
    parts = split.deducted_t
    for deduction in deductions:
        quantity_t = parts.get(deduction.code, 0)
        if not quantity_t:
            continue
        target = accounts.deduction_account_ids[deduction.code]
        command_id = f"{request_id}:{deduction.code}"
        if deduction.cancel:
            reason = f"{deduction.code} at issuance ({deduction.source})"[:1000]
            commands.append(Cancel(command_id, source, take(quantity_t), reason, target))
        else:
            commands.append(Transfer(command_id, source, target, take(quantity_t)))
    if split.buffer_t and accounts.buffer_account_id is not None:
        target = accounts.buffer_account_id
        commands.append(Transfer(f"{request_id}:buffer", source, target, take(split.buffer_t)))
    return commands


def issue_and_distribute(
    submit_batch: SubmitBatch,
    request_id: str,
    attributes: UnitAttributes,
    split: IssuanceSplit,
    deductions: tuple[Deduction, ...],
    accounts: IssuanceAccounts,
    registry: str | None = None,
) -> Refused | list[Accepted]:
    """Issue, then distribute the serials issued, with `submit_batch` of one open transaction:
    on a refusal the caller must not keep the transaction (the issue would stand alone)."""
    check_accounts(split, deductions, accounts)
    issue = issue_command(request_id, attributes, split, accounts, registry)
    issued = submit_batch([issue])
    if isinstance(issued, Refused):
        return issued
    moves = distribution_commands(
        request_id, issue, issued_range(issued[0]), split, deductions, accounts
    )
    distributed = submit_batch(moves) if moves else []
    if isinstance(distributed, Refused):
        return distributed
    return issued + distributed


def issue_verified(
    ledger: Ledger,
    request_id: str,
    attributes: UnitAttributes,
    verified_t: int,
    deductions: tuple[Deduction, ...],
    accounts: IssuanceAccounts,
    registry: str | None = None,
    buffer_rate_share: Decimal = ZERO,
) -> tuple[IssuanceSplit, Refused | list[Accepted]]:
    """Split `verified_t` under the programme's deductions (and buffer rate, from
    `deductions.buffer_rate`) and issue it in one transaction."""
    split = split_issuance(verified_t, deductions, buffer_rate_share)
    check_accounts(split, deductions, accounts)

    def work(tx: Transaction) -> tuple[Refused | list[Accepted], bool]:
        outcome = issue_and_distribute(
            tx.submit_batch, request_id, attributes, split, deductions, accounts, registry
        )
        return outcome, not isinstance(outcome, Refused)

    return split, ledger.transact(work)
