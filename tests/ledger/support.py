"""Helpers shared by the ledger tests: unit attributes, table snapshots, refusal assertions,
raw-row tampering and the Hypothesis profiles of the property tests."""

from __future__ import annotations

import datetime as dt
import itertools
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from hypothesis import HealthCheck, Phase, settings

from carbonex.ledger import (
    Accepted,
    Command,
    Issue,
    Ledger,
    OpenAccount,
    Outcome,
    Refused,
    SerialRange,
    UnitAttributes,
)
from carbonex.ledger.failures import PRECEDENCE, Code
from carbonex.ledger.stored_values import TABLE_KEYS

# -- values ---------------------------------------------------------------------------------------

VCU = UnitAttributes(
    unit_type="VCU",
    standard="Verra VCS",
    project_id="VCS-1",
    vintage_start=dt.date(2021, 1, 1),
    vintage_end=dt.date(2021, 12, 31),
    host_country="BR",
    methodology="VM0007",
)
CER_2014 = UnitAttributes(
    unit_type="CER",
    standard="CDM",
    project_id="CDM-1",
    vintage_start=dt.date(2014, 1, 1),
    vintage_end=dt.date(2014, 12, 31),
    host_country="IN",
)
CER_2012 = replace(
    CER_2014,
    project_id="CDM-2",
    vintage_start=dt.date(2012, 1, 1),
    vintage_end=dt.date(2012, 12, 31),
)
EUA = UnitAttributes(
    unit_type="EUA",
    standard="EU ETS",
    project_id="EU-ETS-PHASE-4",
    vintage_start=dt.date(2025, 1, 1),
    vintage_end=dt.date(2025, 12, 31),
    host_country="DE",
)
GEC = UnitAttributes(
    unit_type="GEC",
    standard="I-REC",
    project_id="SOLAR-7",
    vintage_start=dt.date(2025, 1, 1),
    vintage_end=dt.date(2025, 12, 31),
    host_country="CN",
)

VCU_SPACE = "VERRA/VCU"
CER_SPACE = "CDM/CER"
A64_SPACE = "A64M/A6.4ER"


def vcu(**changes: Any) -> UnitAttributes:
    """VCU attributes with some fields changed (project, vintage, labels, validity...)."""
    return replace(VCU, **changes)


def vintage(year: int, **changes: Any) -> UnitAttributes:
    return vcu(vintage_start=dt.date(year, 1, 1), vintage_end=dt.date(year, 12, 31), **changes)


def ranges(*pairs: tuple[int, int]) -> tuple[SerialRange, ...]:
    return tuple(SerialRange(first, last) for first, last in pairs)


# -- submitting -----------------------------------------------------------------------------------


def accept(ledger: Ledger, command: Command) -> Accepted:
    outcome = ledger.submit(command)
    assert isinstance(outcome, Accepted), f"{command.command_id} was refused: {outcome}"
    return outcome


def accept_all(ledger: Ledger, commands: Sequence[Command]) -> list[Accepted]:
    outcomes = ledger.submit_many(commands)
    refused = [outcome for outcome in outcomes if not isinstance(outcome, Accepted)]
    assert not refused, f"refused: {refused}"
    return [outcome for outcome in outcomes if isinstance(outcome, Accepted)]


def open_accounts(ledger: Ledger, *accounts: str, kind: str = "company_holding") -> None:
    accept_all(ledger, [OpenAccount(f"open-{a}", a, kind, f"Holder of {a}") for a in accounts])


_issue_numbers = itertools.count(1)


def issue(
    ledger: Ledger,
    account_id: str,
    quantity: int,
    attributes: UnitAttributes = VCU,
    command_id: str | None = None,
    **options: Any,
) -> Accepted:
    command_id = command_id or f"issue-{next(_issue_numbers)}"
    return accept(ledger, Issue(command_id, account_id, quantity, attributes, **options))


# -- reading the tables ---------------------------------------------------------------------------

TABLES = TABLE_KEYS
"""Every table of the ledger, with the columns that order its rows."""


def _plain(value: Any) -> Any:
    return bytes(value) if isinstance(value, memoryview | bytearray) else value


def table_rows(ledger: Ledger, table: str) -> list[tuple[Any, ...]]:
    """The table's rows, read behind the ledger's back: after projecting, so that the read
    models show every committed entry."""
    ledger.project()
    return raw_table_rows(ledger, table)


def raw_table_rows(ledger: Ledger, table: str) -> list[tuple[Any, ...]]:
    """The table's rows as they are, the read models perhaps behind the journal."""
    rows = ledger.store.query(f"SELECT * FROM {table} ORDER BY {TABLES[table]}")
    return [tuple(_plain(value) for value in row) for row in rows]


@dataclass(frozen=True)
class Snapshot:
    tables: dict[str, list[tuple[Any, ...]]]
    summary: dict[str, Any]
    holdings: dict[str, list[dict[str, Any]]]
    journal_length: int


def snapshot(ledger: Ledger, accounts: Iterable[str] = ()) -> Snapshot:
    tables = {table: table_rows(ledger, table) for table in TABLES}
    all_accounts = set(accounts) | {row[0] for row in tables["accounts"]}
    return Snapshot(
        tables=tables,
        summary=ledger.summary(),
        holdings={a: ledger.holdings(a) for a in sorted(all_accounts)},
        journal_length=len(ledger.journal(limit=1000)),
    )


def assert_snapshots_equal(before: Snapshot, after: Snapshot) -> None:
    for table in TABLES:
        assert after.tables[table] == before.tables[table], f"table {table} changed"
    assert after.summary == before.summary
    assert after.holdings == before.holdings
    assert after.journal_length == before.journal_length


def blocks(ledger: Ledger) -> list[dict[str, Any]]:
    """Every block row as a dict, in serial order."""
    keys = (
        "block_id",
        "issuance_id",
        "serial_space",
        "first_serial",
        "last_serial",
        "account_id",
        "state",
        "attributes_id",
        "hold_id",
    )
    ledger.project()
    rows = ledger.store.query(
        "SELECT block_id, issuance_id, serial_space, first_serial, last_serial, account_id, "
        "state, attributes_id, hold_id FROM blocks ORDER BY serial_space, first_serial"
    )
    return [dict(zip(keys, row, strict=True)) for row in rows]


def ranges_of(
    ledger: Ledger, account_id: str, state: str = "active", space: str = VCU_SPACE
) -> list[tuple[int, int]]:
    return [
        (b["first_serial"], b["last_serial"])
        for b in blocks(ledger)
        if b["account_id"] == account_id and b["state"] == state and b["serial_space"] == space
    ]


def held(
    ledger: Ledger, account_id: str, state: str = "active", on_hold: bool | None = None
) -> int:
    """Units the account holds in `state` (optionally only those on hold, or not on hold)."""
    return sum(
        entry["quantity"]
        for entry in ledger.holdings(account_id)
        if entry["state"] == state and (on_hold is None or entry["on_hold"] == on_hold)
    )


def assert_conserved(ledger: Ledger) -> None:
    """Every issuance is tiled exactly by its blocks, and no two blocks overlap."""
    issuances = ledger.store.query(
        "SELECT issuance_id, serial_space, first_serial, last_serial FROM issuances"
    )
    by_issuance: dict[int, list[tuple[int, int]]] = {row[0]: [] for row in issuances}
    previous: dict[str, Any] | None = None
    for block in blocks(ledger):
        by_issuance[block["issuance_id"]].append((block["first_serial"], block["last_serial"]))
        if previous is not None and previous["serial_space"] == block["serial_space"]:
            assert previous["last_serial"] < block["first_serial"], (previous, block)
        previous = block
    for issuance_id, _space, first, last in issuances:
        pieces = sorted(by_issuance[issuance_id])
        assert pieces, f"issuance {issuance_id} has no blocks"
        assert pieces[0][0] == first and pieces[-1][1] == last
        for (_, low_last), (high_first, _) in itertools.pairwise(pieces):
            assert high_first == low_last + 1, f"issuance {issuance_id}: {pieces}"


# -- refusals -------------------------------------------------------------------------------------


def codes_of(outcome: Outcome | list[Accepted] | list[Outcome]) -> list[Code]:
    if isinstance(outcome, list):
        assert len(outcome) == 1, outcome
        outcome = outcome[0]
    assert isinstance(outcome, Refused), f"expected a refusal, got {outcome}"
    return [failure.code for failure in outcome.failures]


def assert_precedence_order(codes: Sequence[Code]) -> None:
    """Failures are listed in the declaration order of `Code` (a batch refusal leads with
    E_BATCH_COMMAND_REFUSED, then the failing command's failures in that order)."""
    if codes and codes[0] is Code.E_BATCH_COMMAND_REFUSED:
        codes = codes[1:]
    positions = [PRECEDENCE[code] for code in codes]
    assert positions == sorted(positions), f"failures out of precedence order: {codes}"


def assert_unchanged(
    ledger: Ledger,
    action: Callable[[], Outcome | list[Accepted] | list[Outcome]],
    *expected: Code,
    exact: bool = True,
    accounts: Iterable[str] = (),
) -> Refused:
    """Run `action`, which must be refused with the `expected` codes (exactly and in this order
    when `exact`, else at least these), and show that no table changed by a single byte."""
    before = snapshot(ledger, accounts)
    outcome = action()
    refused = outcome[0] if isinstance(outcome, list) else outcome
    assert isinstance(refused, Refused), f"expected a refusal with {expected}, got {outcome}"
    codes = [failure.code for failure in refused.failures]
    if exact:
        assert codes == list(expected), f"expected {list(expected)}, got {codes}"
    else:
        assert set(expected) <= set(codes), f"expected {list(expected)} among {codes}"
    assert_precedence_order(codes)
    for failure in refused.failures:
        assert failure.message, failure
    assert_snapshots_equal(before, snapshot(ledger, accounts))
    return refused


# -- tampering ------------------------------------------------------------------------------------


def execute_raw(ledger: Ledger, statement: str, params: Sequence[Any] = ()) -> None:
    """Change rows behind the ledger's back (the connections are in autocommit mode), once the
    read models show every committed entry."""
    ledger.project()
    store = ledger.store
    store.connection.execute(store.sql(statement), params)  # type: ignore[attr-defined]


def invariants_of(ledger: Ledger) -> set[str]:
    return {problem.invariant for problem in ledger.verify().problems}


# -- Hypothesis profiles --------------------------------------------------------------------------
# CARBONEX_HYPOTHESIS_PROFILE picks the effort: "dev" (default) keeps tests/ledger within a few
# minutes on two cores, "ci" runs ten times as many examples. The state machines that drive a
# real database do not shrink a failure by default (each shrink step builds a database, and
# shrinking a stateful failure can take many minutes); the failing steps are printed unshrunk.
# Set CARBONEX_HYPOTHESIS_SHRINK=1 to shrink them to a minimal example while investigating.

HYPOTHESIS_PROFILE = os.environ.get("CARBONEX_HYPOTHESIS_PROFILE", "dev")
SHRINK_DATABASE_MACHINES = os.environ.get("CARBONEX_HYPOTHESIS_SHRINK") == "1"
_NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate, Phase.target)
_COMMON: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
}
_DATABASE: dict[str, Any] = _COMMON | ({} if SHRINK_DATABASE_MACHINES else {"phases": _NO_SHRINK})
_PROFILES: dict[str, dict[str, dict[str, Any]]] = {
    "dev": {
        "stateful-sqlite": {"max_examples": 200, "stateful_step_count": 50, **_DATABASE},
        "stateful-postgres": {"max_examples": 25, "stateful_step_count": 30, **_DATABASE},
        "stateful-writer": {"max_examples": 20, "stateful_step_count": 30, **_DATABASE},
        "pure": {"max_examples": 200, **_COMMON},
        "pure-stateful": {"max_examples": 60, "stateful_step_count": 40, **_COMMON},
    },
    "ci": {
        "stateful-sqlite": {"max_examples": 1_000, "stateful_step_count": 100, **_DATABASE},
        "stateful-postgres": {"max_examples": 150, "stateful_step_count": 60, **_DATABASE},
        "stateful-writer": {"max_examples": 60, "stateful_step_count": 60, **_DATABASE},
        "pure": {"max_examples": 2_000, **_COMMON},
        "pure-stateful": {"max_examples": 500, "stateful_step_count": 100, **_COMMON},
    },
}
for _profile, _purposes in _PROFILES.items():
    for _purpose, _values in _purposes.items():
        settings.register_profile(f"carbonex-{_profile}-{_purpose}", **_values)


def hypothesis_settings(purpose: str) -> settings:
    """Settings of the active profile for `purpose`: stateful-sqlite, stateful-postgres,
    stateful-writer, pure or pure-stateful."""
    return settings(settings.get_profile(f"carbonex-{HYPOTHESIS_PROFILE}-{purpose}"))
