"""A verified issuance goes through the ledger as one batch: issue, proponent, deductions."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from carbonex.catalog.standards import Deduction, default_project_catalog
from carbonex.ledger import FreezeAccount, Issue, Ledger, OpenAccount, Refused, UnitAttributes
from carbonex.projects.issuance import (
    IssuanceAccounts,
    IssuanceSetupError,
    issue_verified,
    issued_range,
)

A64_ATTRIBUTES = UnitAttributes(
    unit_type="A6.4ER",
    standard="Article 6.4 mechanism",
    project_id="A64-0001",
    vintage_start=dt.date(2026, 1, 1),
    vintage_end=dt.date(2026, 12, 31),
    host_country="GH",
    methodology="ACM0002",
)
ACCOUNTS = IssuanceAccounts(
    issuance_account_id="A64-ISSUANCE",
    proponent_account_id="SOLAR-GH",
    deduction_account_ids={"share_of_proceeds": "ADAPTATION-FUND", "omge": "OMGE"},
    buffer_account_id="BUFFER",
)


def a64_deductions() -> tuple[Deduction, ...]:
    return default_project_catalog().deductions["A6.4M"]


@pytest.fixture
def a64_ledger(ledger: Ledger) -> Ledger:
    opened = ledger.submit_many(
        [
            OpenAccount("open-1", "A64-ISSUANCE", "issuance", "A6.4 mechanism registry", "A64M"),
            OpenAccount("open-2", "SOLAR-GH", "company_holding", "Solar Ghana Ltd"),
            OpenAccount("open-3", "ADAPTATION-FUND", "share_of_proceeds", "Adaptation Fund"),
            OpenAccount("open-4", "OMGE", "omge_cancellation", "OMGE cancellation account"),
            OpenAccount("open-5", "BUFFER", "buffer_pool", "Mechanism buffer"),
        ]
    )
    assert all(outcome.accepted for outcome in opened)
    return ledger


def held(ledger: Ledger, account_id: str, state: str) -> int:
    return sum(h["quantity"] for h in ledger.holdings(account_id) if h["state"] == state)


def test_an_a64_issuance_of_a_million_sends_fifty_thousand_to_proceeds_and_cancels_twenty(
    a64_ledger: Ledger,
) -> None:
    split, outcome = issue_verified(
        a64_ledger, "req-1", A64_ATTRIBUTES, 1_000_000, a64_deductions(), ACCOUNTS
    )
    assert not isinstance(outcome, Refused)
    assert (split.share_of_proceeds_t, split.omge_cancelled_t) == (50_000, 20_000)
    assert held(a64_ledger, "ADAPTATION-FUND", "active") == 50_000
    assert held(a64_ledger, "OMGE", "cancelled") == 20_000
    assert held(a64_ledger, "SOLAR-GH", "active") == 930_000
    assert held(a64_ledger, "A64-ISSUANCE", "active") == 0
    assert a64_ledger.summary()["totals"]["issued"] == 1_000_000
    assert a64_ledger.verify().ok


def test_an_odd_quantity_creates_no_fraction_and_conserves_every_unit(a64_ledger: Ledger) -> None:
    split, outcome = issue_verified(
        a64_ledger, "req-odd", A64_ATTRIBUTES, 999_999, a64_deductions(), ACCOUNTS
    )
    assert not isinstance(outcome, Refused)
    assert (split.share_of_proceeds_t, split.omge_cancelled_t, split.to_proponent_t) == (
        49_999,
        20_000,
        930_000,
    )
    totals = a64_ledger.summary()["totals"]
    assert totals["held"] + totals["cancelled"] == totals["issued"] == 999_999


def test_a_resubmitted_issuance_request_issues_nothing_more(a64_ledger: Ledger) -> None:
    issue_verified(a64_ledger, "req-1", A64_ATTRIBUTES, 10_000, a64_deductions(), ACCOUNTS)
    _, again = issue_verified(
        a64_ledger, "req-1", A64_ATTRIBUTES, 10_000, a64_deductions(), ACCOUNTS
    )
    assert not isinstance(again, Refused)
    assert all(accepted.duplicate for accepted in again)
    assert a64_ledger.summary()["totals"]["issued"] == 10_000


def test_a_refused_distribution_issues_nothing(a64_ledger: Ledger) -> None:
    a64_ledger.submit(FreezeAccount("freeze", "SOLAR-GH", "sanctions screening"))
    _, outcome = issue_verified(
        a64_ledger, "req-2", A64_ATTRIBUTES, 10_000, a64_deductions(), ACCOUNTS
    )
    assert isinstance(outcome, Refused)
    assert "E_ACCOUNT_FROZEN" in outcome.codes
    assert a64_ledger.summary()["totals"]["issued"] == 0


def test_a_buffer_contribution_goes_to_the_buffer_pool(a64_ledger: Ledger) -> None:
    split, outcome = issue_verified(
        a64_ledger,
        "req-3",
        A64_ATTRIBUTES,
        1_000,
        a64_deductions(),
        ACCOUNTS,
        buffer_rate_share=Decimal("0.15"),
    )
    assert not isinstance(outcome, Refused)
    assert held(a64_ledger, "BUFFER", "active") == split.buffer_t == 150
    assert a64_ledger.verify().ok


def test_a_deduction_without_an_account_is_a_setup_error(a64_ledger: Ledger) -> None:
    accounts = IssuanceAccounts(
        "A64-ISSUANCE", "SOLAR-GH", {"share_of_proceeds": "ADAPTATION-FUND"}
    )
    with pytest.raises(IssuanceSetupError):
        issue_verified(a64_ledger, "req-4", A64_ATTRIBUTES, 1_000, a64_deductions(), accounts)
    assert a64_ledger.summary()["totals"]["issued"] == 0


def test_the_distribution_hands_out_the_units_just_issued_not_older_ones(
    a64_ledger: Ledger,
) -> None:
    older = a64_ledger.submit(Issue("direct", "A64-ISSUANCE", 100, A64_ATTRIBUTES))
    assert older.accepted
    split, outcome = issue_verified(
        a64_ledger, "req-5", A64_ATTRIBUTES, 100, a64_deductions(), ACCOUNTS
    )
    assert not isinstance(outcome, Refused)
    issued = issued_range(outcome[0])
    assert issued.first_serial == 101
    left = [(h["first_serial"], h["last_serial"]) for h in a64_ledger.blocks("A64-ISSUANCE")]
    assert left == [(1, 100)]
    proponent = a64_ledger.blocks("SOLAR-GH")
    assert [(h["first_serial"], h["last_serial"]) for h in proponent] == [
        (101, 100 + split.to_proponent_t)
    ]
    assert a64_ledger.verify().ok


def test_an_issue_whose_distribution_is_refused_is_undone_with_it(a64_ledger: Ledger) -> None:
    a64_ledger.submit(FreezeAccount("freeze-omge", "OMGE", "audit"))
    before = a64_ledger.head()
    _, outcome = issue_verified(
        a64_ledger, "req-6", A64_ATTRIBUTES, 1_000, a64_deductions(), ACCOUNTS
    )
    assert isinstance(outcome, Refused)
    assert "E_ACCOUNT_FROZEN" in outcome.codes
    assert a64_ledger.head() == before
    assert a64_ledger.holdings("A64-ISSUANCE") == []
