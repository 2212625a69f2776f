"""The benchmark workload: many accounts holding large VCU issuances, and small transfers between
them (a few tonnes, lowest serials first, so most transfers split a block).

The same transfers (same seed) drive SQLite batched and single, PostgreSQL and the raw-SQL
reference, so their rates compare like with like.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass

from carbonex.ledger import (
    Command,
    Issue,
    Ledger,
    OpenAccount,
    Outcome,
    Refused,
    Selection,
    Transfer,
    UnitAttributes,
)
from carbonex.ledger.limits import BATCH_COMMANDS_MAX

UNIT_TYPE = "VCU"
ACCOUNT_KIND = "company_holding"
ISSUANCE_PER_ACCOUNT_T = 1_000_000
"""Large enough that no account can run dry within any phase: no business refusal is expected."""
TRANSFER_QUANTITY_MIN_T = 1
TRANSFER_QUANTITY_MAX_T = 5
PROJECTS = 50
VINTAGE_FIRST_YEAR = 2016
VINTAGES = 8
HOST_COUNTRIES = ("BR", "IN", "ID", "KE", "PE", "CO", "VN", "SG")
BUSINESS_REFUSAL_CODES = frozenset({"E_UNITS_NOT_HELD", "E_UNITS_ON_HOLD"})
"""Refusals the workload may legitimately meet (a source ran short); anything else is a failure."""


class BenchError(RuntimeError):
    """A benchmark could not set up its workload (a bug in the ledger or the benchmark)."""


@dataclass(frozen=True, slots=True)
class TransferSpec:
    source: int
    target: int
    quantity_t: int


def account_id(index: int) -> str:
    return f"ACC{index:06d}"


def crash_account_id(index: int) -> str:
    """The crash soaks' accounts (their processes import this module, never `crash`)."""
    return f"CRASH-{index:03d}"


def attributes_for(index: int) -> UnitAttributes:
    year = VINTAGE_FIRST_YEAR + index % VINTAGES
    return UnitAttributes(
        UNIT_TYPE,
        "Verra VCS",
        f"VCS-{1000 + index % PROJECTS}",
        dt.date(year, 1, 1),
        dt.date(year, 12, 31),
        HOST_COUNTRIES[index % len(HOST_COUNTRIES)],
    )


def setup_commands(accounts: int, quantity_t: int = ISSUANCE_PER_ACCOUNT_T) -> list[Command]:
    """Open `accounts` accounts and issue `quantity_t` tonnes into each."""
    commands: list[Command] = [
        OpenAccount(f"setup-open-{i}", account_id(i), ACCOUNT_KIND, f"Holder {i}")
        for i in range(accounts)
    ]
    commands += [
        Issue(f"setup-issue-{i}", account_id(i), quantity_t, attributes_for(i))
        for i in range(accounts)
    ]
    return commands


def submit_all_accepted(ledger: Ledger, commands: Sequence[Command]) -> list[Outcome]:
    """Group-commit `commands` in chunks; raise if any is refused (set-up must not fail)."""
    outcomes: list[Outcome] = []
    for start in range(0, len(commands), BATCH_COMMANDS_MAX):
        outcomes += ledger.submit_many(commands[start : start + BATCH_COMMANDS_MAX])
    refused = [outcome for outcome in outcomes if isinstance(outcome, Refused)]
    if refused:
        raise BenchError(f"{len(refused)} set-up commands were refused, first: {refused[0]}")
    return outcomes


def transfer_specs(accounts: int, count: int, seed: int) -> list[TransferSpec]:
    """`count` transfers between distinct random accounts, a few tonnes each."""
    rng = random.Random(seed)
    specs = []
    for _ in range(count):
        source, target = rng.sample(range(accounts), 2)
        quantity_t = rng.randint(TRANSFER_QUANTITY_MIN_T, TRANSFER_QUANTITY_MAX_T)
        specs.append(TransferSpec(source, target, quantity_t))
    return specs


def transfer_command(spec: TransferSpec, command_id: str) -> Transfer:
    return Transfer(
        command_id,
        account_id(spec.source),
        account_id(spec.target),
        Selection(UNIT_TYPE, quantity=spec.quantity_t),
    )


def transfer_commands(specs: Sequence[TransferSpec], prefix: str, offset: int = 0) -> list[Command]:
    return [
        transfer_command(spec, f"{prefix}-{offset + number}") for number, spec in enumerate(specs)
    ]


def is_business_refusal(outcome: Refused) -> bool:
    return set(outcome.codes) <= BUSINESS_REFUSAL_CODES
