"""The registry kernel: serial blocks, accounts, checked commands and a hash-chained journal.

Public API (what later capabilities use):

    from carbonex.ledger import Ledger, Issue, Transfer, Selection, UnitAttributes, ...
"""

import importlib
from typing import TYPE_CHECKING, Any

from carbonex.ledger.commands import (
    Cancel,
    CloseAccount,
    Command,
    CommandFormatError,
    ConsumeHold,
    Convert,
    Expire,
    FreezeAccount,
    Issue,
    OpenAccount,
    PlaceHold,
    ReleaseHold,
    Retire,
    Selection,
    SerialRange,
    Surrender,
    Transfer,
    UnfreezeAccount,
    command_from_record,
)
from carbonex.ledger.failures import Code, Failure
from carbonex.ledger.limits import BATCH_COMMANDS_MAX, QUERY_PAGE_SIZE_MAX
from carbonex.ledger.model import (
    Account,
    AccountStatus,
    Block,
    BlockState,
    Hold,
    HoldStatus,
    UnitAttributes,
    serial_space_of,
)
from carbonex.ledger.outcomes import Accepted, Outcome, Refused
from carbonex.ledger.ports import DamagedLedgerError

if TYPE_CHECKING:
    from carbonex.ledger.redecide import (
        RedecideReport,
        redecide_entries,
        redecide_ledger,
    )
    from carbonex.ledger.service import Clock, Ledger, Transaction
    from carbonex.ledger.verify import VerifyReport

# The service and verify use the store, and the store uses this package's value modules: they
# are imported on first use, so that importing `carbonex.store` first never meets a half-built
# `carbonex.ledger`.
_LAZY = {
    "Clock": "carbonex.ledger.service",
    "Ledger": "carbonex.ledger.service",
    "Transaction": "carbonex.ledger.service",
    "VerifyReport": "carbonex.ledger.verify",
    "RedecideReport": "carbonex.ledger.redecide",
    "redecide_entries": "carbonex.ledger.redecide",
    "redecide_ledger": "carbonex.ledger.redecide",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'carbonex.ledger' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "BATCH_COMMANDS_MAX",
    "QUERY_PAGE_SIZE_MAX",
    "Accepted",
    "Account",
    "AccountStatus",
    "Block",
    "BlockState",
    "Cancel",
    "Clock",
    "CloseAccount",
    "Code",
    "Command",
    "CommandFormatError",
    "ConsumeHold",
    "Convert",
    "DamagedLedgerError",
    "Expire",
    "Failure",
    "FreezeAccount",
    "Hold",
    "HoldStatus",
    "Issue",
    "Ledger",
    "OpenAccount",
    "Outcome",
    "PlaceHold",
    "RedecideReport",
    "Refused",
    "ReleaseHold",
    "Retire",
    "Selection",
    "SerialRange",
    "Surrender",
    "Transaction",
    "Transfer",
    "UnfreezeAccount",
    "UnitAttributes",
    "VerifyReport",
    "command_from_record",
    "redecide_entries",
    "redecide_ledger",
    "serial_space_of",
]
