"""Validity periods: units may move up to and including their last valid day, and only expire
after it. A programme's validity (catalog `validity_years`) runs from the end of the vintage."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

import pytest

from carbonex.catalog import Catalog, default_catalog
from carbonex.catalog.loader import VALIDITY_YEARS_MAX
from carbonex.ledger import (
    Code,
    ConsumeHold,
    Convert,
    Expire,
    FreezeAccount,
    Issue,
    Ledger,
    PlaceHold,
    ReleaseHold,
    Selection,
    Transfer,
)
from carbonex.ledger.issuance import normalized
from carbonex.ledger.limits import VINTAGE_YEAR_MAX, VINTAGE_YEAR_MIN
from tests.conftest import FixedClock
from tests.ledger.support import (
    A64_SPACE,
    CER_2014,
    accept,
    assert_unchanged,
    held,
    issue,
    open_accounts,
    table_rows,
    vcu,
    vintage,
)


def catalog_with_validity(years: int, unit_type: str = "VCU") -> Catalog:
    catalog = default_catalog()
    unit_types = dict(catalog.unit_types)
    unit_types[unit_type] = replace(unit_types[unit_type], validity_years=years)
    return replace(catalog, unit_types=unit_types)


@pytest.fixture
def ledger_with_validity(database_url: str, clock: FixedClock) -> Iterator[Ledger]:
    """A ledger whose VCUs are valid for two years after the end of their vintage."""
    with Ledger.open(database_url, catalog_with_validity(2), clock) as opened:
        yield opened


def at(clock: FixedClock, day: dt.date) -> None:
    clock.now = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)


def test_units_of_a_programme_with_a_validity_period_are_valid_through_its_last_day(
    ledger_with_validity: Ledger, clock: FixedClock
) -> None:
    ledger = ledger_with_validity
    at(clock, dt.date(2022, 1, 1))  # entry times never go back: the story starts then
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
    at(clock, dt.date(2024, 3, 1))
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


@pytest.mark.parametrize("vintage_year", [1899, 2201, 9998])
def test_units_of_a_vintage_outside_the_ledgers_years_are_refused(
    ledger_with_validity: Ledger, vintage_year: int
) -> None:
    ledger = ledger_with_validity
    open_accounts(ledger, "A")
    command = Issue("i", "A", 10, vintage(vintage_year))
    refused = assert_unchanged(ledger, lambda: ledger.submit(command), Code.E_INVALID_ATTRIBUTES)
    assert f"vintage years must lie within {VINTAGE_YEAR_MIN}-{VINTAGE_YEAR_MAX}" in (
        refused.failures[0].message
    )


def test_the_last_vintage_year_with_the_longest_programme_validity_ends_within_the_calendar(
    database_url: str, clock: FixedClock
) -> None:
    catalog = catalog_with_validity(VALIDITY_YEARS_MAX)
    with Ledger.open(database_url, catalog, clock) as ledger:
        open_accounts(ledger, "A")
        issue(ledger, "A", 10, vintage(VINTAGE_YEAR_MIN))
        issue(ledger, "A", 10, vintage(VINTAGE_YEAR_MAX))
        valid_until = {row[11] for row in table_rows(ledger, "unit_attributes")}
    last = VINTAGE_YEAR_MAX + VALIDITY_YEARS_MAX
    assert valid_until == {f"{VINTAGE_YEAR_MIN + VALIDITY_YEARS_MAX}-12-31", f"{last}-12-31"}
    assert last < dt.MAXYEAR


def test_a_programme_validity_past_the_calendar_is_a_bug_the_limits_rule_out() -> None:
    unit_type = replace(default_catalog().unit_types["VCU"], validity_years=8_000)
    with pytest.raises(RuntimeError, match="limits changed"):
        normalized(vintage(VINTAGE_YEAR_MAX), unit_type)


def test_a_validity_given_up_to_the_last_day_of_year_9999_is_accepted(
    ledger_with_validity: Ledger,
) -> None:
    ledger = ledger_with_validity
    open_accounts(ledger, "A")
    issue(ledger, "A", 10, vintage(VINTAGE_YEAR_MAX, valid_until=dt.date(9999, 12, 31)))
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


def test_a_consume_of_units_past_their_validity_refused_for_its_accounts_reports_only_those(
    ledger: Ledger, clock: FixedClock
) -> None:
    """Accounts are checked before units: units' validity is reported only for usable accounts."""
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 10, vcu(valid_until=dt.date(2026, 3, 5)))
    accept(ledger, PlaceHold("h", "A", Selection("VCU", quantity=10), "order"))
    clock.advance(days=10)
    assert_unchanged(
        ledger,
        lambda: ledger.submit(ConsumeHold("to-nobody", "h", "transfer", "NOBODY")),
        Code.E_UNKNOWN_ACCOUNT,
    )
    accept(ledger, FreezeAccount("freeze-a", "A", "court order"))
    assert_unchanged(
        ledger,
        lambda: ledger.submit(ConsumeHold("to-b", "h", "transfer", "B")),
        Code.E_ACCOUNT_FROZEN,
    )


def converted_validity(ledger: Ledger) -> object:
    provenance = ledger.provenance(A64_SPACE, 1)
    assert provenance is not None
    return provenance["issuance"]["attributes"]["valid_until"]


def to_a64(quantity_t: int) -> Convert:
    return Convert("to-a64", "A", Selection("CER", quantity=quantity_t), "CDM-TO-A6.4")


@pytest.mark.parametrize(
    ("source_valid_until", "converted_valid_until"),
    [(None, "2016-12-31"), (dt.date(2015, 12, 31), "2015-12-31")],
    ids=["two-years-after-the-vintage", "never-longer-than-the-source"],
)
def test_converted_units_are_valid_as_long_as_the_target_programme_and_their_source_allow(
    database_url: str,
    clock: FixedClock,
    source_valid_until: dt.date | None,
    converted_valid_until: str,
) -> None:
    at(clock, dt.date(2015, 6, 1))
    with Ledger.open(database_url, catalog_with_validity(2, "A6.4ER"), clock) as ledger:
        open_accounts(ledger, "A")
        issue(ledger, "A", 100, replace(CER_2014, valid_until=source_valid_until))
        accept(ledger, to_a64(40))
        assert converted_validity(ledger) == converted_valid_until


def test_a_conversion_into_units_whose_validity_has_passed_is_refused(
    database_url: str, clock: FixedClock
) -> None:
    at(clock, dt.date(2017, 1, 1))
    with Ledger.open(database_url, catalog_with_validity(2, "A6.4ER"), clock) as ledger:
        open_accounts(ledger, "A")
        issue(ledger, "A", 100, CER_2014)
        refused = assert_unchanged(
            ledger, lambda: ledger.submit(to_a64(40)), Code.E_VALIDITY_PERIOD_PASSED
        )
        assert "CDM-TO-A6.4 would have been valid until 2016-12-31" in refused.failures[0].message
