"""Rules the registry applies when it decides a new action, on both stores: a reversal is
bounded by what the project was issued and can be reported after deregistration or transition;
a project's risk rating is a plain fraction and its standard's buffer rule can serve it. Each
refusal is coded and changes nothing; histories recorded before a rule still load and verify."""

from __future__ import annotations

from typing import Any

import pytest

from carbonex.ledger import Ledger
from carbonex.projects import programme
from carbonex.projects import registry as registry_module
from carbonex.projects.events import ProjectRequest
from carbonex.projects.registry import ProjectParticulars, ProjectRegistry
from tests.databases import ledger_rows
from tests.projects import test_registry as shared
from tests.projects.test_registry import ADMIN, DOC, PROPONENT, VVB, ok, step

CREDITING = ("2020-01-01", "2050-01-01")


def forest(project_id: str, **overrides: Any) -> ProjectParticulars:
    fields: dict[str, Any] = {
        "project_id": project_id,
        "standard": "VCS",
        "category": "removal",
        "name": "Mau Forest restoration",
        "host_country": "KE",
        "methodology": "AR-ACM0003",
        "proponent_account_id": "FOREST-CO",
        "location": "-0.5,35.7",
        "risk_rating": "0.10",
    }
    return ProjectParticulars(**(fields | overrides))


def registered(registry: ProjectRegistry, particulars: ProjectParticulars) -> str:
    return shared.registered(registry, particulars, CREDITING)


def issued(registry: ProjectRegistry, project_id: str, tonnes: int, year: int = 2020) -> None:
    period = (f"{year}-01-01", f"{year + 1}-01-01")
    tag = f"{project_id}/{year}"
    ok(step(registry, f"{tag}/mr", project_id, "submit_monitoring_report", PROPONENT, period,
            tonnes))  # fmt: skip
    ok(step(registry, f"{tag}/verify", project_id, "verify", VVB, quantity_t=tonnes))
    ok(step(registry, f"{tag}/issue", project_id, "approve_issuance", ADMIN, documents=()))


def reversal(registry: ProjectRegistry, request_id: str, project_id: str, tonnes: int) -> Any:
    return step(registry, request_id, project_id, "record_reversal", ADMIN, quantity_t=tonnes)


def held(ledger: Ledger, account_id: str, state: str = "active") -> int:
    return sum(h["quantity"] for h in ledger.holdings(account_id) if h["state"] == state)


def test_a_project_issued_nothing_cannot_cancel_another_projects_buffer_contribution(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    issued(registry, registered(registry, forest("VCS-F1")), 1_000)
    assert held(ledger, "VERRA-BUFFER") == 100
    nothing_issued = registered(registry, forest("VCS-F2"))
    before = ledger_rows(ledger)
    refused = reversal(registry, "fire", nothing_issued, 100)
    assert refused.codes == ["E_REVERSAL_EXCEEDS_ISSUED"]
    assert "0 t issued" in refused.failures[0].message
    assert ledger_rows(ledger) == before and held(ledger, "VERRA-BUFFER") == 100


def test_a_projects_reversals_together_stay_within_its_gross_issued_tonnes(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    issued(registry, registered(registry, forest("VCS-F1", risk_rating="0.6")), 100)
    issued(registry, registered(registry, forest("VCS-F2", risk_rating="0.6")), 1_000)
    ok(reversal(registry, "fire-1", "VCS-F1", 60))
    ok(reversal(registry, "fire-2", "VCS-F1", 40))  # 100 t in all: everything it was issued
    before = ledger_rows(ledger)
    refused = reversal(registry, "fire-3", "VCS-F1", 1)
    assert refused.codes == ["E_REVERSAL_EXCEEDS_ISSUED"]
    assert "after 100 t reversed" in refused.failures[0].message
    assert ledger_rows(ledger) == before
    assert registry.project("VCS-F1")["state"] == "registered"  # type: ignore[index]
    assert registry.verify() == [] and ledger.verify().ok


def test_a_reversal_recorded_beyond_the_issued_tonnes_before_the_rule_still_verifies(
    registry: ProjectRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    issued(registry, registered(registry, forest("VCS-F1")), 1_000)
    nothing_issued = registered(registry, forest("VCS-F2"))
    monkeypatch.setattr(programme, "check_reversal", lambda *_args: [])
    ok(reversal(registry, "fire", nothing_issued, 100))
    monkeypatch.undo()
    assert registry.verify() == []
    assert reversal(registry, "fire", nothing_issued, 100).duplicate
    assert reversal(registry, "fire-2", nothing_issued, 1).codes == ["E_REVERSAL_EXCEEDS_ISSUED"]


@pytest.mark.parametrize("end", ["deregister", "transition"])
def test_a_reversal_is_reported_after_deregistration_or_transition_while_units_are_out(
    registry: ProjectRegistry, ledger: Ledger, end: str
) -> None:
    project_id = registered(registry, forest("VCS-F1"))
    issued(registry, project_id, 1_000)
    ok(step(registry, "end", project_id, end, ADMIN))
    reported = ok(reversal(registry, "fire", project_id, 50))
    assert reported.state == registry.project(project_id)["state"]  # type: ignore[index]
    assert held(ledger, "VERRA-BUFFER") == 50 and held(ledger, "VERRA-BUFFER", "cancelled") == 50
    assert registry.verify() == [] and ledger.verify().ok


@pytest.mark.parametrize(
    "rating", ["NaN", "Infinity", "-5", "sNaN", "1e999999999", "1.5", "0.1e0", " 0.1", "abc", ""]
)
@pytest.mark.parametrize("standard", ["GS", "CDM", "VCS"])
def test_a_risk_rating_that_is_no_plain_fraction_from_0_to_1_is_refused_at_creation(
    registry: ProjectRegistry, ledger: Ledger, rating: str, standard: str
) -> None:
    avoidance = {"category": "avoidance", "methodology": "ACM0002", "standard": standard}
    before = ledger_rows(ledger)
    outcome = registry.create("create", forest("P-1", risk_rating=rating, **avoidance), "pp")
    assert outcome.codes == ["E_RISK_RATING_INVALID"]
    assert ledger_rows(ledger) == before and registry.project("P-1") is None


@pytest.mark.parametrize("rating", ["0", "0.15", "0.6", "1", "1.0"])
def test_a_plain_fraction_from_0_to_1_is_a_risk_rating(
    registry: ProjectRegistry, rating: str
) -> None:
    gold = {"standard": "GS", "category": "avoidance", "methodology": "ACM0002"}
    ok(registry.create("create", forest("GS-1", risk_rating=rating, **gold), "pp"))


def test_a_removal_under_a_risk_rated_buffer_needs_a_rating_at_creation(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    before = ledger_rows(ledger)
    outcome = registry.create("create", forest("VCS-F9", risk_rating=None), "pp")
    assert outcome.codes == ["E_RISK_RATING_MISSING"]
    assert ledger_rows(ledger) == before and registry.project("VCS-F9") is None


def test_a_project_feeding_a_buffer_its_standard_has_not_encoded_is_refused_at_creation(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    a64 = {"standard": "A6.4M", "proponent_account_id": "SOLAR-GH", "risk_rating": None}
    before = ledger_rows(ledger)
    removal = registry.create("r1", forest("A64-R1", **a64), "pp")
    assert removal.codes == ["E_BUFFER_RULE_NOT_ENCODED"]
    rated = forest("A64-R2", **a64 | {"risk_rating": "0.1", "category": "avoidance",
                                      "methodology": "ACM0002"})  # fmt: skip
    assert registry.create("r2", rated, "pp").codes == ["E_BUFFER_RULE_NOT_ENCODED"]
    assert ledger_rows(ledger) == before
    avoidance = forest("A64-1", **a64 | {"category": "avoidance", "methodology": "ACM0002"})
    ok(registry.create("r3", avoidance, "pp"))  # feeds no buffer: nothing to encode


def test_projects_created_with_such_particulars_before_the_rule_still_load_and_verify(
    registry: ProjectRegistry, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(programme, "check_risk_rating", lambda *_args: [])
    unrated = registered(registry, forest("VCS-F9", risk_rating=None))
    gold = {"standard": "GS", "category": "avoidance", "methodology": "ACM0002"}
    ok(registry.create("junk", forest("GS-NAN", risk_rating="NaN", **gold), "pp"))
    monkeypatch.undo()
    assert registry.verify() == [] and ledger.verify().ok
    ok(step(registry, "deregister", unrated, "deregister", ADMIN))
    ok(step(registry, "withdraw", "GS-NAN", "withdraw", PROPONENT))
    assert registry.verify() == []


def test_the_proponent_who_created_the_project_may_not_validate_or_register_it(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    ok(registry.create("create", forest("VCS-F1"), "mei"))
    listing = ProjectRequest("VCS-F1", "list", "bob", PROPONENT, DOC)
    ok(registry.act("list", listing))
    before = ledger_rows(ledger)
    for request_id, actor in (("v1", "mei"), ("v2", "MEI"), ("v3", "Bob")):
        request = ProjectRequest("VCS-F1", "validate", actor, VVB, DOC)
        assert registry.preview(request)[0].code == "E_ACTOR_NOT_INDEPENDENT"
        assert registry.act(request_id, request).codes == ["E_ACTOR_NOT_INDEPENDENT"]
    assert ledger_rows(ledger) == before
    ok(registry.act("v4", ProjectRequest("VCS-F1", "validate", "vera", VVB, DOC)))
    register = ProjectRequest("VCS-F1", "register", "Vera", ADMIN, DOC, CREDITING)
    assert registry.act("r1", register).codes == ["E_ACTOR_NOT_INDEPENDENT"]
    assert registry.project("VCS-F1")["state"] == "validated"  # type: ignore[index]
    assert registry.verify() == []


def evidence(project_id: str) -> ProjectRequest:
    return ProjectRequest(project_id, "record_cross_registry_evidence", "registry-officer", ADMIN,
                          DOC, CREDITING, None, "CDM:9876")  # fmt: skip


def test_an_action_that_would_pass_the_event_cap_is_refused_with_a_code_and_changes_nothing(
    registry: ProjectRegistry, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_module, "PROJECT_EVENTS_MAX", 8)
    project_id = registered(registry, forest("VCS-F1", other_registrations=("CDM:9876",)))
    outcomes = registry.act_many([(f"e{n}", evidence(project_id)) for n in range(5)])
    assert [o.accepted for o in outcomes] == [True] * 4 + [False]  # events 5 to 8, then none
    assert outcomes[-1].codes == ["E_PROJECT_EVENTS_MAX"]
    ok(registry.act_many([(f"e{n}", evidence(project_id)) for n in range(4)])[-1])
    before = ledger_rows(ledger)
    for fresh in (registry, ProjectRegistry(ledger)):  # cached, and replayed from the store
        assert fresh.act("e9", evidence(project_id)).codes == ["E_PROJECT_EVENTS_MAX"]
        deregister = step(fresh, "end", project_id, "deregister", ADMIN)
        assert deregister.codes == ["E_PROJECT_EVENTS_MAX"]
        assert fresh.preview(evidence(project_id))[0].code == "E_PROJECT_EVENTS_MAX"
    assert ledger_rows(ledger) == before
    assert registry.verify() == [] and len(registry.project(project_id)["history"]) == 8  # type: ignore[index]


def test_a_history_recorded_past_the_cap_before_it_still_loads_verifies_and_refuses_more(
    registry: ProjectRegistry, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_module, "PROJECT_EVENTS_MAX", 12)
    project_id = registered(registry, forest("VCS-F1", other_registrations=("CDM:9876",)))
    ok(registry.act_many([(f"e{n}", evidence(project_id)) for n in range(6)])[-1])
    monkeypatch.setattr(registry_module, "PROJECT_EVENTS_MAX", 8)
    fresh = ProjectRegistry(ledger)
    assert fresh.verify() == []
    before = ledger_rows(ledger)
    assert step(fresh, "end", project_id, "deregister", ADMIN).codes == ["E_PROJECT_EVENTS_MAX"]
    assert ledger_rows(ledger) == before
