"""Checks shared by several handlers: what a value given by a Python caller is (a name, a
whole number), text fields and whether an account may act; and the characters a new command's
text may hold."""

from __future__ import annotations

from collections.abc import Collection
from typing import Any, TypeGuard

from carbonex.catalog import UnitType
from carbonex.ledger.context import Context
from carbonex.ledger.failures import Code, Failure, unknown
from carbonex.ledger.limits import TEXT_FIELD_LENGTH_MAX
from carbonex.ledger.model import Account, AccountStatus
from carbonex.text import refused_character, refused_characters_in

BACKSLASH_BYTE = b"\\"
"""What starts a JSON escape: a C0 control is written as one (`\\n`, `\\u001b`)."""


def is_name_in(name: object, known: Collection[str]) -> bool:
    """Whether `name` is one of the `known` names: a Python caller may pass any value, a list
    (which no set or dict can look up) included; only a text names anything."""
    return isinstance(name, str) and name in known


def is_whole_number(value: object) -> TypeGuard[int]:
    """An int and not a bool: what a serial, a quantity or a year is (the record reader admits
    nothing else; a Python caller may pass a float, a NaN, True or a text)."""
    return isinstance(value, int) and not isinstance(value, bool)


def check_text(name: str, value: object, failures: list[Failure], required: bool = True) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value.strip()):
        failures.append(Failure(Code.E_INVALID_COMMAND, f"'{name}' must be a non-empty text"))
    elif "\x00" in value:  # PostgreSQL cannot store it; no registry text needs it
        failures.append(Failure(Code.E_INVALID_COMMAND, f"'{name}' contains a NUL character"))
    elif len(value) > TEXT_FIELD_LENGTH_MAX:
        failures.append(
            Failure(
                Code.E_INVALID_COMMAND,
                f"'{name}' is longer than {TEXT_FIELD_LENGTH_MAX} characters",
            )
        )


def usable_account(
    context: Context,
    account_id: str,
    action: str,
    failures: list[Failure],
    unit_type: UnitType | None = None,
) -> Account | None:
    """The account if it exists, is open and its kind may take `action` on `unit_type`."""
    account = context.state.account(account_id) if isinstance(account_id, str) else None
    if account is None:
        failures.append(unknown(Code.E_UNKNOWN_ACCOUNT, "account", account_id))
        return None
    if account.status == AccountStatus.CLOSED:
        failures.append(
            Failure(Code.E_ACCOUNT_CLOSED, f"account {account_id} is closed", (account_id,))
        )
    elif account.status == AccountStatus.FROZEN:
        failures.append(
            Failure(Code.E_ACCOUNT_FROZEN, f"account {account_id} is frozen", (account_id,))
        )
    kind = context.catalog.account_kinds.get(account.kind)
    if kind is None or not kind.may(action):
        failures.append(
            Failure(
                Code.E_ACCOUNT_KIND_NOT_PERMITTED,
                f"a {account.kind} account may not {action.replace('_', ' ')}",
                (account_id,),
            )
        )
    elif unit_type is not None and not kind.may_hold(unit_type):
        failures.append(
            Failure(
                Code.E_ACCOUNT_KIND_CANNOT_HOLD_UNIT_TYPE,
                f"a {account.kind} account may not hold {unit_type.code} ({unit_type.market})",
                (account_id, unit_type.code),
            )
        )
    return account


def text_character_failures(record: dict[str, Any], content: bytes | None) -> list[Failure]:
    """A failure for each text of a new command's record holding a character free text may not
    hold (`carbonex.text.REFUSED_IN_TEXT`), naming its field and the character's code point.

    Checked when a command is submitted, not in its handler: the rule admits new text, and a
    history recorded before it (by an earlier Carbonex) is decided again as it was recorded.
    `content` is the record's canonical JSON (None when it has none), searched whole first: JSON
    writes every C0 control as an escape, and every other refused character as itself, so
    content without a backslash (which text rarely needs) and without a refused character holds
    none, and the record need not be walked field by field (a tenth of the cost)."""
    if (
        content is not None
        and BACKSLASH_BYTE not in content
        and refused_character(content.decode()) is None
    ):
        return []
    return [
        Failure(
            Code.E_TEXT_CHARACTER_NOT_ALLOWED,
            refused.describe(field),
            (field, refused.code_point_text),
        )
        for field, refused in refused_characters_in(record)
    ]
