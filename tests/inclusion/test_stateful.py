"""The carbon-inclusion registry against a model (Hypothesis), on SQLite and PostgreSQL.

People record actions (sometimes over their daily cap, sometimes resubmitting an id with the same
or other content), verifiers verify and reject (sometimes naming unknown actions), aggregators
aggregate periods (sometimes reusing an id). Each result is predicted by the model; a refusal must
leave every table unchanged. After every step: no balance or contribution is negative, every
aggregation's contributions add up to its units exactly, the aggregator holds exactly the issued
units, and per person the points of their aggregated actions equal what they contributed plus
what they carry (so no action's points were aggregated twice).

The catalog here makes 10 points one unit, so aggregations issue within a few steps.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from carbonex.inclusion.results import Aggregated, Recorded, Refusal, Reviewed
from carbonex.inclusion.rules import MILLI_PER_POINT, Code, Plan, aggregate, points_milli
from carbonex.inclusion.service import PAGE_SIZE_MAX, InclusionRegistry
from carbonex.ledger import Ledger
from tests.conftest import FixedClock
from tests.databases import OnPostgres, OnSqlite
from tests.inclusion.support import AGGREGATOR, CATALOG, every_table, open_aggregator
from tests.ledger.support import HYPOTHESIS_PROFILE

TEST_CATALOG = dataclasses.replace(CATALOG, points_per_unit=10)
UNIT_MILLI = TEST_CATALOG.points_per_unit * MILLI_PER_POINT
PEOPLE = ("P1", "P2", "P3", "P4")
ACTION_TYPES = ("ev_charging_kwh", "transit_trip_km", "electricity_saved_kwh")
QUANTITIES = tuple(Decimal(text) for text in ("0.5", "7", "12.345", "30", "60", "100"))
DAYS = tuple(dt.date(2026, 2, day) for day in (1, 2, 14, 15, 28))
PERIODS = (
    (dt.date(2026, 2, 1), dt.date(2026, 3, 1)),
    (dt.date(2026, 2, 1), dt.date(2026, 2, 15)),
    (dt.date(2026, 2, 15), dt.date(2026, 3, 1)),
)
EFFORT = 5 if HYPOTHESIS_PROFILE == "ci" else 1
"""CARBONEX_HYPOTHESIS_PROFILE=ci runs five times as many examples."""
_DATABASE_SETTINGS: dict[str, Any] = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "phases": (Phase.explicit, Phase.reuse, Phase.generate, Phase.target),
}


@dataclass
class ModelAction:
    person_id: str
    action_type: str
    quantity: Decimal
    day: dt.date
    points_milli: int
    status: str = "recorded"
    aggregation_id: str | None = None


@dataclass
class Model:
    actions: dict[str, ModelAction] = field(default_factory=dict)
    carried: dict[str, int] = field(default_factory=dict)
    aggregations: dict[str, tuple[tuple[dt.date, dt.date], Aggregated]] = field(
        default_factory=dict
    )

    def recorded_same_day(self, person_id: str, action_type: str, day: dt.date) -> Decimal:
        return sum(
            (
                a.quantity
                for a in self.actions.values()
                if (a.person_id, a.action_type, a.day) == (person_id, action_type, day)
                and a.status != "rejected"
            ),
            Decimal(0),
        )

    def carried_points_join(self, period: tuple[dt.date, dt.date]) -> bool:
        """Carried points join unless an aggregation before had a later period end (they could
        have been earned after this period)."""
        return all(earlier[1] <= period[1] for earlier, _ in self.aggregations.values())

    def available(self, period: tuple[dt.date, dt.date]) -> tuple[dict[str, int], list[str]]:
        carried = self.carried if self.carried_points_join(period) else {}
        points = {person: milli for person, milli in carried.items() if milli > 0}
        taken = []
        for action_id, a in self.actions.items():
            if a.status == "verified" and period[0] <= a.day < period[1]:
                points[a.person_id] = points.get(a.person_id, 0) + a.points_milli
                taken.append(action_id)
        return points, taken


class InclusionMachine(OnSqlite, RuleBasedStateMachine):
    """Runs on SQLite; `PostgresInclusionMachine` overrides where the database lives."""

    def __init__(self) -> None:
        super().__init__()
        self.url = self.new_database()
        self.ledger = Ledger.open(self.url, clock=FixedClock())
        self.registry = InclusionRegistry(self.ledger, TEST_CATALOG)
        self.model = Model()
        self.numbers = iter(range(1, 10**9))

    def teardown(self) -> None:
        try:
            if hasattr(self, "ledger"):
                report = self.ledger.verify()
                assert report.ok, report.problems
        finally:
            if hasattr(self, "ledger"):
                self.ledger.close()
            self.drop_database()

    @initialize()
    def the_aggregator_exists(self) -> None:
        open_aggregator(self.ledger)

    @initialize(
        charges=st.lists(
            st.tuples(st.sampled_from(PEOPLE), st.sampled_from(DAYS), st.sampled_from(QUANTITIES)),
            max_size=4,
        )
    )
    def some_people_charged_their_cars(self, charges: list[tuple[str, dt.date, Decimal]]) -> None:
        for person_id, day, quantity in charges:
            self.record(person_id, "ev_charging_kwh", quantity, day)
        self.verify_everything_recorded()

    def refused_unchanged(self, attempt: Any, *expected: Code) -> None:
        before = every_table(self.ledger)
        result = attempt()
        assert isinstance(result, Refusal), f"expected {expected}, got {result}"
        assert {failure.code for failure in result.failures} == set(expected), result
        assert every_table(self.ledger) == before

    # -- rules ----------------------------------------------------------------------------------

    @rule(
        person_id=st.sampled_from(PEOPLE),
        action_type=st.sampled_from(ACTION_TYPES),
        quantity=st.sampled_from(QUANTITIES),
        day=st.sampled_from(DAYS),
    )
    def record(self, person_id: str, action_type: str, quantity: Decimal, day: dt.date) -> None:
        action_id = f"a-{next(self.numbers)}"
        cap = TEST_CATALOG.action_types[action_type].daily_cap
        if self.model.recorded_same_day(person_id, action_type, day) + quantity > cap:
            event("record: over the daily cap")
            self.refused_unchanged(
                lambda: self.registry.record(action_id, person_id, action_type, quantity, day),
                Code.E_OVER_DAILY_CAP,
            )
            return
        result = self.registry.record(action_id, person_id, action_type, quantity, day)
        points = points_milli(TEST_CATALOG, action_type, quantity)
        assert isinstance(result, Recorded) and not result.duplicate, result
        assert result.points_milli == points
        self.model.actions[action_id] = ModelAction(person_id, action_type, quantity, day, points)

    @rule(data=st.data(), same=st.booleans())
    def resubmit_an_action(self, data: st.DataObject, same: bool) -> None:
        if not self.model.actions:
            return
        action_id = data.draw(st.sampled_from(sorted(self.model.actions)))
        known = self.model.actions[action_id]
        quantity = known.quantity if same else known.quantity + 1
        before = every_table(self.ledger)
        result = self.registry.record(
            action_id, known.person_id, known.action_type, quantity, known.day
        )
        if same:
            assert isinstance(result, Recorded) and result.duplicate, result
            assert (result.points_milli, result.status) == (known.points_milli, known.status)
        else:
            assert isinstance(result, Refusal) and result.codes == ["E_ACTION_ID_REUSED"]
        assert every_table(self.ledger) == before

    def some_actions(self, data: st.DataObject) -> list[str]:
        known = sorted(self.model.actions) or ["a-none"]
        named = data.draw(st.lists(st.sampled_from(known), max_size=6))
        if data.draw(st.integers(0, 9)) == 0:
            named.append("a-unknown")
        return named

    @rule(data=st.data())
    def verify(self, data: st.DataObject) -> None:
        ids = self.some_actions(data)
        statuses = [self.model.actions[i].status if i in self.model.actions else None for i in ids]
        expected = set()
        if None in statuses:
            expected.add(Code.E_UNKNOWN_ACTION)
        if "rejected" in statuses:
            expected.add(Code.E_ACTION_REJECTED)
        if expected:
            self.refused_unchanged(lambda: self.registry.verify(ids, "verifier"), *expected)
            return
        result = self.registry.verify(ids, "verifier")
        assert isinstance(result, Reviewed), result
        changed = tuple(dict.fromkeys(i for i in ids if self.model.actions[i].status == "recorded"))
        assert result.changed == changed
        for action_id in changed:
            self.model.actions[action_id].status = "verified"

    @rule()
    def verify_everything_recorded(self) -> None:
        ids = [i for i, a in self.model.actions.items() if a.status == "recorded"]
        result = self.registry.verify(ids, "verifier")
        assert result == Reviewed("verified", tuple(ids), ())
        for action_id in ids:
            self.model.actions[action_id].status = "verified"

    @rule(data=st.data())
    def reject(self, data: st.DataObject) -> None:
        ids = self.some_actions(data)
        statuses = [self.model.actions[i].status if i in self.model.actions else None for i in ids]
        expected = set()
        if None in statuses:
            expected.add(Code.E_UNKNOWN_ACTION)
        if "aggregated" in statuses:
            expected.add(Code.E_ACTION_ALREADY_AGGREGATED)
        if expected:
            self.refused_unchanged(lambda: self.registry.reject(ids, "auditor"), *expected)
            return
        result = self.registry.reject(ids, "auditor")
        assert isinstance(result, Reviewed), result
        for action_id in ids:
            self.model.actions[action_id].status = "rejected"

    @rule(period=st.sampled_from(PERIODS))
    def aggregate(self, period: tuple[dt.date, dt.date]) -> None:
        aggregation_id = f"g-{next(self.numbers)}"
        available, taken = self.model.available(period)
        joined = self.model.carried_points_join(period)
        plan = aggregate(available, TEST_CATALOG.points_per_unit)
        attempt = lambda: self.registry.aggregate(  # noqa: E731
            aggregation_id, AGGREGATOR, *period, project_id="CI-TEST", host_country="CN"
        )
        if not isinstance(plan, Plan):
            event("aggregate: nothing to issue")
            self.refused_unchanged(attempt, Code.E_NOTHING_TO_ISSUE)
            return
        event("aggregate: units issued")
        result = attempt()
        assert isinstance(result, Aggregated), result
        assert (result.units, result.people, result.actions) == (
            plan.units,
            len(plan.contributions),
            len(taken),
        )
        for action_id in taken:
            self.model.actions[action_id].status = "aggregated"
            self.model.actions[action_id].aggregation_id = aggregation_id
        event(f"aggregate: carried points {'join' if joined else 'stay'}")
        previous = self.model.carried
        self.model.carried = previous | {
            c.person_id: (0 if joined else previous.get(c.person_id, 0)) + c.carried_milli
            for c in plan.contributions
        }
        self.model.aggregations[aggregation_id] = (period, result)

    @rule(data=st.data(), same=st.booleans())
    def resubmit_an_aggregation(self, data: st.DataObject, same: bool) -> None:
        if not self.model.aggregations:
            return
        aggregation_id = data.draw(st.sampled_from(sorted(self.model.aggregations)))
        period, first = self.model.aggregations[aggregation_id]
        project_id = "CI-TEST" if same else "CI-OTHER"
        before = every_table(self.ledger)
        result = self.registry.aggregate(
            aggregation_id, AGGREGATOR, *period, project_id=project_id, host_country="CN"
        )
        if same:
            assert result == dataclasses.replace(first, duplicate=True)
        else:
            assert isinstance(result, Refusal) and result.codes == ["E_AGGREGATION_ID_REUSED"]
        assert every_table(self.ledger) == before

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def every_action_has_the_status_the_model_predicts(self) -> None:
        rows = self.ledger.store.query(
            "SELECT action_id, status, aggregation_id, points_milli FROM inclusion_actions"
        )
        found = {row[0]: (row[1], row[2], int(row[3])) for row in rows}
        expected = {
            action_id: (a.status, a.aggregation_id, a.points_milli)
            for action_id, a in self.model.actions.items()
        }
        assert found == expected

    @invariant()
    def points_are_never_negative(self) -> None:
        for person_id in PEOPLE:
            balance = self.registry.points(person_id)
            assert min(balance.verified_milli, balance.carried_milli, balance.pending_milli) >= 0
            assert balance.carried_milli == self.model.carried.get(person_id, 0)

    @invariant()
    def contributions_sum_to_the_issued_units_exactly(self) -> None:
        issued = 0
        for aggregation_id, (_, done) in self.model.aggregations.items():
            rows = self.registry.contributions(aggregation_id, limit=PAGE_SIZE_MAX)
            assert sum(row["used_milli"] for row in rows) == done.units * UNIT_MILLI
            for row in rows:
                assert 0 <= row["used_milli"] <= row["available_milli"]
            issued += done.units
        held = sum(h["quantity"] for h in self.ledger.holdings(AGGREGATOR))
        assert held == issued

    @invariant()
    def no_action_is_aggregated_twice(self) -> None:
        """Per person: the points of aggregated actions are exactly what was contributed plus
        what is carried; aggregating an action twice would count its points twice."""
        for person_id in PEOPLE:
            aggregated_milli = sum(
                a.points_milli
                for a in self.model.actions.values()
                if a.person_id == person_id and a.status == "aggregated"
            )
            balance = self.registry.points(person_id)
            assert aggregated_milli == balance.converted_milli + balance.carried_milli


class PostgresInclusionMachine(OnPostgres, InclusionMachine):
    pass


TestInclusionAgainstItsModelOnSqlite = InclusionMachine.TestCase
TestInclusionAgainstItsModelOnSqlite.settings = settings(
    max_examples=300 * EFFORT, stateful_step_count=40, **_DATABASE_SETTINGS
)
TestInclusionAgainstItsModelOnPostgres = pytest.mark.postgres(PostgresInclusionMachine.TestCase)
TestInclusionAgainstItsModelOnPostgres.settings = settings(
    max_examples=25 * EFFORT, stateful_step_count=30, **_DATABASE_SETTINGS
)
