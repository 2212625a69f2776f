"""Validity periods: units may move up to and including their last valid day, and only expire
after it. A programme's validity (catalog `validity_years`) runs from the end of the vintage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

import pytest

from carbonex.catalog import Catalog, default_catalog
from carbonex.ledger import (
    Code,
    ConsumeHold,
    Expire,
    Issue,
    Ledger,
    PlaceHold,
    ReleaseHold,
    Selection,
    Transfer,
)
from tests.conftest import FixedClock
from tests.ledger.support import (
    accept,
    assert_unchanged,
    held,
    issue,
    open_accounts,
    table_rows,
    vcu,
    vintage,
)


def catalog_with_vcu_validity(years: int) -> Catalog:
    catalog = default_catalog()
    unit_types = dict(catalog.unit_types)
    unit_types["VCU"] = replace(unit_types["VCU"], validity_years=years)
    return replace(catalog, unit_types=unit_types)


@pytest.fixture
def ledger_with_validity(database_url: str, clock: FixedClock) -> Iterator[Ledger]:
    """A ledger whose VCUs are valid for two years after the end of their vintage."""
    with Ledger.open(database_url, catalog_with_vcu_validity(2), clock) as opened:
        yield opened


def at(clock: FixedClock, day: dt.date) -> None:
    clock.now = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


def test_units_of_a_programme_with_a_validity_period_are_valid_through_its_last_day(
    ledger_with_validity: Ledger, clock: FixedClock
) -> None:
    ledger = ledger_with_validity
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 10, vintage(2021))  # vintage ends 2021-12-31: valid through 2023-12-31
    [valid_until] = [row[11] for row in table_rows(ledger, "unit_attributes")]
    assert valid_until == "2023-12-31"
    at(clock, dt.date(2023, 12, 31))
    accept(ledger, Transfer("last-day", "A", "B", Selection("VCU", quantity=5)))
    at(clock, dt.date(2024, 1, 1))
    assert_unchanged(
        ledger,
        lambda: ledger.submit(Transfer("too-late", "A", "B", Selection("VCU", quantity=5))),
        Code.E_VALIDITY_PERIOD_PASSED,
    )
    accept(ledger, Expire("expire", "A", Selection("VCU", quantity=5)))
    assert held(ledger, "A", "expired") == 5


def test_a_vintage_ending_on_a_leap_day_stays_valid_through_the_last_day_of_february(
    ledger_with_validity: Ledger, clock: FixedClock
) -> None:
    ledger = ledger_with_validity
    open_accounts(ledger, "A", "B")
    leap = vcu(vintage_start=dt.date(2023, 3, 1), vintage_end=dt.date(2024, 2, 29))
    issue(ledger, "A", 10, leap)
    at(clock, dt.date(2026, 2, 28))
    accept(ledger, Transfer("last-day", "A", "B", Selection("VCU", quantity=5)))
    at(clock, dt.date(2026, 3, 1))
    assert_unchanged(
        ledger,
        lambda: ledger.submit(Transfer("too-late", "A", "B", Selection("VCU", quantity=5))),
        Code.E_VALIDITY_PERIOD_PASSED,
    )


def test_an_explicit_validity_end_wins_over_the_programme_period(
    ledger_with_validity: Ledger,
) -> None:
    ledger = ledger_with_validity
    open_accounts(ledger, "A")
    issue(ledger, "A", 10, vintage(2021, valid_until=dt.date(2022, 6, 30)))
    [valid_until] = [row[11] for row in table_rows(ledger, "unit_attributes")]
    assert valid_until == "2022-06-30"


@pytest.mark.parametrize(
    ("vintage_year", "validity_years"),
    [(9998, 2), (9900, 100)],
    ids=["vintage-9998", "vintage-9900-valid-for-a-century"],
)
def test_a_validity_ending_after_year_9999_is_refused(
    database_url: str, clock: FixedClock, vintage_year: int, validity_years: int
) -> None:
    catalog = catalog_with_vcu_validity(validity_years)
    with Ledger.open(database_url, catalog, clock) as ledger:
        open_accounts(ledger, "A")
        command = Issue("i", "A", 10, vintage(vintage_year))
        refused = assert_unchanged(
            ledger, lambda: ledger.submit(command), Code.E_INVALID_ATTRIBUTES
        )
        assert "after 9999-12-31, the last date the ledger can write" in refused.failures[0].message


def test_a_validity_ending_on_the_last_day_of_year_9999_is_accepted(
    ledger_with_validity: Ledger,
) -> None:
    ledger = ledger_with_validity
    open_accounts(ledger, "A")
    issue(ledger, "A", 10, vintage(9997))
    issue(ledger, "A", 10, vintage(9998, valid_until=dt.date(9999, 12, 31)))
    assert {row[11] for row in table_rows(ledger, "unit_attributes")} == {"9999-12-31"}


def test_units_without_a_validity_period_never_expire(ledger: Ledger, clock: FixedClock) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 10, vintage(1990))
    clock.advance(days=365 * 50)
    assert_unchanged(
        ledger,
        lambda: ledger.submit(Expire("expire", "A", Selection("VCU", quantity=1))),
        Code.E_VALIDITY_PERIOD_NOT_PASSED,
    )
    accept(ledger, Transfer("still-good", "A", "B", Selection("VCU", quantity=10)))


def test_expiry_takes_only_expired_units_and_leaves_valid_ones(
    ledger: Ledger, clock: FixedClock
) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 10)  # 1-10, no validity period
    issue(ledger, "A", 10, vcu(valid_until=dt.date(2026, 3, 1)))  # 11-20
    issue(ledger, "A", 10, vcu(valid_until=dt.date(2027, 3, 1)))  # 21-30
    clock.advance(days=30)
    assert_unchanged(
        ledger,
        lambda: ledger.submit(Expire("too-many", "A", Selection("VCU", quantity=11))),
        Code.E_VALIDITY_PERIOD_NOT_PASSED,
    )
    accept(ledger, Expire("expire", "A", Selection("VCU", quantity=10)))
    assert held(ledger, "A", "expired") == 10
    assert held(ledger, "A") == 20


@pytest.mark.parametrize(
    ("action", "details"),
    [
        ("transfer", {}),
        ("retire", {"beneficiary": "Beneficiary", "purpose": "claim"}),
    ],
    ids=["transfer", "retire"],
)
def test_units_whose_validity_passed_while_on_hold_cannot_leave_through_the_hold(
    ledger: Ledger, clock: FixedClock, action: str, details: dict[str, str]
) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 10, vcu(valid_until=dt.date(2026, 3, 5)))
    accept(ledger, PlaceHold("h", "A", Selection("VCU", quantity=10), "order"))
    clock.advance(days=10)
    target = "B" if action == "transfer" else None
    assert_unchanged(
        ledger,
        lambda: ledger.submit(ConsumeHold("consume", "h", action, target, details)),
        Code.E_VALIDITY_PERIOD_PASSED,
    )
    accept(ledger, ReleaseHold("release", "h"))
    accept(ledger, Expire("expire", "A", Selection("VCU", quantity=10)))
    assert held(ledger, "A", "expired") == 10
