"""The lifecycle's independence rules (third-party validation and verification, DOMAIN.md
section 1) and reversals after a project's end, on the pure state machine: each refusal is
coded, and a history recorded before a rule still replays."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import replace

import pytest

from carbonex.catalog.standards import default_project_catalog
from carbonex.projects.lifecycle import Action, Code, Period, Project, Result, Role, State
from carbonex.projects.lifecycle import transition as _transition

VCS = default_project_catalog().standards["VCS"]
T0 = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
DOC = [("report.pdf", hashlib.sha256(b"report").hexdigest())]
D = dt.date
CREDITING = Period(D(2020, 1, 1), D(2050, 1, 1))
FIRST_YEAR = Period(D(2020, 1, 1), D(2021, 1, 1))


def transition(
    project: Project, action: Action, actor: str, role: Role, **kwargs: object
) -> Result:
    documents = [] if action in (Action.APPROVE_ISSUANCE, Action.DEREGISTER) else DOC
    return _transition(project, action, actor, role, T0, documents, **kwargs)  # type: ignore[arg-type]


def codes(result: Result) -> list[Code]:
    return [failure.code for failure in result.failures]


def accepted(result: Result) -> Project:
    assert result.project is not None, result.failures
    return result.project


def listed(created_by: str = "mei", lister: str = "mei") -> Project:
    project = Project("P-1", VCS, "removal", created_by=created_by)
    return accepted(transition(project, Action.LIST, lister, Role.PROPONENT))


def validated(validator: str = "vera") -> Project:
    return accepted(transition(listed(), Action.VALIDATE, validator, Role.VVB))


def registered() -> Project:
    project = validated()
    return accepted(
        transition(project, Action.REGISTER, "stan", Role.ADMINISTRATOR, period=CREDITING)
    )


def monitored(on: Project, submitter: str = "mei", period: Period = FIRST_YEAR) -> Project:
    submit = transition(
        on, Action.SUBMIT_MONITORING, submitter, Role.PROPONENT, period=period, quantity_t=1000
    )
    return accepted(submit)


def issued(on: Project) -> Project:
    verified = accepted(transition(on, Action.VERIFY, "vera", Role.VVB, quantity_t=1000))
    return accepted(transition(verified, Action.APPROVE_ISSUANCE, "stan", Role.ADMINISTRATOR))


@pytest.mark.parametrize(
    ("proponent", "validator"),
    [
        ("mei", "mei"),
        ("mei", "Mei"),
        ("mei", " MEI "),
        ("Strauß", "STRAUSS"),
        ("mei", "\uff2d\uff45\uff49"),  # Mei in full-width letters
        ("Zoé", "Zoe\u0301"),  # é composed, then as e and a combining accent
        ("\u212bngstr\u00f6m", "\u00c5ngstro\u0308m"),  # the Angstrom sign, Å; ö decomposed
    ],
)
def test_the_proponent_who_listed_the_project_may_not_validate_it_under_any_spelling(
    proponent: str, validator: str
) -> None:
    project = listed(created_by=proponent, lister=proponent)
    refused = transition(project, Action.VALIDATE, validator, Role.VVB)
    assert codes(refused) == [Code.E_ACTOR_NOT_INDEPENDENT]
    assert "proponent" in refused.failures[0].message
    assert project.state is State.LISTED and len(project.history) == 1


def test_who_created_the_project_may_not_validate_it_though_someone_else_listed_it() -> None:
    project = listed(created_by="Mei", lister="bob")
    assert codes(transition(project, Action.VALIDATE, "mei", Role.VVB)) == [
        Code.E_ACTOR_NOT_INDEPENDENT
    ]
    assert accepted(transition(project, Action.VALIDATE, "vera", Role.VVB)).state is State.VALIDATED


def test_who_validated_the_project_may_not_register_it() -> None:
    project = validated("vera")
    refused = transition(project, Action.REGISTER, "VERA", Role.ADMINISTRATOR, period=CREDITING)
    assert codes(refused) == [Code.E_ACTOR_NOT_INDEPENDENT]
    assert "validator" in refused.failures[0].message
    assert project.state is State.VALIDATED


@pytest.mark.parametrize("action", [Action.VERIFY, Action.REJECT_MONITORING])
def test_no_proponent_verifies_or_rejects_a_report_though_another_person_submitted_it(
    action: Action,
) -> None:
    report = monitored(registered(), submitter="bob")  # mei created and listed the project
    quantity_t = 1000 if action is Action.VERIFY else None
    for proponent in ("mei", "Mei", "BOB"):
        refused = transition(report, action, proponent, Role.VVB, quantity_t=quantity_t)
        assert codes(refused) == [Code.E_ACTOR_NOT_INDEPENDENT]
    assert accepted(transition(report, action, "vera", Role.VVB, quantity_t=quantity_t))


def test_who_submitted_an_earlier_report_may_not_verify_a_later_one() -> None:
    first = issued(monitored(registered(), submitter="bob"))
    second = monitored(first, submitter="mei", period=Period(D(2021, 1, 1), D(2022, 1, 1)))
    refused = transition(second, Action.VERIFY, "Bob", Role.VVB, quantity_t=1000)
    assert codes(refused) == [Code.E_ACTOR_NOT_INDEPENDENT]


def test_the_issuance_approver_differs_from_the_reports_people_in_any_case() -> None:
    report = monitored(registered(), submitter="mei")
    verified = accepted(transition(report, Action.VERIFY, "vera", Role.VVB, quantity_t=1000))
    for actor in ("MEI", "Vera"):
        refused = transition(verified, Action.APPROVE_ISSUANCE, actor, Role.ADMINISTRATOR)
        assert codes(refused) == [Code.E_ACTOR_NOT_INDEPENDENT]
        assert refused.project is None


def test_the_proponent_neither_registers_nor_approves_the_issuance_of_their_own_project() -> None:
    project = validated("vera")  # mei created and listed it
    refused = transition(project, Action.REGISTER, " Mei", Role.ADMINISTRATOR, period=CREDITING)
    assert codes(refused) == [Code.E_ACTOR_NOT_INDEPENDENT]
    assert "proponent" in refused.failures[0].message
    report = monitored(registered(), submitter="bob")  # bob submitted, mei created
    verified = accepted(transition(report, Action.VERIFY, "vera", Role.VVB, quantity_t=1000))
    refused = transition(verified, Action.APPROVE_ISSUANCE, "MEI", Role.ADMINISTRATOR)
    assert codes(refused) == [Code.E_ACTOR_NOT_INDEPENDENT]
    assert refused.project is None
    assert accepted(transition(verified, Action.APPROVE_ISSUANCE, "stan", Role.ADMINISTRATOR))


@pytest.mark.parametrize(
    ("action", "kwargs"),
    [
        (Action.RENEW_CREDITING, {"period": Period(D(2050, 1, 1), D(2080, 1, 1))}),
        (Action.RECORD_EVIDENCE, {"period": FIRST_YEAR, "registration": "CDM:1"}),
    ],
)
def test_the_proponent_neither_renews_nor_records_evidence_for_their_own_project(
    action: Action, kwargs: dict[str, object]
) -> None:
    project = replace(registered(), other_registrations=("CDM:1",))
    refused = transition(project, action, "mei", Role.ADMINISTRATOR, **kwargs)
    assert codes(refused) == [Code.E_ACTOR_NOT_INDEPENDENT]
    assert refused.project is None


def test_the_proponent_may_still_end_or_report_a_reversal_on_their_own_project() -> None:
    project = registered()
    for action in (Action.DEREGISTER, Action.COMPLETE):
        assert Code.E_ACTOR_NOT_INDEPENDENT not in codes(
            transition(project, action, "mei", Role.ADMINISTRATOR)
        )


def test_a_history_recorded_before_the_independence_rules_still_replays() -> None:
    project = Project("P-1", VCS, "removal", created_by="mei")
    for action, role, kwargs in (
        (Action.LIST, Role.PROPONENT, {}),
        (Action.VALIDATE, Role.VVB, {}),
        (Action.REGISTER, Role.ADMINISTRATOR, {"period": CREDITING}),
        (Action.SUBMIT_MONITORING, Role.PROPONENT, {"period": FIRST_YEAR, "quantity_t": 10}),
        (Action.VERIFY, Role.VVB, {"quantity_t": 10}),
    ):
        project = accepted(transition(project, action, "mei", role, admission=False, **kwargs))
    assert project.state is State.VERIFIED


@pytest.mark.parametrize("end", [Action.DEREGISTER, Action.TRANSITION])
def test_a_reversal_is_reported_after_deregistration_or_transition(end: Action) -> None:
    ended = accepted(transition(issued(monitored(registered())), end, "stan", Role.ADMINISTRATOR))
    reversal = transition(ended, Action.RECORD_REVERSAL, "stan", Role.ADMINISTRATOR, quantity_t=50)
    after = accepted(reversal)
    assert after.state is ended.state and after.history[-1].quantity_t == 50


def test_a_withdrawn_project_issued_nothing_and_reports_no_reversal() -> None:
    withdrawn = accepted(transition(listed(), Action.WITHDRAW, "mei", Role.PROPONENT))
    reversal = transition(
        withdrawn, Action.RECORD_REVERSAL, "stan", Role.ADMINISTRATOR, quantity_t=50
    )
    assert codes(reversal) == [Code.E_ILLEGAL_TRANSITION]
