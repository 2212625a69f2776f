"""Effects: what an accepted command changed, as plain tuples (compact in the journal).

    ("account", account_id, registry, kind, holder, status)
    ("attributes", attributes_id, attributes_record)
    ("issuance", issuance_id, serial_space, first_serial, last_serial, attributes_id,
     account_id, lineage)
    ("block", block_id, issuance_id, serial_space, first_serial, last_serial, account_id,
     state, attributes_id, hold_id)            a block written (created or changed)
    ("unblock", block_id)                      a block removed (merged into its neighbour)
    ("hold", hold_id, account_id, quantity, status, purpose)
    ("move", action, serial_space, first_serial, last_serial, from_account, to_account)
                                               a movement, for statements and provenance

Replaying every entry's effects in order from empty reproduces the ledger's state.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from carbonex.ledger.model import Account, Block, Hold, Issuance, UnitAttributes

Effect = tuple[Any, ...]
MOVE_ACTIONS = frozenset(
    {
        "issue",
        "convert_in",
        "transfer",
        "retire",
        "cancel",
        "surrender",
        "expire",
        "convert",
        "hold",
        "release",
    }
)
"""What a "move" effect may say was done (`issuance.create_serials`, `placement.place`)."""


def account_effect(account: Account) -> Effect:
    return (
        "account",
        account.account_id,
        account.registry,
        account.kind,
        account.holder,
        account.status,
    )


def block_effect(block: Block) -> Effect:
    return ("block", *block)


def hold_effect(hold: Hold) -> Effect:
    return ("hold", hold.hold_id, hold.account_id, hold.quantity, hold.status, hold.purpose)


def issuance_effect(issuance: Issuance) -> Effect:
    return (
        "issuance",
        issuance.issuance_id,
        issuance.serial_space,
        issuance.first_serial,
        issuance.last_serial,
        issuance.attributes_id,
        issuance.account_id,
        issuance.lineage,
    )


def attributes_effect(attributes_id: str, attributes: UnitAttributes) -> Effect:
    return ("attributes", attributes_id, attributes.to_record())


def block_from_effect(effect: Sequence[Any]) -> Block:
    return Block._make(effect[1:10])


def account_from_effect(effect: Sequence[Any]) -> Account:
    return Account(effect[1], effect[2], effect[3], effect[4], effect[5])


def hold_from_effect(effect: Sequence[Any]) -> Hold:
    return Hold(effect[1], effect[2], effect[3], effect[4], effect[5])


def issuance_from_effect(effect: Sequence[Any]) -> Issuance:
    return Issuance(effect[1], effect[2], effect[3], effect[4], effect[5], effect[6], effect[7])
