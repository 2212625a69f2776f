"""The carbon-inclusion registry on both stores: recording, review, points, aggregation into
issued units through the ledger, idempotency, and refusals that leave every table unchanged."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pytest

from carbonex.inclusion.results import Aggregated, Recorded, Refusal, Reviewed
from carbonex.inclusion.rules import ID_LENGTH_MAX, Code
from carbonex.inclusion.service import PAGE_SIZE_MAX, AggregationRequest, InclusionRegistry
from carbonex.ledger import FreezeAccount, Issue, Ledger
from carbonex.text import ELLIPSIS, QUOTED_TEXT_LENGTH_MAX
from tests.inclusion.support import (
    AGGREGATOR,
    CATALOG,
    ELECTRICITY,
    EV_CHARGING,
    EV_POINTS_MILLI_PER_KWH,
    FEBRUARY,
    FEBRUARY_10,
    charged,
    every_table,
    open_aggregator,
    people,
    record,
)

ONE_UNIT_MILLI = CATALOG.points_per_unit * 1000
HUGE_ID = "huge-" + "x" * 1_000_000
SHORT_REFUSAL_LENGTH_MAX = 1_000
"""Characters of a refusal's JSON form that quotes a megabyte-long id: its start only."""
# 34 people charging 100 kWh each: 34 x 30 = 1,020 points, one unit and 20 points over.
THIRTY_FOUR = dict.fromkeys(people(34), "100")


@pytest.fixture
def registry(ledger: Ledger) -> InclusionRegistry:
    open_aggregator(ledger)
    return InclusionRegistry(ledger)


def aggregate(
    registry: InclusionRegistry,
    aggregation_id: str = "AGG-2026-02",
    period: tuple[dt.date, dt.date] = FEBRUARY,
    account_id: str = AGGREGATOR,
    project_id: str = "CI-DEMO",
) -> Aggregated | Refusal:
    return registry.aggregate(
        aggregation_id, account_id, *period, project_id=project_id, host_country="CN"
    )


def aggregated(registry: InclusionRegistry, aggregation_id: str = "AGG-2026-02") -> Aggregated:
    result = aggregate(registry, aggregation_id)
    assert isinstance(result, Aggregated), result
    return result


def assert_refused_unchanged(
    registry: InclusionRegistry, attempt: Callable[[], object], *expected: Code
) -> Refusal:
    """`attempt` is refused with exactly `expected`, and no table changed by a single byte."""
    before = every_table(registry.ledger)
    result = attempt()
    assert isinstance(result, Refusal), f"expected a refusal with {expected}, got {result}"
    assert [failure.code for failure in result.failures] == list(expected)
    assert all(failure.message for failure in result.failures)
    assert every_table(registry.ledger) == before
    return result


def contributions(registry: InclusionRegistry, aggregation_id: str) -> dict[str, int]:
    rows = registry.contributions(aggregation_id, limit=PAGE_SIZE_MAX)
    return {row["person_id"]: row["used_milli"] for row in rows}


# -- recording ------------------------------------------------------------------------------------


def test_a_recorded_action_earns_points_only_once_verified(registry: InclusionRegistry) -> None:
    recorded = record(registry, "trip-1", "P-001", "12.5", action_type="transit_trip_km")
    assert (recorded.points_milli, recorded.status, recorded.duplicate) == (750, "recorded", False)
    assert registry.points("P-001").pending_milli == 750
    assert registry.points("P-001").available_milli == 0
    reviewed = registry.verify(["trip-1"], "metro-operator")
    assert reviewed == Reviewed("verified", ("trip-1",), ())
    balance = registry.points("P-001")
    assert (balance.available_milli, balance.pending_milli) == (750, 0)
    shown = registry.action("trip-1")
    assert shown is not None
    assert (shown["quantity"], shown["points"], shown["reviewed_by"]) == (
        "12.5",
        "0.75",
        "metro-operator",
    )


def test_recording_an_action_again_returns_the_first_result_and_changes_nothing(
    registry: InclusionRegistry,
) -> None:
    first = record(registry, "trip-1", "P-001", "12.5", action_type="transit_trip_km")
    before = every_table(registry.ledger)
    again = registry.record("trip-1", "P-001", "transit_trip_km", Decimal("12.500"), first.day)
    assert isinstance(again, Recorded) and again.duplicate
    assert (again.points_milli, again.quantity) == (first.points_milli, first.quantity)
    assert every_table(registry.ledger) == before


def test_reusing_an_action_id_for_other_content_is_refused(registry: InclusionRegistry) -> None:
    first = record(registry, "trip-1", "P-001", "12.5", action_type="transit_trip_km")
    for changed in (
        ("P-002", "transit_trip_km", Decimal("12.5"), first.day),
        ("P-001", "cycling_km", Decimal("12.5"), first.day),
        ("P-001", "transit_trip_km", Decimal("12.4"), first.day),
        ("P-001", "transit_trip_km", Decimal("NaN"), first.day),
        ("P-001", "transit_trip_km", Decimal("12.5"), first.day - dt.timedelta(days=1)),
    ):
        refusal = assert_refused_unchanged(
            registry, lambda c=changed: registry.record("trip-1", *c), Code.E_ACTION_ID_REUSED
        )
        assert refusal.failures[0].ids == ("trip-1",)


def test_a_megabyte_long_action_id_gives_a_short_refusal_naming_its_start(
    registry: InclusionRegistry,
) -> None:
    refusal = assert_refused_unchanged(
        registry,
        lambda: registry.record(HUGE_ID, "P-001", ELECTRICITY, Decimal(1), FEBRUARY_10),
        Code.E_ACTION_ID_INVALID,
    )
    assert refusal.request_id == HUGE_ID[: ID_LENGTH_MAX - 1] + ELLIPSIS
    assert HUGE_ID[: QUOTED_TEXT_LENGTH_MAX - 1] + ELLIPSIS in refusal.failures[0].message
    assert len(str(refusal.to_record())) < SHORT_REFUSAL_LENGTH_MAX


def test_reusing_a_long_action_id_quotes_its_start_and_names_it_whole_in_the_ids(
    registry: InclusionRegistry,
) -> None:
    longest = "t" * ID_LENGTH_MAX
    record(registry, longest, "P-001", "12.5")
    refusal = assert_refused_unchanged(
        registry,
        lambda: registry.record(longest, "P-002", ELECTRICITY, Decimal("12.5"), FEBRUARY_10),
        Code.E_ACTION_ID_REUSED,
    )
    failure = refusal.failures[0]
    assert f"'{longest[: QUOTED_TEXT_LENGTH_MAX - 1]}{ELLIPSIS}'" in failure.message
    assert failure.ids == (longest,) and refusal.request_id == longest


def test_verifying_a_megabyte_long_unknown_action_id_names_only_its_start(
    registry: InclusionRegistry,
) -> None:
    refusal = assert_refused_unchanged(
        registry, lambda: registry.verify([HUGE_ID], "operator"), Code.E_UNKNOWN_ACTION
    )
    assert refusal.failures[0].ids == (HUGE_ID[: ID_LENGTH_MAX - 1] + ELLIPSIS,)


def test_the_daily_cap_counts_what_the_person_recorded_earlier_that_day(
    registry: InclusionRegistry,
) -> None:
    record(registry, "kwh-1", "P-001", "20")
    assert_refused_unchanged(
        registry,
        lambda: registry.record("kwh-2", "P-001", ELECTRICITY, Decimal("10.5"), FEBRUARY_10),
        Code.E_OVER_DAILY_CAP,
    )
    record(registry, "kwh-2", "P-001", "10")  # exactly the cap of 30 kWh
    record(registry, "kwh-3", "P-001", "30", FEBRUARY_10 + dt.timedelta(days=1))  # another day
    record(registry, "kwh-4", "P-002", "30")  # another person
    record(registry, "ev-1", "P-001", "100", action_type=EV_CHARGING)  # another action type


def test_rejected_actions_do_not_count_towards_the_daily_cap(registry: InclusionRegistry) -> None:
    record(registry, "kwh-1", "P-001", "30")
    assert registry.reject(["kwh-1"], "auditor").accepted
    record(registry, "kwh-2", "P-001", "30")


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (("", "P-1", ELECTRICITY, Decimal(1), FEBRUARY_10), [Code.E_ACTION_ID_INVALID]),
        (("a-1", " ", ELECTRICITY, Decimal(1), FEBRUARY_10), [Code.E_PERSON_ID_INVALID]),
        (("a-1", "P-1", "walking_km", Decimal(1), FEBRUARY_10), [Code.E_UNKNOWN_ACTION_TYPE]),
        (("a-1", "P-1", ELECTRICITY, Decimal(0), FEBRUARY_10), [Code.E_QUANTITY_NOT_POSITIVE]),
        (("a-1", "P-1", ELECTRICITY, Decimal("1e-7"), FEBRUARY_10), [Code.E_QUANTITY_TOO_PRECISE]),
        (("a-1", "P-1", ELECTRICITY, Decimal(31), FEBRUARY_10), [Code.E_OVER_DAILY_CAP]),
        # Beyond the decimal context's range: refused without arithmetic, which would overflow.
        (("a-1", "P-1", ELECTRICITY, Decimal("1e999999999"), FEBRUARY_10), [Code.E_OVER_DAILY_CAP]),
        (
            ("a-1", "P-1", ELECTRICITY, Decimal("-1e999999999"), FEBRUARY_10),
            [Code.E_QUANTITY_NOT_POSITIVE],
        ),
        (
            ("a-1", "P-1", ELECTRICITY, Decimal("1e-999999999"), FEBRUARY_10),
            [Code.E_QUANTITY_TOO_PRECISE],
        ),
        (
            ("earlier", "P-1", ELECTRICITY, Decimal("1e999999999"), FEBRUARY_10),
            [Code.E_ACTION_ID_REUSED],
        ),
        (("a-1", "P-1", ELECTRICITY, Decimal(1), dt.date(2026, 3, 5)), [Code.E_DAY_IN_FUTURE]),
        (("a-1", "P-1", ELECTRICITY, Decimal(1), dt.date(2024, 1, 1)), [Code.E_DAY_TOO_OLD]),
        # A Python caller's day as text or a time, a quantity as a number: refused, never raised.
        (("a-1", "P-1", ELECTRICITY, Decimal(1), "2026-02-10"), [Code.E_DAY_INVALID]),
        (
            ("a-1", "P-1", ELECTRICITY, Decimal(1), dt.datetime(2026, 2, 10, tzinfo=dt.UTC)),
            [Code.E_DAY_INVALID],
        ),
        (("a-1", "P-1", ELECTRICITY, 2, FEBRUARY_10), [Code.E_QUANTITY_INVALID]),
        (
            ("", "", "walking_km", Decimal(-1), FEBRUARY_10),
            [
                Code.E_ACTION_ID_INVALID,
                Code.E_PERSON_ID_INVALID,
                Code.E_UNKNOWN_ACTION_TYPE,
                Code.E_QUANTITY_NOT_POSITIVE,
            ],
        ),
    ],
)
def test_a_refused_recording_leaves_every_table_unchanged(
    registry: InclusionRegistry,
    arguments: tuple[str, str, str, Decimal, dt.date],
    expected: list[Code],
) -> None:
    record(registry, "earlier", "P-1", "5")
    assert_refused_unchanged(registry, lambda: registry.record(*arguments), *expected)


# -- review ---------------------------------------------------------------------------------------


def test_verifying_is_all_or_nothing_and_names_the_unknown_actions(
    registry: InclusionRegistry,
) -> None:
    record(registry, "kwh-1", "P-001", "10")
    refusal = assert_refused_unchanged(
        registry,
        lambda: registry.verify(["kwh-1", "nope-1", "nope-2"], "verifier"),
        Code.E_UNKNOWN_ACTION,
    )
    assert refusal.failures[0].ids == ("nope-1", "nope-2")
    assert registry.points("P-001").available_milli == 0


def test_verifying_twice_changes_nothing_the_second_time(registry: InclusionRegistry) -> None:
    record(registry, "kwh-1", "P-001", "10")
    assert registry.verify(["kwh-1", "kwh-1"], "verifier") == Reviewed("verified", ("kwh-1",), ())
    before = every_table(registry.ledger)
    assert registry.verify(["kwh-1"], "other") == Reviewed("verified", (), ("kwh-1",))
    assert every_table(registry.ledger) == before


def test_a_rejected_action_cannot_be_verified_nor_an_aggregated_one_rejected(
    registry: InclusionRegistry,
) -> None:
    record(registry, "kwh-1", "P-001", "10")
    assert registry.reject(["kwh-1"], "auditor").accepted
    assert registry.points("P-001").pending_milli == 0
    assert_refused_unchanged(
        registry, lambda: registry.verify(["kwh-1"], "verifier"), Code.E_ACTION_REJECTED
    )
    ids = charged(registry, THIRTY_FOUR)
    aggregated(registry)
    assert_refused_unchanged(
        registry, lambda: registry.reject(ids[:1], "auditor"), Code.E_ACTION_ALREADY_AGGREGATED
    )
    assert registry.verify(ids[:1], "verifier") == Reviewed("verified", (), tuple(ids[:1]))


def test_a_review_needs_a_reviewer_and_a_bounded_list(registry: InclusionRegistry) -> None:
    record(registry, "kwh-1", "P-001", "10")
    assert_refused_unchanged(
        registry, lambda: registry.verify(["kwh-1"], "  "), Code.E_VERIFIER_INVALID
    )
    too_many = [f"a-{n}" for n in range(10_001)]
    assert_refused_unchanged(
        registry, lambda: registry.verify(too_many, "verifier"), Code.E_TOO_MANY_ACTIONS
    )


def test_a_reviewer_named_with_a_control_character_or_an_override_is_refused_naming_it(
    registry: InclusionRegistry,
) -> None:
    record(registry, "kwh-1", "P-001", "10")
    for review in (registry.verify, registry.reject):
        for character in ("\x1b", "\u202e"):
            refused = assert_refused_unchanged(
                registry, lambda review=review, c=character: review(["kwh-1"], f"operator{c}"),
                Code.E_TEXT_CHARACTER_NOT_ALLOWED,
            )  # fmt: skip
            assert refused.failures[0].ids == ("verifier", f"U+{ord(character):04X}")
            assert character not in refused.failures[0].message


def test_an_aggregation_whose_project_holds_a_control_character_is_refused_by_the_ledger(
    registry: InclusionRegistry,
) -> None:
    charged(registry, THIRTY_FOUR)
    refused = assert_refused_unchanged(
        registry, lambda: aggregate(registry, project_id="CI-DEMO\x1b[2J"), Code.E_LEDGER_REFUSED
    )
    assert refused.failures[0].ids == ("E_TEXT_CHARACTER_NOT_ALLOWED",)


def test_nobody_reviews_their_own_actions(registry: InclusionRegistry) -> None:
    record(registry, "kwh-1", "P-001", "10")
    record(registry, "kwh-2", "P-002", "10")
    for review in (registry.verify, registry.reject):
        refused = assert_refused_unchanged(
            registry, lambda review=review: review(["kwh-1", "kwh-2"], "P-002"),
            Code.E_VERIFIER_NOT_INDEPENDENT,
        )  # fmt: skip
        assert refused.failures[0].ids == ("kwh-2",)
    assert registry.verify(["kwh-2"], "P-001").accepted


def test_nobody_reviews_their_own_actions_under_another_case_or_encoding(
    registry: InclusionRegistry,
) -> None:
    record(registry, "kwh-1", "Mei-001", "10")
    for verifier in ("mei-001", "MEI-001", " Mei-001 ", "\uff2d\uff45\uff49-001"):  # full width
        assert_refused_unchanged(
            registry, lambda verifier=verifier: registry.verify(["kwh-1"], verifier),
            Code.E_VERIFIER_NOT_INDEPENDENT,
        )  # fmt: skip
    assert registry.verify(["kwh-1"], "Mei-002").accepted


# -- aggregating ----------------------------------------------------------------------------------


def test_an_aggregation_issues_whole_units_into_the_aggregators_account(
    registry: InclusionRegistry,
) -> None:
    charged(registry, THIRTY_FOUR)
    done = aggregated(registry)
    assert (done.units, done.unit_type, done.people, done.actions) == (1, "CIER", 34, 34)
    assert (done.points_used_milli, done.duplicate) == (ONE_UNIT_MILLI, False)
    assert (done.serial_space, done.first_serial, done.last_serial) == ("CARBONEX/CIER", 1, 1)
    holdings = registry.ledger.holdings(AGGREGATOR)
    assert [(h["unit_type"], h["project_id"], h["quantity"]) for h in holdings] == [
        ("CIER", "CI-DEMO", 1)
    ]
    assert (holdings[0]["vintage_start"], holdings[0]["vintage_end"]) == (
        "2026-02-01",
        "2026-02-28",
    )
    entry = registry.ledger.journal()[-1]
    assert (entry["seq"], entry["command_id"]) == (done.journal_seq, "inclusion:AGG-2026-02")
    assert registry.ledger.verify().ok


def test_contributions_sum_to_the_issued_units_exactly(registry: InclusionRegistry) -> None:
    charged(registry, THIRTY_FOUR | {"Q-1": "33.333", "Q-2": "66.667", "Q-3": "0.001"})
    done = aggregated(registry)
    used = contributions(registry, done.aggregation_id)
    assert sum(used.values()) == done.units * CATALOG.points_per_unit * 1000
    rows = registry.contributions(done.aggregation_id, limit=PAGE_SIZE_MAX)
    for row in rows:
        assert 0 <= row["used_milli"] <= row["available_milli"]
        assert row["carried_milli"] == row["available_milli"] - row["used_milli"]
        assert registry.points(row["person_id"]).carried_milli == row["carried_milli"]
        assert registry.points(row["person_id"]).converted_milli == row["used_milli"]


def test_every_aggregated_action_names_its_aggregation(registry: InclusionRegistry) -> None:
    ids = charged(registry, THIRTY_FOUR)
    done = aggregated(registry)
    for action_id in ids:
        shown = registry.action(action_id)
        assert shown is not None
        assert (shown["status"], shown["aggregation_id"]) == ("aggregated", done.aggregation_id)


def test_the_remainder_is_carried_to_the_next_aggregation(registry: InclusionRegistry) -> None:
    charged(registry, THIRTY_FOUR)
    first = aggregated(registry, "AGG-1")
    carried = sum(registry.points(p).carried_milli for p in THIRTY_FOUR)
    assert carried == 34 * 100 * EV_POINTS_MILLI_PER_KWH - ONE_UNIT_MILLI  # 20 points
    assert_refused_unchanged(
        registry, lambda: aggregate(registry, "AGG-2"), Code.E_NOTHING_TO_ISSUE
    )
    # 33 more people at 30 points: 990 + the 20 carried = 1,010 points, a second unit.
    later = FEBRUARY_10 + dt.timedelta(days=1)
    charged(registry, dict.fromkeys(people(33, "R"), "100"), later)
    second = aggregated(registry, "AGG-2")
    assert (first.units, second.units, second.people) == (1, 1, 34 + 33)
    assert second.first_serial == first.last_serial + 1
    assert sum(contributions(registry, "AGG-2").values()) == ONE_UNIT_MILLI
    left = sum(registry.points(p).available_milli for p in [*THIRTY_FOUR, *people(33, "R")])
    assert left == 10_000  # 10 points carried on


JANUARY = (dt.date(2026, 1, 1), dt.date(2026, 2, 1))
JANUARY_10 = dt.date(2026, 1, 10)


def test_points_carried_from_a_later_period_never_join_an_earlier_vintage(
    registry: InclusionRegistry,
) -> None:
    charged(registry, THIRTY_FOUR)
    aggregated(registry, "AGG-FEBRUARY")  # 20 points carried, earned on 10 February
    # January aggregated after February: 33 people at 30 points make 990, less than one unit;
    # February's 20 carried points would make it a unit of January's vintage.
    charged(registry, dict.fromkeys(people(33, "R"), "100"), JANUARY_10)
    assert_refused_unchanged(
        registry, lambda: aggregate(registry, "AGG-JANUARY", JANUARY), Code.E_NOTHING_TO_ISSUE
    )


def test_an_earlier_period_aggregated_later_keeps_what_was_carried_and_adds_its_own(
    registry: InclusionRegistry,
) -> None:
    charged(registry, THIRTY_FOUR)
    aggregated(registry, "AGG-FEBRUARY")
    charged(registry, dict.fromkeys(people(34, "R"), "100"), JANUARY_10)
    january = aggregate(registry, "AGG-JANUARY", JANUARY)
    assert isinstance(january, Aggregated), january
    assert (january.units, january.people, january.actions) == (1, 34, 34)
    assert set(contributions(registry, "AGG-JANUARY")) == set(people(34, "R"))
    carried = {p: registry.points(p).carried_milli for p in [*people(34), *people(34, "R")]}
    assert sum(carried[p] for p in people(34)) == 20_000  # February's, untouched
    assert sum(carried[p] for p in people(34, "R")) == 20_000  # January's own remainder
    for row in registry.contributions("AGG-JANUARY", limit=PAGE_SIZE_MAX):
        assert carried[row["person_id"]] == row["carried_milli"]
    # The same period aggregated again, or a later one, takes every carried point.
    charged(registry, dict.fromkeys(people(32, "S"), "100"), FEBRUARY_10)
    again = aggregate(registry, "AGG-FEBRUARY-2")
    assert isinstance(again, Aggregated), again
    assert (again.units, again.people) == (1, 34 + 34 + 32)
    assert registry.ledger.verify().ok


def test_a_period_yet_to_begin_is_refused_even_when_carried_points_make_a_unit(
    registry: InclusionRegistry,
) -> None:
    charged(registry, THIRTY_FOUR)
    aggregated(registry, "AGG-FEBRUARY")  # 20 points carried
    charged(registry, dict.fromkeys(people(66, "R"), "100"), JANUARY_10)  # 1,980 points
    assert isinstance(aggregate(registry, "AGG-JANUARY", JANUARY), Aggregated)  # 980 carried
    everyone = [*people(34), *people(66, "R")]
    assert sum(registry.points(p).carried_milli for p in everyone) == ONE_UNIT_MILLI
    next_year = (dt.date(2027, 1, 1), dt.date(2028, 1, 1))  # units of vintage 2027 in 2026
    refused = assert_refused_unchanged(
        registry, lambda: aggregate(registry, "AGG-2027", next_year), Code.E_PERIOD_INVALID
    )
    assert "2027-01-01 has not begun" in refused.failures[0].message


def test_an_aggregation_takes_only_verified_actions_of_its_period(
    registry: InclusionRegistry,
) -> None:
    charged(registry, THIRTY_FOUR)
    in_march = dt.date(2026, 3, 1)
    charged(registry, {"M-1": "100"}, in_march)
    record(registry, "unverified", "U-1", "100", FEBRUARY_10, EV_CHARGING)
    done = aggregated(registry)
    assert done.people == 34
    assert registry.points("M-1").verified_milli == 30_000
    assert registry.points("U-1").pending_milli == 30_000
    assert registry.action("unverified")["status"] == "recorded"  # type: ignore[index]


def test_resubmitting_an_aggregation_returns_the_original_result_and_changes_nothing(
    registry: InclusionRegistry,
) -> None:
    charged(registry, THIRTY_FOUR)
    first = aggregated(registry)
    charged(registry, dict.fromkeys(people(34, "R"), "100"))  # would make another unit
    before = every_table(registry.ledger)
    again = aggregate(registry)
    assert isinstance(again, Aggregated) and again.duplicate
    assert again == dataclasses.replace(first, duplicate=True)
    assert every_table(registry.ledger) == before


def test_reusing_an_aggregation_id_for_another_request_is_refused(
    registry: InclusionRegistry,
) -> None:
    charged(registry, THIRTY_FOUR)
    aggregated(registry)
    charged(registry, dict.fromkeys(people(34, "R"), "100"))
    for attempt in (
        lambda: aggregate(registry, project_id="CI-OTHER"),
        lambda: aggregate(registry, period=(dt.date(2026, 2, 1), dt.date(2026, 3, 2))),
    ):
        assert_refused_unchanged(registry, attempt, Code.E_AGGREGATION_ID_REUSED)


def test_a_ledger_refusal_rolls_the_whole_aggregation_back(registry: InclusionRegistry) -> None:
    charged(registry, THIRTY_FOUR)
    refusal = assert_refused_unchanged(
        registry, lambda: aggregate(registry, account_id="NOBODY"), Code.E_LEDGER_REFUSED
    )
    assert "E_UNKNOWN_ACCOUNT" in refusal.failures[0].ids
    assert registry.ledger.submit(FreezeAccount("freeze", AGGREGATOR, "audit")).accepted
    refusal = assert_refused_unchanged(registry, lambda: aggregate(registry), Code.E_LEDGER_REFUSED)
    assert "E_ACCOUNT_FROZEN" in refusal.failures[0].ids
    assert sum(registry.points(p).available_milli for p in THIRTY_FOUR) == 34 * 30_000


def test_the_ledger_refusing_a_megabyte_long_account_id_gives_a_short_refusal(
    registry: InclusionRegistry,
) -> None:
    charged(registry, THIRTY_FOUR)
    refusal = assert_refused_unchanged(
        registry, lambda: aggregate(registry, account_id=HUGE_ID), Code.E_LEDGER_REFUSED
    )
    assert refusal.failures[0].ids == ("E_UNKNOWN_ACCOUNT",)
    assert "E_UNKNOWN_ACCOUNT: unknown account 'huge-xxx" in refusal.failures[0].message
    assert len(str(refusal.to_record())) < SHORT_REFUSAL_LENGTH_MAX


def test_units_the_ledger_would_refuse_are_refused_whole(registry: InclusionRegistry) -> None:
    charged(registry, THIRTY_FOUR)
    refusal = assert_refused_unchanged(
        registry,
        lambda: registry.aggregate("A-X", AGGREGATOR, *FEBRUARY, project_id="P", host_country="XX"),
        Code.E_LEDGER_REFUSED,
    )
    assert refusal.failures[0].ids == ("E_INVALID_ATTRIBUTES",)


def test_a_ledger_command_id_used_outside_carbon_inclusion_is_not_taken_over(
    registry: InclusionRegistry,
) -> None:
    charged(registry, THIRTY_FOUR)
    # Exactly the issue the aggregation would submit, submitted directly beforehand.
    request = AggregationRequest("AGG-2026-02", AGGREGATOR, *FEBRUARY, "CI-DEMO", "CN")
    issue = Issue(request.command_id, AGGREGATOR, 1, registry.attributes(request))
    assert registry.ledger.submit(issue).accepted
    assert_refused_unchanged(registry, lambda: aggregate(registry), Code.E_LEDGER_COMMAND_ID_TAKEN)


@pytest.mark.parametrize(
    ("aggregation_id", "period", "expected"),
    [
        ("AGG 1", FEBRUARY, [Code.E_AGGREGATION_ID_INVALID]),
        ("AGG-1", (dt.date(2026, 3, 1), dt.date(2026, 3, 1)), [Code.E_PERIOD_INVALID]),
        (
            "",
            (dt.date(2026, 3, 1), dt.date(2026, 2, 1)),
            [Code.E_AGGREGATION_ID_INVALID, Code.E_PERIOD_INVALID],
        ),
        # Points whose vintage the ledger would refuse are never gathered.
        ("AGG-1", (dt.date(2200, 12, 1), dt.date(2201, 1, 2)), [Code.E_PERIOD_INVALID]),
        ("AGG-1", (dt.date(1899, 12, 31), dt.date(1900, 1, 2)), [Code.E_PERIOD_INVALID]),
        # A Python caller's period as times or texts: refused, never raised.
        ("AGG-1", (dt.datetime(2026, 2, 1, tzinfo=dt.UTC), FEBRUARY[1]), [Code.E_PERIOD_INVALID]),
        ("AGG-1", ("2026-02-01", "2026-03-01"), [Code.E_PERIOD_INVALID]),
    ],
)
def test_a_malformed_aggregation_is_refused_and_changes_nothing(
    registry: InclusionRegistry,
    aggregation_id: str,
    period: tuple[dt.date, dt.date],
    expected: list[Code],
) -> None:
    charged(registry, THIRTY_FOUR)
    assert_refused_unchanged(
        registry, lambda: aggregate(registry, aggregation_id, period), *expected
    )


def test_too_few_points_issue_nothing_and_change_nothing(registry: InclusionRegistry) -> None:
    charged(registry, dict.fromkeys(people(33), "100"))  # 990 points
    refusal = assert_refused_unchanged(
        registry, lambda: aggregate(registry), Code.E_NOTHING_TO_ISSUE
    )
    assert "990" in refusal.failures[0].message


# -- queries --------------------------------------------------------------------------------------


def test_a_persons_history_pages_by_day_then_action_id(registry: InclusionRegistry) -> None:
    for offset in range(5):
        day = FEBRUARY_10 + dt.timedelta(days=offset % 3)
        record(registry, f"kwh-{offset}", "P-001", "1", day)
    record(registry, "other", "P-002", "1")
    pages, after = [], None
    while True:
        page = registry.history("P-001", limit=2, after=after)
        if not page:
            break
        pages.append([row["action_id"] for row in page])
        after = (page[-1]["day"], page[-1]["action_id"])
    assert pages == [["kwh-0", "kwh-3"], ["kwh-1", "kwh-4"], ["kwh-2"]]
    assert len(registry.history("P-001", limit=10**9)) == 5  # capped at PAGE_SIZE_MAX, not refused


def test_contributions_page_by_person_id(registry: InclusionRegistry) -> None:
    charged(registry, THIRTY_FOUR)
    aggregated(registry)
    first = registry.contributions("AGG-2026-02", limit=30)
    rest = registry.contributions("AGG-2026-02", limit=30, after_person_id=first[-1]["person_id"])
    assert [row["person_id"] for row in first + rest] == sorted(THIRTY_FOUR)
    assert registry.contributions("NOPE") == []
    assert registry.aggregation("NOPE") is None
    found = registry.aggregation("AGG-2026-02")
    assert found is not None and (found["units"], found["points_used"]) == (1, "1000")


def test_a_person_without_actions_has_no_points(registry: InclusionRegistry) -> None:
    balance = registry.points("NOBODY")
    assert balance.to_record()["available"] == "0"
    assert (balance.available_milli, balance.pending_milli, balance.converted_milli) == (0, 0, 0)
