"""A verified issuance as one all-or-nothing ledger batch: issue, then distribute the split.

The ledger issues the verified quantity into the programme's issuance account and, in the same
batch, moves the proponent's share to the proponent, each deduction to its account (share of
proceeds transferred to the Adaptation Fund account, OMGE cancelled into the OMGE cancellation
account) and the buffer contribution to the buffer pool. Either every unit lands where the split
says, or nothing is issued.

The distribution selects by quantity, lowest serials first, filtered by project and vintage: the
issuance account is expected to hold nothing of that project and vintage between batches (each
batch empties what it issued), so the selected units are exactly the ones just issued.
"""

from __future__ import annotations

from collections.abc import Mapping
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
    Transfer,
    UnitAttributes,
)
from carbonex.projects.deductions import ZERO, IssuanceSplit, split_issuance


@dataclass(frozen=True, slots=True)
class IssuanceAccounts:
    issuance_account_id: str
    proponent_account_id: str
    deduction_account_ids: Mapping[str, str] = field(default_factory=dict)
    """Deduction code (share_of_proceeds, omge) -> the account that receives it."""
    buffer_account_id: str | None = None


class IssuanceSetupError(ValueError):
    """The accounts do not cover the split (a deduction or buffer without an account)."""


def _selection(attributes: UnitAttributes, quantity_t: int) -> Selection:
    return Selection(
        attributes.unit_type,
        quantity=quantity_t,
        project_id=attributes.project_id,
        vintage_year=attributes.vintage_start.year,
    )


def _deduction_command(
    request_id: str,
    deduction: Deduction,
    quantity_t: int,
    attributes: UnitAttributes,
    accounts: IssuanceAccounts,
) -> Command:
    target = accounts.deduction_account_ids.get(deduction.code)
    if target is None:
        raise IssuanceSetupError(f"no account given for deduction '{deduction.code}'")
    selection = _selection(attributes, quantity_t)
    command_id = f"{request_id}:{deduction.code}"
    if deduction.cancel:
        reason = f"{deduction.code} at issuance ({deduction.source})"
        return Cancel(command_id, accounts.issuance_account_id, selection, reason[:1000], target)
    return Transfer(command_id, accounts.issuance_account_id, target, selection)


def issuance_commands(
    request_id: str,
    attributes: UnitAttributes,
    split: IssuanceSplit,
    deductions: tuple[Deduction, ...],
    accounts: IssuanceAccounts,
    registry: str | None = None,
) -> list[Command]:
    """The batch for one verified issuance; command ids derive from `request_id` (idempotent)."""
    commands: list[Command] = [
        Issue(
            f"{request_id}:issue",
            accounts.issuance_account_id,
            split.quantity_t,
            attributes,
            registry,
        )
    ]
    if split.to_proponent_t:
        commands.append(
            Transfer(
                f"{request_id}:proponent",
                accounts.issuance_account_id,
                accounts.proponent_account_id,
                _selection(attributes, split.to_proponent_t),
            )
        )
    parts = {"share_of_proceeds": split.share_of_proceeds_t, "omge": split.omge_cancelled_t}
    for deduction in deductions:
        if parts.get(deduction.code, 0):
            commands.append(
                _deduction_command(
                    request_id, deduction, parts[deduction.code], attributes, accounts
                )
            )
    if split.buffer_t:
        if accounts.buffer_account_id is None:
            raise IssuanceSetupError("the split withholds a buffer but no buffer account is given")
        commands.append(
            Transfer(
                f"{request_id}:buffer",
                accounts.issuance_account_id,
                accounts.buffer_account_id,
                _selection(attributes, split.buffer_t),
            )
        )
    return commands


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
    `deductions.buffer_rate`) and submit the batch."""
    split = split_issuance(verified_t, deductions, buffer_rate_share)
    batch = issuance_commands(request_id, attributes, split, deductions, accounts, registry)
    return split, ledger.submit_batch(batch)
