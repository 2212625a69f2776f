"""The pure rules: what an action earns or why it is refused, and how an aggregation turns points
into whole units with each person's contribution."""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonex.dates import latest_day
from carbonex.inclusion.rules import (
    ID_LENGTH_MAX,
    MICRO_PER_ACTIVITY_UNIT,
    MILLI_PER_POINT,
    PRECEDENCE,
    Action,
    Code,
    Earned,
    Failure,
    Plan,
    aggregate,
    carried_points_join,
    points_by_person,
    points_milli,
    quantity_of,
    record_action,
)
from carbonex.text import ELLIPSIS, QUOTED_TEXT_LENGTH_MAX
from tests.conftest import START
from tests.inclusion.support import CATALOG
from tests.ledger.support import hypothesis_settings

TRANSIT = "transit_trip_km"
DAY = dt.date(2026, 2, 27)
ONE_UNIT_MILLI = CATALOG.points_per_unit * MILLI_PER_POINT


def action(**changes: object) -> Action:
    base = Action("trip-1", "P-001", TRANSIT, Decimal("12.5"), DAY)
    return dataclasses.replace(base, **changes)


def codes(outcome: object) -> list[Code]:
    assert isinstance(outcome, tuple), f"expected failures, got {outcome}"
    return [failure.code for failure in outcome]


# -- recording -------------------------------------------------------------------------------------


def test_an_action_earns_its_quantity_times_the_factor_in_points() -> None:
    outcome = record_action(CATALOG, action(), START)
    # 12.5 passenger-km x 0.06 kg CO2e per passenger-km = 0.75 kg = 0.75 points.
    assert outcome == Earned(points_milli=750, quantity_micro=12_500_000)


def test_points_are_rounded_down_to_a_whole_milli_point() -> None:
    # 0.001 kWh x 0.5703 kg = 0.0005703 kg = 0.5703 milli-points -> 0.
    assert points_milli(CATALOG, "electricity_saved_kwh", Decimal("0.001")) == 0
    # 1.234567 kWh x 0.5703 = 0.7040735601 kg -> 704 milli-points.
    assert points_milli(CATALOG, "electricity_saved_kwh", Decimal("1.234567")) == 704


def test_a_quantity_exactly_at_the_daily_cap_is_accepted() -> None:
    outcome = record_action(CATALOG, action(quantity=Decimal(100)), START)
    assert isinstance(outcome, Earned)
    assert outcome.points_milli == 6_000


def test_a_quantity_over_the_daily_cap_with_what_was_recorded_that_day_is_refused() -> None:
    outcome = record_action(CATALOG, action(quantity=Decimal("0.5")), START, Decimal("99.75"))
    assert codes(outcome) == [Code.E_OVER_DAILY_CAP]
    assert "99.75" in outcome[0].message  # type: ignore[index]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"action_id": ""}, Code.E_ACTION_ID_INVALID),
        ({"action_id": "has space"}, Code.E_ACTION_ID_INVALID),
        ({"action_id": "x" * 101}, Code.E_ACTION_ID_INVALID),
        ({"person_id": ""}, Code.E_PERSON_ID_INVALID),
        ({"person_id": "-leading-dash"}, Code.E_PERSON_ID_INVALID),
        ({"action_type": "teleport_km"}, Code.E_UNKNOWN_ACTION_TYPE),
        ({"quantity": Decimal(0)}, Code.E_QUANTITY_NOT_POSITIVE),
        ({"quantity": Decimal(-3)}, Code.E_QUANTITY_NOT_POSITIVE),
        ({"quantity": Decimal("NaN")}, Code.E_QUANTITY_NOT_POSITIVE),
        ({"quantity": Decimal("sNaN")}, Code.E_QUANTITY_NOT_POSITIVE),
        ({"quantity": Decimal("Infinity")}, Code.E_QUANTITY_NOT_POSITIVE),
        ({"quantity": 12.5}, Code.E_QUANTITY_INVALID),
        ({"quantity": Decimal("-Infinity")}, Code.E_QUANTITY_NOT_POSITIVE),
        ({"quantity": Decimal("-1e999999999")}, Code.E_QUANTITY_NOT_POSITIVE),
        ({"quantity": Decimal("1.0000001")}, Code.E_QUANTITY_TOO_PRECISE),
        ({"quantity": Decimal("1e-999999999")}, Code.E_QUANTITY_TOO_PRECISE),
        ({"quantity": Decimal("100.000001")}, Code.E_OVER_DAILY_CAP),
        ({"quantity": Decimal("1e999999")}, Code.E_OVER_DAILY_CAP),
        ({"quantity": Decimal("1e999999999")}, Code.E_OVER_DAILY_CAP),  # beyond the context
        ({"day": dt.date(2026, 3, 3)}, Code.E_DAY_IN_FUTURE),
        ({"day": dt.date(2025, 2, 27)}, Code.E_DAY_TOO_OLD),
    ],
)
def test_each_malformed_action_is_refused_with_its_code(
    changes: dict[str, object], expected: Code
) -> None:
    outcome = record_action(CATALOG, action(**changes), START)
    assert codes(outcome) == [expected]
    assert all(failure.message for failure in outcome)  # type: ignore[union-attr]


def test_a_quantity_far_beyond_the_daily_cap_is_quoted_briefly_in_the_refusal() -> None:
    # Written out, 1E+999999 is a million digits; the message quotes it in scientific notation.
    outcome = record_action(CATALOG, action(quantity=Decimal("1e999999")), START, Decimal("0.5"))
    assert codes(outcome) == [Code.E_OVER_DAILY_CAP]
    message = outcome[0].message  # type: ignore[index]
    assert message == (
        "0.5 passenger-km already recorded on 2026-02-27; 1E+999999 more would pass the daily "
        "cap of 100"
    )
    tiny = record_action(CATALOG, action(quantity=Decimal("-1.23456789012345e-999999999")), START)
    assert tiny[0].message == "quantity must be above zero, got -1.23456789012E-999999999"  # type: ignore[index]


def test_megabyte_long_ids_are_quoted_by_their_start_in_a_short_refusal() -> None:
    huge = "trip-" + "x" * 1_000_000
    outcome = record_action(
        CATALOG, action(action_id=huge, person_id=huge, action_type=huge), START
    )
    assert codes(outcome) == [
        Code.E_ACTION_ID_INVALID,
        Code.E_PERSON_ID_INVALID,
        Code.E_UNKNOWN_ACTION_TYPE,
    ]
    known_types_length = len(", ".join(CATALOG.action_types))  # the unknown type's message
    for failure in outcome:  # type: ignore[union-attr]
        assert len(failure.message) < 2 * QUOTED_TEXT_LENGTH_MAX + known_types_length
        assert f"'{huge[: QUOTED_TEXT_LENGTH_MAX - 1]}{ELLIPSIS}'" in failure.message
        assert failure.ids == (huge[: ID_LENGTH_MAX - 1] + ELLIPSIS,)


def test_a_refused_value_no_longer_than_an_id_is_carried_whole_in_the_failure_ids() -> None:
    spaced = "x" * (ID_LENGTH_MAX - 1) + " "
    outcome = record_action(CATALOG, action(action_id=spaced), START)
    assert codes(outcome) == [Code.E_ACTION_ID_INVALID]
    assert outcome[0].ids == (spaced,)  # type: ignore[index]
    assert spaced[: QUOTED_TEXT_LENGTH_MAX - 1] + ELLIPSIS in outcome[0].message  # type: ignore[index]


def test_trailing_zeros_do_not_make_a_quantity_too_precise() -> None:
    assert isinstance(record_action(CATALOG, action(quantity=Decimal("1.50000000")), START), Earned)


def test_an_action_of_a_day_begun_somewhere_on_earth_is_not_in_the_future() -> None:
    # At 12:00 UTC on 1 March it is already 2 March in UTC+14 (Kiribati), not yet 3 March.
    assert latest_day(START) == dt.date(2026, 3, 2)
    assert isinstance(record_action(CATALOG, action(day=dt.date(2026, 3, 2)), START), Earned)


@pytest.mark.parametrize(
    "day", [dt.datetime(2026, 2, 27, 9, 30, tzinfo=dt.UTC), "2026-02-27", 20260227, None]
)
def test_a_day_that_is_not_a_date_is_refused_naming_it_never_raising(day: object) -> None:
    outcome = record_action(CATALOG, action(day=day), START)
    assert codes(outcome) == [Code.E_DAY_INVALID]
    assert "date" in outcome[0].message  # type: ignore[index]


@pytest.mark.parametrize("quantity", [2, 2.5, "12.5", True, None])
def test_a_quantity_that_is_not_a_decimal_is_refused_as_such(quantity: object) -> None:
    outcome = record_action(CATALOG, action(quantity=quantity), START)
    assert codes(outcome) == [Code.E_QUANTITY_INVALID]
    assert "Decimal" in outcome[0].message  # type: ignore[index]


def test_the_recording_window_ends_after_its_last_day() -> None:
    window_days = CATALOG.recording_window_days
    oldest = START.date() - dt.timedelta(days=window_days)
    assert isinstance(record_action(CATALOG, action(day=oldest), START), Earned)
    too_old = oldest - dt.timedelta(days=1)
    assert codes(record_action(CATALOG, action(day=too_old), START)) == [Code.E_DAY_TOO_OLD]


def test_every_failure_of_an_action_is_listed_in_precedence_order() -> None:
    bad = action(
        action_id="",
        person_id="",
        action_type="teleport_km",
        quantity=Decimal(-1),
        day=dt.date(2030, 1, 1),
    )
    found = codes(record_action(CATALOG, bad, START))
    assert found == [
        Code.E_ACTION_ID_INVALID,
        Code.E_PERSON_ID_INVALID,
        Code.E_UNKNOWN_ACTION_TYPE,
        Code.E_QUANTITY_NOT_POSITIVE,
        Code.E_DAY_IN_FUTURE,
    ]
    assert [PRECEDENCE[code] for code in found] == sorted(PRECEDENCE[code] for code in found)


def test_the_daily_cap_is_checked_only_for_an_otherwise_valid_action() -> None:
    outcome = record_action(CATALOG, action(person_id="", quantity=Decimal(500)), START)
    assert codes(outcome) == [Code.E_PERSON_ID_INVALID]


def _decimal(sign: int, digits: tuple[int, ...], exponent: int) -> Decimal:
    # Decimal refuses a number whose adjusted exponent (its last digit's) passes MAX_EMAX.
    return Decimal((sign, digits, min(exponent, decimal.MAX_EMAX - len(digits) + 1)))


SPECIAL_QUANTITIES = ("NaN", "-NaN", "sNaN", "-sNaN", "NaN123", "Infinity", "-Infinity", "0",
                      "-0", "0E+999999999", "1e999999999", "-1e999999999", "1e-999999999",
                      "1e999999", "100", "100.000001", "0.000001", "99.999999")  # fmt: skip
extreme_quantities = st.one_of(
    st.sampled_from(SPECIAL_QUANTITIES).map(Decimal),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.builds(
        _decimal,
        st.integers(min_value=0, max_value=1),
        st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=40).map(tuple),
        st.integers(min_value=decimal.MIN_ETINY, max_value=decimal.MAX_EMAX),
    ),
    st.builds(  # within a few places of the cap and of the sixth decimal place
        _decimal,
        st.integers(min_value=0, max_value=1),
        st.lists(st.integers(min_value=0, max_value=9), min_size=1, max_size=12).map(tuple),
        st.integers(min_value=-8, max_value=4),
    ),
)
CAP_MICRO = int(CATALOG.action_types[TRANSIT].daily_cap * MICRO_PER_ACTIVITY_UNIT)
MESSAGE_LENGTH_MAX = 200


@hypothesis_settings("pure")
@given(
    quantity=extreme_quantities,
    recorded_micro=st.integers(min_value=0, max_value=CAP_MICRO),
)
def test_any_decimal_quantity_is_refused_or_earns_never_raising(
    quantity: Decimal, recorded_micro: int
) -> None:
    recorded = quantity_of(recorded_micro)
    outcome = record_action(CATALOG, action(quantity=quantity), START, recorded)
    if isinstance(outcome, Earned):
        assert quantity.is_finite() and quantity > 0
        assert outcome.quantity_micro == Fraction(quantity) * MICRO_PER_ACTIVITY_UNIT
        assert recorded_micro + outcome.quantity_micro <= CAP_MICRO
        return
    assert isinstance(outcome, tuple) and len(outcome) == 1
    failure = outcome[0]
    assert isinstance(failure, Failure)
    assert failure.code in {
        Code.E_QUANTITY_NOT_POSITIVE,
        Code.E_QUANTITY_TOO_PRECISE,
        Code.E_OVER_DAILY_CAP,
    }
    assert 0 < len(failure.message) <= MESSAGE_LENGTH_MAX


# -- aggregating -----------------------------------------------------------------------------------


def test_an_aggregation_issues_the_whole_units_and_shares_them_in_proportion() -> None:
    plan = aggregate({"A": 600_000, "B": 300_000, "C": 150_000}, 1_000)
    assert isinstance(plan, Plan)
    assert plan.units == 1 and plan.used_milli == 1_000_000
    # Shares of 1,000,000 milli-points: 571,428.57 / 285,714.29 / 142,857.14 -> floors add up
    # to 999,999; the largest remainder (A's .57) takes the last milli-point.
    used = {c.person_id: c.used_milli for c in plan.contributions}
    assert used == {"A": 571_429, "B": 285_714, "C": 142_857}
    carried = {c.person_id: c.carried_milli for c in plan.contributions}
    assert carried == {"A": 28_571, "B": 14_286, "C": 7_143}


def test_equal_remainders_give_the_extra_milli_point_to_the_lowest_person_id() -> None:
    plan = aggregate({"Z": 1_000_000, "A": 1_000_000, "M": 1_000_000}, 1_000)
    assert isinstance(plan, Plan)
    used = {c.person_id: c.used_milli for c in plan.contributions}
    # 3,000 points make 3 units exactly: everyone gives everything.
    assert used == {"A": 1_000_000, "M": 1_000_000, "Z": 1_000_000}
    plan = aggregate({"Z": 500_000, "A": 500_000, "M": 500_000}, 1_000)
    assert isinstance(plan, Plan)
    # 1,000,000 / 3 = 333,333.33 each: one milli-point left over, to A.
    assert [c.used_milli for c in plan.contributions] == [333_334, 333_333, 333_333]
    assert [c.person_id for c in plan.contributions] == ["A", "M", "Z"]


def test_fewer_points_than_one_unit_issue_nothing() -> None:
    outcome = aggregate({"A": ONE_UNIT_MILLI - 1}, CATALOG.points_per_unit)
    assert codes(outcome) == [Code.E_NOTHING_TO_ISSUE]
    assert codes(aggregate({}, CATALOG.points_per_unit)) == [Code.E_NOTHING_TO_ISSUE]


def test_negative_points_are_a_programming_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        aggregate({"A": -1, "B": 2_000_000}, 1_000)
    with pytest.raises(ValueError, match="points_per_unit"):
        aggregate({"A": 1}, 0)


def test_carried_points_join_the_actions_of_the_same_person() -> None:
    available = points_by_person([("A", 100), ("B", 5), ("A", 20)], {"A": 1, "C": 7})
    assert available == {"A": 121, "B": 5, "C": 7}


availability = st.dictionaries(
    st.text(alphabet="ABCDEFGHIJ0123456789", min_size=1, max_size=4),
    st.integers(min_value=0, max_value=5 * ONE_UNIT_MILLI),
    max_size=40,
)


@hypothesis_settings("pure")
@given(available=availability, points_per_unit=st.integers(min_value=1, max_value=2_000))
def test_contributions_sum_to_the_issued_units_exactly(
    available: dict[str, int], points_per_unit: int
) -> None:
    plan = aggregate(available, points_per_unit)
    total = sum(available.values())
    unit_milli = points_per_unit * MILLI_PER_POINT
    if total < unit_milli:
        assert codes(plan) == [Code.E_NOTHING_TO_ISSUE]
        return
    assert isinstance(plan, Plan)
    assert plan.units == total // unit_milli
    assert sum(c.used_milli for c in plan.contributions) == plan.units * unit_milli
    assert sum(c.carried_milli for c in plan.contributions) == total % unit_milli


@hypothesis_settings("pure")
@given(available=availability, points_per_unit=st.integers(min_value=1, max_value=2_000))
def test_no_one_contributes_more_than_they_have_nor_strays_from_their_share(
    available: dict[str, int], points_per_unit: int
) -> None:
    plan = aggregate(available, points_per_unit)
    if not isinstance(plan, Plan):
        return
    total = sum(available.values())
    assert [c.person_id for c in plan.contributions] == sorted(available)
    for contribution in plan.contributions:
        assert contribution.available_milli == available[contribution.person_id]
        assert 0 <= contribution.used_milli <= contribution.available_milli
        exact_share = Fraction(plan.used_milli * contribution.available_milli, total)
        assert abs(contribution.used_milli - exact_share) < 1


@hypothesis_settings("pure")
@given(available=availability, data=st.data())
def test_the_plan_does_not_depend_on_the_order_people_are_given_in(
    available: dict[str, int], data: st.DataObject
) -> None:
    shuffled = data.draw(st.permutations(list(available.items())))
    assert aggregate(dict(shuffled), 1_000) == aggregate(available, 1_000)


def test_carried_points_join_no_aggregation_ending_before_one_that_left_them() -> None:
    february_end, mid_february = dt.date(2026, 3, 1), dt.date(2026, 2, 15)
    assert carried_points_join(february_end, None)
    assert carried_points_join(february_end, february_end)
    assert carried_points_join(february_end, mid_february)
    assert not carried_points_join(mid_february, february_end)
