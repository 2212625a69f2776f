"""The kernel round trip on both stores: open, issue, transfer, verify."""

import datetime as dt

from carbonex.ledger import (
    Issue,
    Ledger,
    OpenAccount,
    Selection,
    Transfer,
    UnitAttributes,
)


def test_issued_units_transfer_and_verify_on_each_store(ledger: Ledger) -> None:
    attributes = UnitAttributes(
        "VCU", "Verra VCS", "VCS-1", dt.date(2021, 1, 1), dt.date(2021, 12, 31), "SG"
    )
    outcomes = ledger.submit_many(
        [
            OpenAccount("open-a", "A", "company_holding", "Acme"),
            OpenAccount("open-b", "B", "company_holding", "Beta"),
            Issue("issue-1", "A", 1_000, attributes),
            Transfer("move-1", "A", "B", Selection("VCU", quantity=250)),
        ]
    )
    assert all(outcome.accepted for outcome in outcomes)
    assert [h["quantity"] for h in ledger.holdings("B")] == [250]
    assert ledger.verify().ok
