"""What a retirement claims and when: a claim period names both days or neither, within the
years a vintage may have; a consumed hold's details follow the same rules as the command given
directly; dates in command records are exactly YYYY-MM-DD; validity never ends before the
vintage."""

from __future__ import annotations

import datetime as dt

import pytest

from carbonex.ledger import (
    CommandFormatError,
    ConsumeHold,
    Issue,
    Ledger,
    PlaceHold,
    Retire,
    Selection,
    command_from_record,
)
from carbonex.ledger.failures import Code
from tests.ledger.support import accept, assert_unchanged, issue, open_accounts, vcu

D = dt.date


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (D(1, 1, 1), D(9999, 12, 31)),
        (D(2030, 1, 1), None),
        (None, D(1800, 1, 1)),
        (D(2025, 12, 31), D(2025, 1, 1)),
    ],
    ids=["years 1 to 9999", "start only", "end only", "ends before it starts"],
)
def test_a_retirement_claim_period_is_two_days_within_the_vintage_years(
    ledger: Ledger, start: dt.date | None, end: dt.date | None
) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 10)
    claim = Retire("r", "A", Selection("VCU", quantity=1), "b", "p", start, end)
    assert_unchanged(ledger, lambda: ledger.submit(claim), Code.E_INVALID_COMMAND)


@pytest.mark.parametrize(
    "details",
    [
        {"beneficiary": "b", "purpose": "p", "claim_period_start": "garbage"},
        {"beneficiary": "b", "purpose": "p", "claim_period_start": "2025-01-01"},
        {"beneficiary": "b", "purpose": "p", "claim_period_start": "2025W011",
         "claim_period_end": "2025-12-31"},
        {"beneficiary": "b", "purpose": "p", "note": "y" * 2_000_000},
        {"beneficiary": "b", "purpose": "p", "claim_period_start": "0001-01-01",
         "claim_period_end": "9999-12-31"},
    ],
    ids=["garbage date", "start only", "week date", "a detail it takes not", "years 1-9999"],
)  # fmt: skip
def test_a_consumed_hold_claims_under_the_rules_of_a_retirement(
    ledger: Ledger, details: dict[str, str]
) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 10)
    accept(ledger, PlaceHold("h", "A", Selection("VCU", quantity=5), "pending retirement"))
    assert_unchanged(
        ledger,
        lambda: ledger.submit(ConsumeHold("consume", "h", "retire", None, details)),
        Code.E_INVALID_COMMAND,
    )
    claim = {"beneficiary": "b", "purpose": "p", "claim_period_start": "2025-01-01",
             "claim_period_end": "2025-12-31"}  # fmt: skip
    accept(ledger, ConsumeHold("consume-well", "h", "retire", None, claim))


@pytest.mark.parametrize("written", ["20210101", "2021W527", "2021-1-1"])
def test_a_command_record_writes_dates_exactly_yyyy_mm_dd(written: str) -> None:
    record = Issue("i", "A", 1, vcu()).to_record()
    record["attributes"]["vintage_start"] = written
    with pytest.raises(CommandFormatError, match="YYYY-MM-DD"):
        command_from_record(record)


def test_validity_never_ends_before_the_vintage(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    ends_early = Issue("i", "A", 10, vcu(valid_until=D(2021, 6, 30)))  # vintage ends 2021-12-31
    assert_unchanged(ledger, lambda: ledger.submit(ends_early), Code.E_INVALID_ATTRIBUTES)
