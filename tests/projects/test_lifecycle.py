"""The project lifecycle: every failure code, a full cycle, and a stateful Hypothesis test that
no illegal transition is ever accepted and history only grows."""

from __future__ import annotations

import calendar
import datetime as dt
import hashlib
from dataclasses import replace

from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from carbonex.catalog.standards import default_project_catalog
from carbonex.ledger.limits import VINTAGE_YEAR_MAX, VINTAGE_YEAR_MIN
from carbonex.projects.lifecycle import (
    NEEDS_PERIOD,
    NEEDS_QUANTITY,
    Action,
    Code,
    Period,
    Project,
    Result,
    Role,
    State,
    check_crediting_period,
    check_monitoring_period,
    check_renewal,
    transition,
)

CATALOG = default_project_catalog()
VCS = CATALOG.standards["VCS"]
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
DOC = [("report.pdf", hashlib.sha256(b"report").hexdigest())]
D = dt.date
SEVEN_YEARS = Period(D(2020, 1, 1), D(2027, 1, 1))

# Written out independently of lifecycle.TRANSITIONS, as the test's own model.
LEGAL = {
    ("draft", "list"): ("listed", "project_proponent"),
    ("listed", "validate"): ("validated", "validation_verification_body"),
    ("validated", "register"): ("registered", "standard_administrator"),
    ("registered", "renew_crediting_period"): ("registered", "standard_administrator"),
    ("registered", "submit_monitoring_report"): ("monitored", "project_proponent"),
    ("monitored", "verify"): ("verified", "validation_verification_body"),
    ("verified", "approve_issuance"): ("registered", "standard_administrator"),
    ("registered", "complete"): ("completed", "standard_administrator"),
    ("draft", "withdraw"): ("withdrawn", "project_proponent"),
    ("listed", "withdraw"): ("withdrawn", "project_proponent"),
    ("validated", "withdraw"): ("withdrawn", "project_proponent"),
    ("registered", "deregister"): ("deregistered", "standard_administrator"),
    ("monitored", "deregister"): ("deregistered", "standard_administrator"),
    ("verified", "deregister"): ("deregistered", "standard_administrator"),
    ("registered", "transition"): ("transitioned", "standard_administrator"),
    ("monitored", "reject_monitoring_report"): ("registered", "validation_verification_body"),
    ("registered", "record_cross_registry_evidence"): ("registered", "standard_administrator"),
    ("monitored", "record_cross_registry_evidence"): ("monitored", "standard_administrator"),
    ("verified", "record_cross_registry_evidence"): ("verified", "standard_administrator"),
    ("registered", "record_reversal"): ("registered", "standard_administrator"),
    ("monitored", "record_reversal"): ("monitored", "standard_administrator"),
    ("verified", "record_reversal"): ("verified", "standard_administrator"),
    ("completed", "record_reversal"): ("completed", "standard_administrator"),
    ("deregistered", "record_reversal"): ("deregistered", "standard_administrator"),
    ("transitioned", "record_reversal"): ("transitioned", "standard_administrator"),
}


def codes(result: Result) -> list[Code]:
    return [failure.code for failure in result.failures]


def accepted(result: Result) -> Project:
    assert result.project is not None, result.failures
    return result.project


def registered(category: str = "avoidance") -> Project:
    project = Project("P-1", VCS, category)
    project = accepted(transition(project, Action.LIST, "pp", Role.PROPONENT, T0, DOC))
    project = accepted(transition(project, Action.VALIDATE, "vvb", Role.VVB, T0, DOC))
    return accepted(
        transition(project, Action.REGISTER, "admin", Role.ADMINISTRATOR, T0, DOC, SEVEN_YEARS)
    )


def submit(on: Project, period: Period, claimed_t: int = 1000) -> Result:
    return transition(
        on, Action.SUBMIT_MONITORING, "pp", Role.PROPONENT, T0, DOC, period, claimed_t
    )


def verify(on: Project, verified_t: int = 900) -> Result:
    return transition(on, Action.VERIFY, "vvb", Role.VVB, T0, DOC, quantity_t=verified_t)


def approve(on: Project) -> Result:
    return transition(on, Action.APPROVE_ISSUANCE, "admin", Role.ADMINISTRATOR, T0)


def test_a_full_cycle() -> None:
    project = registered()
    first = Period(D(2020, 1, 1), D(2021, 1, 1))
    project = accepted(submit(project, first))
    project = accepted(verify(project))
    assert project.open_report()[1] is not None
    assert project.open_report()[1].quantity_t == 900  # type: ignore[union-attr]
    project = accepted(
        transition(project, Action.APPROVE_ISSUANCE, "admin", Role.ADMINISTRATOR, T0)
    )
    project = accepted(transition(project, Action.COMPLETE, "admin", Role.ADMINISTRATOR, T0))
    assert project.state is State.COMPLETED
    assert project.monitoring_periods == (first,)
    assert [event.action for event in project.history] == [
        Action.LIST,
        Action.VALIDATE,
        Action.REGISTER,
        Action.SUBMIT_MONITORING,
        Action.VERIFY,
        Action.APPROVE_ISSUANCE,
        Action.COMPLETE,
    ]


def test_illegal_transition_and_role() -> None:
    draft = Project("P-1", VCS, "avoidance")
    result = transition(draft, Action.VERIFY, "vvb", Role.VVB, T0, DOC)
    assert codes(result) == [Code.E_ILLEGAL_TRANSITION]
    assert codes(transition(draft, Action.LIST, "vvb", Role.VVB, T0, DOC)) == [
        Code.E_ROLE_NOT_PERMITTED
    ]


def test_actor_time_and_documents() -> None:
    draft = Project("P-1", VCS, "avoidance")
    listed = accepted(transition(draft, Action.LIST, "pp", Role.PROPONENT, T0, DOC))
    earlier = T0 - dt.timedelta(seconds=1)
    bad = [("", "ab" * 32), ("pdd.pdf", "not-a-hash"), ("x.pdf", "AB" * 32)]
    result = transition(listed, Action.VALIDATE, " ", Role.VVB, earlier, bad)
    assert codes(result) == [
        Code.E_ACTOR_MISSING,
        Code.E_TIME_BEFORE_LAST_EVENT,
        Code.E_DOCUMENT_NAME_EMPTY,
        Code.E_DOCUMENT_HASH_INVALID,
        Code.E_DOCUMENT_HASH_INVALID,
    ]
    assert codes(transition(listed, Action.VALIDATE, "vvb", Role.VVB, T0)) == [
        Code.E_DOCUMENT_MISSING
    ]
    assert codes(transition(listed, Action.VALIDATE, "vvb", Role.VVB, T0, DOC, SEVEN_YEARS)) == [
        Code.E_PERIOD_NOT_EXPECTED
    ]


def test_crediting_period_rules() -> None:
    project = registered()
    validated = project.history[1]
    assert validated.to_state is State.VALIDATED
    before = Project("P-1", VCS, "avoidance", State.VALIDATED, history=project.history[:2])

    def register(period: Period | None, on: Project = before) -> list[Code]:
        return codes(transition(on, Action.REGISTER, "admin", Role.ADMINISTRATOR, T0, DOC, period))

    assert register(None) == [Code.E_PERIOD_MISSING]
    assert register(Period(D(2020, 1, 1), D(2020, 1, 1))) == [Code.E_PERIOD_INVALID]
    # A period whose units the ledger would refuse to issue (vintages 1900-2200) is never recorded.
    assert register(Period(D(2195, 1, 1), D(2205, 1, 1))) == [Code.E_PERIOD_INVALID]
    assert register(Period(D(1895, 1, 1), D(1905, 1, 1))) == [Code.E_PERIOD_INVALID]
    # VCS non-AFOLU allows exactly 7 (renewable) or 10 (fixed) years: 8 years fits neither.
    assert register(Period(D(2020, 1, 1), D(2028, 1, 1))) == [
        Code.E_CREDITING_PERIOD_LENGTH_NOT_ALLOWED
    ]
    jurisdiction = Project("P-2", CATALOG.standards["JI"], "avoidance", State.VALIDATED)
    assert register(SEVEN_YEARS, jurisdiction) == [Code.E_CREDITING_RULE_NOT_ENCODED]
    # VCS removals: 20 to 100 years.
    forest = Project("P-3", VCS, "removal", State.VALIDATED)
    assert register(Period(D(2020, 1, 1), D(2050, 1, 1)), forest) == []


def test_renewals() -> None:
    project = registered()

    def renew(on: Project, period: Period) -> Result:
        return transition(on, Action.RENEW_CREDITING, "admin", Role.ADMINISTRATOR, T0, (), period)

    assert codes(renew(project, Period(D(2027, 1, 2), D(2034, 1, 2)))) == [
        Code.E_CREDITING_PERIOD_NOT_CONTIGUOUS
    ]
    second = accepted(renew(project, Period(D(2027, 1, 1), D(2034, 1, 1))))
    third = accepted(renew(second, Period(D(2034, 1, 1), D(2041, 1, 1))))
    # 7 years x 3 = 21 years: the third renewal is refused.
    assert codes(renew(third, Period(D(2041, 1, 1), D(2048, 1, 1)))) == [
        Code.E_CREDITING_PERIOD_LENGTH_NOT_ALLOWED,
        Code.E_CREDITING_RENEWALS_EXHAUSTED,
    ]


def test_monitoring_periods() -> None:
    project = registered()

    first = accepted(submit(project, Period(D(2020, 1, 1), D(2021, 1, 1))))
    first = accepted(verify(first))
    first = accepted(approve(first))
    assert codes(submit(first, Period(D(2020, 12, 31), D(2022, 1, 1)))) == [
        Code.E_MONITORING_PERIOD_OVERLAPS
    ]
    assert codes(submit(first, Period(D(2026, 1, 1), D(2027, 1, 2)))) == [
        Code.E_MONITORING_PERIOD_OUTSIDE_CREDITING,
        Code.E_MONITORING_PERIOD_NOT_ENDED,
    ]
    # Half-open periods: one may start the day the previous ends.
    assert accepted(submit(first, Period(D(2021, 1, 1), D(2022, 1, 1))))


def test_a_report_covers_a_period_that_has_ended() -> None:
    project = registered()
    today = T0.date()
    assert codes(submit(project, Period(D(2023, 6, 1), today + dt.timedelta(days=1)))) == [
        Code.E_MONITORING_PERIOD_NOT_ENDED
    ]
    # Half-open: a period ending today has had its last day yesterday.
    assert accepted(submit(project, Period(D(2023, 6, 1), today)))


def test_who_submitted_a_report_may_neither_verify_it_nor_approve_its_issuance() -> None:
    period = Period(D(2020, 1, 1), D(2021, 1, 1))
    monitored = accepted(submit(registered(), period))
    own = transition(monitored, Action.VERIFY, "pp", Role.VVB, T0, DOC, quantity_t=900)
    assert codes(own) == [Code.E_ACTOR_NOT_INDEPENDENT]
    own_rejection = transition(monitored, Action.REJECT_MONITORING, " pp ", Role.VVB, T0, DOC)
    assert codes(own_rejection) == [Code.E_ACTOR_NOT_INDEPENDENT]
    verified = accepted(verify(monitored))
    for actor in ("pp", "vvb"):
        approval = transition(verified, Action.APPROVE_ISSUANCE, actor, Role.ADMINISTRATOR, T0)
        assert codes(approval) == [Code.E_ACTOR_NOT_INDEPENDENT]
    assert accepted(approve(verified)).state is State.REGISTERED


def test_quantities_are_claimed_verified_and_never_verified_above_the_claim() -> None:
    project = registered()
    period = Period(D(2020, 1, 1), D(2021, 1, 1))
    no_quantity = transition(
        project, Action.SUBMIT_MONITORING, "pp", Role.PROPONENT, T0, DOC, period
    )
    assert codes(no_quantity) == [Code.E_QUANTITY_MISSING]
    assert codes(submit(project, period, 0)) == [Code.E_QUANTITY_INVALID]
    assert codes(submit(project, period, True)) == [Code.E_QUANTITY_INVALID]  # type: ignore[arg-type]
    monitored = accepted(submit(project, period, 1000))
    assert codes(verify(monitored, 1001)) == [Code.E_VERIFIED_EXCEEDS_CLAIMED]
    verified = accepted(verify(monitored, 1000))
    stray = transition(verified, Action.APPROVE_ISSUANCE, "a", Role.ADMINISTRATOR, T0, quantity_t=5)
    assert codes(stray) == [Code.E_QUANTITY_NOT_EXPECTED]


def test_a_rejected_monitoring_report_frees_its_period() -> None:
    period = Period(D(2020, 1, 1), D(2021, 1, 1))
    monitored = accepted(submit(registered(), period))
    rejected = accepted(transition(monitored, Action.REJECT_MONITORING, "vvb", Role.VVB, T0, DOC))
    assert rejected.state is State.REGISTERED and rejected.monitoring_periods == ()
    assert accepted(submit(rejected, period)).monitoring_periods == (period,)


def test_issuance_waits_for_evidence_from_every_other_registration() -> None:
    project = replace(registered(), other_registrations=("CDM:1234", "GS:99"))
    period = Period(D(2020, 1, 1), D(2021, 1, 1))
    verified = accepted(verify(accepted(submit(project, period))))

    def evidence(on: Project, registration: str | None, covers: Period) -> Result:
        return transition(
            on, Action.RECORD_EVIDENCE, "a", Role.ADMINISTRATOR, T0, DOC, covers,
            registration=registration,
        )  # fmt: skip

    assert codes(evidence(verified, None, period)) == [Code.E_REGISTRATION_MISSING]
    assert codes(evidence(verified, "VCS:1", period)) == [Code.E_REGISTRATION_UNKNOWN]
    assert codes(approve(verified)) == [Code.E_CROSS_REGISTRY_EVIDENCE_MISSING]
    partial = accepted(evidence(verified, "CDM:1234", Period(D(2020, 1, 1), D(2020, 7, 1))))
    partial = accepted(evidence(partial, "GS:99", Period(D(2019, 1, 1), D(2022, 1, 1))))
    [failure] = approve(partial).failures
    assert failure.code is Code.E_CROSS_REGISTRY_EVIDENCE_MISSING and "CDM:1234" in failure.message
    covered = accepted(evidence(partial, "CDM:1234", Period(D(2020, 1, 1), D(2021, 1, 1))))
    assert accepted(approve(covered)).state is State.REGISTERED


def test_check_monitoring_period() -> None:
    existing = [Period(D(2020, 1, 1), D(2021, 1, 1)), Period(D(2022, 1, 1), D(2023, 1, 1))]
    assert check_monitoring_period(existing, Period(D(2021, 1, 1), D(2022, 1, 1))) == []
    [failure] = check_monitoring_period(existing, Period(D(2020, 6, 1), D(2022, 6, 1)))
    assert failure.code is Code.E_MONITORING_PERIOD_OVERLAPS
    assert "2020-01-01" in failure.message and "2022-01-01" in failure.message


def test_a_crediting_period_at_the_calendars_end_is_judged_by_the_rule() -> None:
    # The rule alone: `transition` refuses such a period first (outside the vintage window).
    def register(category: str, period: Period) -> list[Code]:
        return [failure.code for failure in check_crediting_period(VCS, category, period)[1]]

    # VCS avoidance is exactly 7 or 10 years: the calendar's last year is too short.
    last_year = Period(D(9999, 1, 1), D(9999, 12, 31))
    assert register("avoidance", last_year) == [Code.E_CREDITING_PERIOD_LENGTH_NOT_ALLOWED]
    # VCS removals: 20 to 100 years; 100 years on is past the calendar, so 20 years fit.
    assert register("removal", Period(D(9979, 12, 31), D(9999, 12, 31))) == []


def test_a_renewal_at_the_calendars_end_is_judged_by_the_rule() -> None:
    def renew(first: Period, renewal: Period) -> list[Code]:
        option, _ = check_crediting_period(VCS, "removal", first)
        project = Project(
            "P-E", VCS, "removal", State.REGISTERED, crediting_option=option,
            crediting_periods=(first,),
        )  # fmt: skip
        return [failure.code for failure in check_renewal(project, renewal)]

    twenty_years = Period(D(9979, 1, 1), D(9999, 1, 1))
    last_year = Period(D(9999, 1, 1), D(9999, 12, 31))
    assert renew(twenty_years, last_year) == [Code.E_CREDITING_PERIOD_LENGTH_NOT_ALLOWED]
    # The 100-year total and the renewal's longest end both lie past the calendar.
    first = Period(D(9950, 1, 1), D(9970, 1, 1))
    assert renew(first, Period(D(9970, 1, 1), D(9999, 12, 31))) == []


def years_later(day: dt.date, years: int) -> tuple[int, int, int]:
    """The test's own model of "the same day `years` later", as a tuple: it has no last year."""
    year = day.year + years
    if (day.month, day.day) == (2, 29) and not calendar.isleap(year):
        return (year, 2, 28)
    return (year, day.month, day.day)


@settings(max_examples=300)
@given(
    standard=st.sampled_from(sorted(CATALOG.standards)),
    category=st.sampled_from(["avoidance", "removal"]),
    start=st.dates(min_value=D(9800, 1, 1)),
    end=st.dates(min_value=D(9800, 1, 1)),
)
def test_the_crediting_rule_near_the_calendars_end_accepts_exactly_the_periods_an_option_allows(
    standard: str, category: str, start: dt.date, end: dt.date
) -> None:
    options = CATALOG.standards[standard].crediting_options(category)
    option, _ = check_crediting_period(CATALOG.standards[standard], category, Period(start, end))
    end_tuple = (end.year, end.month, end.day)
    fits = any(
        years_later(start, o.years_min) <= end_tuple <= years_later(start, o.years_max)
        for o in options
    )
    assert (option is not None) == fits


@settings(max_examples=200)
@given(
    category=st.sampled_from(["avoidance", "removal"]),
    start=st.dates(min_value=D(1850, 1, 1), max_value=D(2250, 12, 31)),
    length_days=st.integers(1, 40 * 366),
)
def test_registration_accepts_only_periods_whose_units_the_ledger_could_issue(
    category: str, start: dt.date, length_days: int
) -> None:
    end = start + dt.timedelta(days=length_days)
    project = Project("P-H", VCS, category, State.VALIDATED)
    result = transition(
        project, Action.REGISTER, "a", Role.ADMINISTRATOR, T0, DOC, Period(start, end)
    )
    last_day = end - dt.timedelta(days=1)  # periods are half-open
    within = start.year >= VINTAGE_YEAR_MIN and last_day.year <= VINTAGE_YEAR_MAX
    if not within:
        assert codes(result) == [Code.E_PERIOD_INVALID]
    else:
        assert Code.E_PERIOD_INVALID not in codes(result)


class LifecycleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.project = Project("P-S", VCS, "avoidance", other_registrations=("CDM:1",))
        self.now = T0

    @rule(
        action=st.sampled_from(Action),
        role=st.sampled_from(Role),
        with_documents=st.booleans(),
        start_year=st.integers(2019, 2045),
        length_years=st.sampled_from([1, 7, 10]),
        quantity_t=st.integers(1, 2000),
        actor=st.sampled_from(["ann", "bob", "cyd"]),
    )
    def attempt(
        self,
        action: Action,
        role: Role,
        with_documents: bool,
        start_year: int,
        length_years: int,
        quantity_t: int,
        actor: str,
    ) -> None:
        period = Period(D(start_year, 1, 1), D(start_year + length_years, 1, 1))
        self.now += dt.timedelta(days=1)
        before = self.project
        takes_period = action in NEEDS_PERIOD
        result = transition(
            before,
            action,
            actor,
            role,
            self.now,
            DOC if with_documents else [],
            period if takes_period else None,
            quantity_t if action in NEEDS_QUANTITY else None,
            "CDM:1" if action is Action.RECORD_EVIDENCE else None,
        )
        legal = LEGAL.get((before.state.value, action.value))
        if result.project is None:
            assert result.failures
            if legal is None:
                assert result.failures[0].code is Code.E_ILLEGAL_TRANSITION
            return
        assert legal is not None and legal[1] == role.value
        if action in (Action.VERIFY, Action.REJECT_MONITORING, Action.APPROVE_ISSUANCE):
            assert actor not in {event.actor for event in before.open_report() if event}
        if action in (Action.VALIDATE, Action.VERIFY, Action.REJECT_MONITORING):
            assert actor not in {e.actor for e in before.history if e.role is Role.PROPONENT}
        if action is Action.REGISTER:
            assert actor not in {e.actor for e in before.history if e.action is Action.VALIDATE}
        after = result.project
        assert after.state.value == legal[0]
        assert after.history[: len(before.history)] == before.history
        assert len(after.history) == len(before.history) + 1
        assert after.history[-1].from_state == before.state
        self.project = after

    @invariant()
    def monitoring_periods_never_overlap(self) -> None:
        periods = self.project.monitoring_periods
        for index, period in enumerate(periods):
            assert check_monitoring_period(periods[:index], period) == []


LifecycleMachine.TestCase.settings = settings(max_examples=60, stateful_step_count=40)
TestLifecycle = LifecycleMachine.TestCase
