"""The project registry, persisted on both stores: the cycle from draft to issued units, the
double-issuance guards, deductions and buffer, reversals, idempotency, and verification."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest

from carbonex.catalog.standards import ProjectCatalog
from carbonex.ledger import CloseAccount, FreezeAccount, Ledger, OpenAccount
from carbonex.projects import registry as registry_module
from carbonex.projects.events import ProjectRequest, apply_request
from carbonex.projects.outcomes import ProjectOutcome
from carbonex.projects.registry import ProjectParticulars, ProjectRegistry
from tests.databases import ledger_rows

DOC = (("report.pdf", hashlib.sha256(b"report").hexdigest()),)
PROPONENT, VVB, ADMIN = (
    "project_proponent",
    "validation_verification_body",
    "standard_administrator",
)


def ok(outcome: ProjectOutcome) -> ProjectOutcome:
    assert outcome.accepted, outcome.failures
    return outcome


ACTOR_OF_ROLE = {PROPONENT: "proponent-rep", VVB: "vvb-auditor", ADMIN: "registry-officer"}
"""A different person per role: who verifies or approves a report did not submit it."""


def solar(project_id: str = "A64-0001", **overrides: Any) -> ProjectParticulars:
    fields: dict[str, Any] = {
        "project_id": project_id,
        "standard": "A6.4M",
        "category": "avoidance",
        "name": "Accra Solar Park",
        "host_country": "GH",
        "methodology": "ACM0002",
        "proponent_account_id": "SOLAR-GH",
        "location": "5.6037,-0.1870",
    }
    return ProjectParticulars(**(fields | overrides))


def step(
    registry: ProjectRegistry,
    request_id: str,
    project_id: str,
    action: str,
    role: str,
    period: tuple[str, str] | None = None,
    quantity_t: int | None = None,
    registration: str | None = None,
    documents: tuple[tuple[str, str], ...] = DOC,
) -> ProjectOutcome:
    actor = ACTOR_OF_ROLE[role]
    request = ProjectRequest(
        project_id, action, actor, role, documents, period, quantity_t, registration
    )
    return registry.act(request_id, request)


def registered(
    registry: ProjectRegistry, particulars: ProjectParticulars, crediting: tuple[str, str]
) -> str:
    project_id = particulars.project_id
    ok(registry.create(f"{project_id}/create", particulars, "pp"))
    ok(step(registry, f"{project_id}/list", project_id, "list", PROPONENT))
    ok(step(registry, f"{project_id}/validate", project_id, "validate", VVB))
    ok(step(registry, f"{project_id}/register", project_id, "register", ADMIN, crediting))
    return project_id


def verified(
    registry: ProjectRegistry, project_id: str, period: tuple[str, str], tonnes: int, tag: str
) -> None:
    ok(
        step(
            registry, f"{tag}/mr", project_id, "submit_monitoring_report", PROPONENT, period, tonnes
        )
    )
    ok(step(registry, f"{tag}/verify", project_id, "verify", VVB, quantity_t=tonnes))


def held(ledger: Ledger, account_id: str, state: str = "active") -> int:
    return sum(h["quantity"] for h in ledger.holdings(account_id) if h["state"] == state)


def test_an_a64_project_goes_from_draft_to_issued_units_with_deductions(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    project_id = registered(registry, solar(), ("2026-01-01", "2031-01-01"))
    verified(registry, project_id, ("2026-01-01", "2027-01-01"), 1_000_000, "c1")
    issued = ok(step(registry, "c1/issue", project_id, "approve_issuance", ADMIN, documents=()))
    assert issued.state == "registered"
    assert issued.outcome["share_of_proceeds_t"] == 50_000
    assert issued.outcome["omge_cancelled_t"] == 20_000
    assert held(ledger, "SOLAR-GH") == 930_000
    assert held(ledger, "ADAPTATION-FUND") == 50_000
    assert held(ledger, "OMGE", "cancelled") == 20_000
    assert held(ledger, "A64-ISSUANCE") == 0
    [report] = registry.project(project_id)["monitoring_reports"]  # type: ignore[index]
    assert report["status"] == "issued" and report["issued_t"] == 1_000_000
    assert report["issuance_journal_seq"] == issued.outcome["journal_seq"]
    [block] = ledger.holdings("SOLAR-GH")
    assert block["vintage_start"] == "2026-01-01" and block["vintage_end"] == "2026-12-31"
    assert registry.verify() == [] and ledger.verify().ok


def test_deductions_are_owed_on_the_projects_running_total_not_per_report(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    project_id = registered(registry, solar(), ("2026-01-01", "2031-01-01"))
    outcomes = []
    for number, period in enumerate((("2026-01-01", "2026-02-01"), ("2026-02-01", "2026-03-01"))):
        verified(registry, project_id, period, 30, f"m{number}")
        request_id = f"m{number}/issue"
        outcomes.append(ok(step(registry, request_id, project_id, "approve_issuance", ADMIN)))
    # 30 t alone owes floor(1.5) = 1 to the Adaptation Fund and ceil(0.6) = 1 to OMGE; 60 t owe
    # floor(3) = 3 and ceil(1.2) = 2, so the second report takes 2 and 1.
    assert [o.outcome["share_of_proceeds_t"] for o in outcomes] == [1, 2]
    assert [o.outcome["omge_cancelled_t"] for o in outcomes] == [1, 1]
    assert held(ledger, "ADAPTATION-FUND") == 3 and held(ledger, "OMGE", "cancelled") == 2
    assert registry.verify() == [] and ledger.verify().ok


def with_a64(catalog: ProjectCatalog, **changes: Any) -> ProjectCatalog:
    """The catalog with A6.4's rules changed: `deductions` or its standard's `crediting`."""
    deductions = dict(catalog.deductions)
    standards = dict(catalog.standards)
    if "deductions" in changes:
        deductions["A6.4M"] = changes["deductions"]
    if "crediting" in changes:
        standards["A6.4M"] = replace(standards["A6.4M"], crediting=changes["crediting"])
    return replace(catalog, standards=standards, deductions=deductions)


def test_a_raised_share_of_proceeds_applies_to_the_tonnes_issued_after_it(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    project_id = registered(registry, solar(), ("2026-01-01", "2031-01-01"))
    verified(registry, project_id, ("2026-01-01", "2026-02-01"), 1_000, "r1")
    first = ok(step(registry, "r1/issue", project_id, "approve_issuance", ADMIN))
    assert first.outcome["deductions_owed_t"] == {"share_of_proceeds": 50, "omge": 20}
    raised = tuple(
        replace(d, rate=Decimal("0.10")) if d.code == "share_of_proceeds" else d
        for d in registry.catalog.deductions["A6.4M"]
    )
    later = ProjectRegistry(ledger, with_a64(registry.catalog, deductions=raised))
    verified(later, project_id, ("2026-02-01", "2026-03-01"), 100, "r2")
    second = ok(step(later, "r2/issue", project_id, "approve_issuance", ADMIN))
    # 10% of the new 100 t (not 10% of 1,100 t less the 50 already taken: 60).
    assert second.outcome["share_of_proceeds_t"] == 10
    assert second.outcome["omge_cancelled_t"] == 2
    assert held(ledger, "ADAPTATION-FUND") == 60 and later.verify() == []


def test_a_registration_keeps_its_crediting_option_when_the_standard_changes(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    # Registered and renewed under "5 years, renewable twice"; the standard then allows no
    # renewal. The history still verifies and the project keeps its second renewal.
    project_id = registered(registry, solar(), ("2026-01-01", "2031-01-01"))
    renewal = ("2031-01-01", "2036-01-01")
    ok(step(registry, "c/renew-1", project_id, "renew_crediting_period", ADMIN, renewal))
    options = registry.catalog.standards["A6.4M"].crediting
    no_renewals = tuple(replace(option, max_renewals=0) for option in options)
    later = ProjectRegistry(ledger, with_a64(registry.catalog, crediting=no_renewals))
    assert later.verify() == []
    again = ("2036-01-01", "2041-01-01")
    ok(step(later, "c/renew-2", project_id, "renew_crediting_period", ADMIN, again))
    refused = step(later, "c/renew-3", project_id, "renew_crediting_period", ADMIN,
                   ("2041-01-01", "2046-01-01"))  # fmt: skip
    assert "E_CREDITING_RENEWALS_EXHAUSTED" in refused.codes  # and past 15 years in all
    # A project registered now gets today's option: no renewal.
    other = registered(later, solar("A64-0002"), ("2026-01-01", "2031-01-01"))
    refused = step(later, "o/renew-1", other, "renew_crediting_period", ADMIN, renewal)
    assert refused.codes == ["E_CREDITING_RENEWALS_EXHAUSTED"]


def test_a_history_admitted_before_a_rule_was_added_still_verifies(
    registry: ProjectRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An earlier version admitted one person submitting and verifying, and reports of periods
    # not yet ended; its recorded history must still replay under today's rules.
    def without_admission_rules(*args: Any) -> Any:
        return apply_request(*args, admission=False)

    monkeypatch.setattr(registry_module, "apply_request", without_admission_rules)
    project_id = registered(registry, solar(), ("2026-01-01", "2031-01-01"))
    future = ("2030-01-01", "2030-02-01")
    submitted = ProjectRequest(project_id, "submit_monitoring_report", "eve", PROPONENT, DOC,
                               future, 10)  # fmt: skip
    ok(registry.act("old/mr", submitted))
    ok(registry.act("old/verify", ProjectRequest(project_id, "verify", "eve", VVB, DOC, None, 10)))
    monkeypatch.undo()
    assert registry.verify() == []
    refused = registry.act(
        "new/issue", ProjectRequest(project_id, "approve_issuance", "eve", ADMIN)
    )
    assert refused.codes == ["E_ACTOR_NOT_INDEPENDENT"]


def test_a_second_issuance_for_an_overlapping_monitoring_period_is_refused_and_changes_nothing(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    project_id = registered(registry, solar(), ("2026-01-01", "2031-01-01"))
    verified(registry, project_id, ("2026-01-01", "2027-01-01"), 10_000, "c1")
    ok(step(registry, "c1/issue", project_id, "approve_issuance", ADMIN, documents=()))
    before = ledger_rows(ledger)
    again = step(
        registry, "c2/mr", project_id, "submit_monitoring_report", PROPONENT,
        ("2026-06-01", "2027-06-01"), 5_000,
    )  # fmt: skip
    assert again.codes == ["E_MONITORING_PERIOD_OVERLAPS"]
    assert ledger_rows(ledger) == before


def test_issuance_waits_for_evidence_that_the_cdm_registration_was_cancelled(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    particulars = solar(other_registrations=("CDM:1234",))
    project_id = registered(registry, particulars, ("2026-01-01", "2031-01-01"))
    verified(registry, project_id, ("2026-01-01", "2027-01-01"), 1_000, "c1")
    before = ledger_rows(ledger)
    refused = step(registry, "c1/issue", project_id, "approve_issuance", ADMIN, documents=())
    assert refused.codes == ["E_CROSS_REGISTRY_EVIDENCE_MISSING"]
    assert ledger_rows(ledger) == before
    ok(
        step(
            registry, "c1/evidence", project_id, "record_cross_registry_evidence", ADMIN,
            ("2025-01-01", "2027-01-01"), registration="CDM:1234",
        )
    )  # fmt: skip
    ok(step(registry, "c1/issue", project_id, "approve_issuance", ADMIN, documents=()))
    assert held(ledger, "SOLAR-GH") == 1_000 - 50 - 20


def test_a_removal_project_contributes_to_the_buffer_and_a_reversal_cancels_from_it(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    forest = solar(
        "VCS-2001", standard="VCS", category="removal", name="Mau Forest restoration",
        host_country="KE", methodology="AR-ACM0003", proponent_account_id="FOREST-CO",
        risk_rating="0.15",
    )  # fmt: skip
    project_id = registered(registry, forest, ("2020-01-01", "2050-01-01"))
    verified(registry, project_id, ("2020-01-01", "2021-01-01"), 1_001, "c1")
    issued = ok(step(registry, "c1/issue", project_id, "approve_issuance", ADMIN, documents=()))
    assert issued.outcome["buffer_t"] == 151  # 15% of 1,001 rounded up
    assert held(ledger, "VERRA-BUFFER") == 151 and held(ledger, "FOREST-CO") == 850
    reversal = step(registry, "fire", project_id, "record_reversal", ADMIN, quantity_t=100)
    assert ok(reversal).outcome["buffer_account_id"] == "VERRA-BUFFER"
    assert held(ledger, "VERRA-BUFFER") == 51
    assert held(ledger, "VERRA-BUFFER", "cancelled") == 100
    before = ledger_rows(ledger)
    too_much = step(registry, "fire-2", project_id, "record_reversal", ADMIN, quantity_t=52)
    assert too_much.codes[0] == "E_LEDGER_REFUSED"
    assert ledger_rows(ledger) == before
    assert registry.verify() == [] and ledger.verify().ok


def test_a_risk_rating_above_the_standards_maximum_is_refused(registry: ProjectRegistry) -> None:
    too_risky = solar(
        "VCS-9", standard="VCS", category="removal", methodology="AR-ACM0003", risk_rating="0.65"
    )
    assert registry.create("r", too_risky, "pp").codes == ["E_RISK_RATING_ABOVE_MAXIMUM"]


def test_a_methodology_the_catalog_knows_fixes_the_category(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    before = ledger_rows(ledger)
    declared_avoidance = solar("VCS-10", standard="VCS", methodology="AR-ACM0003")
    assert registry.create("r1", declared_avoidance, "pp").codes == ["E_CATEGORY_MISMATCH"]
    declared_removal = solar("VCS-11", standard="VCS", category="removal", risk_rating="0.2")
    assert registry.create("r2", declared_removal, "pp").codes == ["E_CATEGORY_MISMATCH"]
    assert ledger_rows(ledger) == before
    # A methodology outside the catalog is recorded as given (no calculator, no category).
    assert registry.create(
        "r3", solar("VCS-12", standard="VCS", methodology="VM0042"), "pp"
    ).accepted


def test_a_refused_ledger_batch_refuses_the_approval_and_keeps_the_report_verified(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    project_id = registered(registry, solar(), ("2026-01-01", "2031-01-01"))
    verified(registry, project_id, ("2026-01-01", "2027-01-01"), 1_000, "c1")
    assert ledger.submit(FreezeAccount("freeze", "SOLAR-GH", "sanctions screening")).accepted
    before = ledger_rows(ledger)
    refused = step(registry, "c1/issue", project_id, "approve_issuance", ADMIN, documents=())
    assert refused.codes[0] == "E_LEDGER_REFUSED" and "E_ACCOUNT_FROZEN" in refused.codes
    assert ledger_rows(ledger) == before
    assert registry.project(project_id)["state"] == "verified"  # type: ignore[index]


def test_a_missing_programme_account_is_named(registry: ProjectRegistry, ledger: Ledger) -> None:
    project = solar("CCER-1", standard="CCER", host_country="CN", proponent_account_id="SOLAR-GH")
    project_id = registered(registry, project, ("2026-01-01", "2036-01-01"))
    verified(registry, project_id, ("2026-01-01", "2027-01-01"), 10, "c1")
    refused = step(registry, "c1/issue", project_id, "approve_issuance", ADMIN, documents=())
    assert refused.codes == ["E_PROGRAMME_ACCOUNT_MISSING"]
    assert "issuance" in refused.failures[0].message and "CCER" in refused.failures[0].message


def test_a_repeated_request_returns_the_original_outcome_and_writes_nothing(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    project_id = registered(registry, solar(), ("2026-01-01", "2031-01-01"))
    verified(registry, project_id, ("2026-01-01", "2027-01-01"), 1_000, "c1")
    first = ok(step(registry, "c1/issue", project_id, "approve_issuance", ADMIN, documents=()))
    before = ledger_rows(ledger)
    again = ok(step(registry, "c1/issue", project_id, "approve_issuance", ADMIN, documents=()))
    assert again.duplicate and again.event_seq == first.event_seq
    assert again.outcome == first.outcome
    assert ledger_rows(ledger) == before
    other = step(registry, "c1/issue", project_id, "complete", ADMIN, documents=())
    assert other.codes == ["E_REQUEST_ID_REUSED"]
    assert ledger_rows(ledger) == before


@pytest.mark.parametrize(
    ("overrides", "code"),
    [
        ({"project_id": "bad id with spaces"}, "E_PROJECT_ID_INVALID"),
        ({"standard": "NOPE"}, "E_STANDARD_UNKNOWN"),
        ({"category": "vibes"}, "E_CATEGORY_UNKNOWN"),
        ({"host_country": "XX"}, "E_HOST_COUNTRY_UNKNOWN"),
        ({"name": "  "}, "E_NAME_EMPTY"),
        ({"location": "x" * 501}, "E_PARTICULAR_INVALID"),
        ({"other_registrations": ("CDM:1", "CDM:1")}, "E_REGISTRATION_INVALID"),
        ({"risk_rating": "lots"}, "E_RISK_RATING_INVALID"),
        ({"proponent_account_id": "NOBODY"}, "E_PROPONENT_ACCOUNT_UNKNOWN"),
    ],
)
def test_bad_particulars_are_refused_with_their_code_and_change_nothing(
    registry: ProjectRegistry, ledger: Ledger, overrides: dict[str, Any], code: str
) -> None:
    before = ledger_rows(ledger)
    outcome = registry.create("create", solar(**overrides), "pp")
    assert outcome.codes == [code]
    assert ledger_rows(ledger) == before


@pytest.mark.parametrize(
    ("account", "code"),
    [
        (
            OpenAccount("o-ret", "RETIRED-GH", "retirement", "Retirement"),
            "E_PROPONENT_ACCOUNT_KIND",
        ),
        (OpenAccount("o-aviation", "AIRLINE", "operator_holding", "Airline"), None),
    ],
)
def test_a_proponent_account_that_could_never_receive_the_projects_units_is_refused_at_creation(
    registry: ProjectRegistry, ledger: Ledger, account: OpenAccount, code: str | None
) -> None:
    """Else the project would run its whole cycle and be refused only at its first issuance."""
    assert ledger.submit(account).accepted
    before = ledger_rows(ledger)
    outcome = registry.create("create", solar(proponent_account_id=account.account_id), "pp")
    if code is None:
        assert outcome.accepted, outcome.codes
        return
    assert outcome.codes == [code]
    assert account.account_id in outcome.failures[0].message
    assert ledger_rows(ledger) == before


def test_a_closed_proponent_account_is_refused_at_creation_and_a_frozen_one_is_not(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    accounts = [OpenAccount(f"o-{name}", name, "company_holding", name) for name in ("OLD", "ICE")]
    assert all(outcome.accepted for outcome in ledger.submit_many(accounts))
    assert ledger.submit(CloseAccount("close-old", "OLD")).accepted
    assert ledger.submit(FreezeAccount("freeze-ice", "ICE", "inquiry")).accepted
    before = ledger_rows(ledger)
    closed = registry.create("create-old", solar(proponent_account_id="OLD"), "pp")
    assert closed.codes == ["E_PROPONENT_ACCOUNT_CLOSED"]
    assert ledger_rows(ledger) == before
    frozen = registry.create(
        "create-ice", solar(project_id="A64-ICE", proponent_account_id="ICE"), "pp"
    )
    assert frozen.accepted, frozen.codes  # a freeze ends; the issuance waits for it


@pytest.mark.parametrize(
    "overrides",
    [{"name": "Accra\x1b[31m Solar"}, {"methodology": "ACM0002\n"}, {"location": "\u202e5.6,-0.1"}],
    ids=["name", "methodology", "location"],
)
def test_particulars_holding_a_control_character_are_refused_naming_it_and_change_nothing(
    registry: ProjectRegistry, ledger: Ledger, overrides: dict[str, str]
) -> None:
    before = ledger_rows(ledger)
    outcome = registry.create("create", solar(**overrides), "pp")
    assert outcome.codes == ["E_TEXT_CHARACTER_NOT_ALLOWED"]
    (field,) = overrides
    assert f"'details.{field}' holds U+" in outcome.failures[0].message
    assert ledger_rows(ledger) == before


def test_a_step_whose_actor_or_document_name_holds_a_control_character_is_refused(
    registry: ProjectRegistry, ledger: Ledger
) -> None:
    project_id = registered(registry, solar(), ("2026-01-01", "2031-01-01"))
    before = ledger_rows(ledger)
    escaped_actor = ProjectRequest(project_id, "complete", "stan\x1b]0;x\x07", ADMIN)
    overridden_document = (("report\u202efdp.exe", DOC[0][1]),)
    mr = ProjectRequest(project_id, "submit_monitoring_report", "pp", PROPONENT,
                        overridden_document, ("2026-01-01", "2027-01-01"), 10)  # fmt: skip
    for request, field in ((escaped_actor, "actor"), (mr, "documents[0].name")):
        assert registry.preview(request)[0].code == "E_TEXT_CHARACTER_NOT_ALLOWED"
        outcome = registry.act(f"bad/{field}", request)
        assert outcome.codes == ["E_TEXT_CHARACTER_NOT_ALLOWED"]
        assert f"'{field}' holds U+" in outcome.failures[0].message
    assert ledger_rows(ledger) == before


def test_a_history_recorded_with_such_text_before_the_rule_still_verifies_and_repeats(
    registry: ProjectRegistry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(registry_module, "text_character_failures", lambda request: [])
    particulars = solar(name="Accra\tSolar\nPark", location="\u202e5.6,-0.1")
    project_id = registered(registry, particulars, ("2026-01-01", "2031-01-01"))
    monkeypatch.undo()
    assert registry.verify() == []
    again = registry.create(f"{project_id}/create", particulars, "pp")
    assert again.accepted and again.duplicate


def test_unknown_projects_actions_and_request_ids_are_refused(registry: ProjectRegistry) -> None:
    assert step(registry, "x", "NOPE", "list", PROPONENT).codes == ["E_PROJECT_UNKNOWN"]
    project_id = registered(registry, solar(), ("2026-01-01", "2031-01-01"))
    assert step(registry, "y", project_id, "dance", PROPONENT).codes == ["E_ACTION_UNKNOWN"]
    assert step(registry, "", project_id, "complete", ADMIN).codes == ["E_REQUEST_ID_INVALID"]
    assert registry.create("z", solar(), "pp").codes == ["E_PROJECT_EXISTS"]


def test_act_many_is_all_or_nothing(registry: ProjectRegistry, ledger: Ledger) -> None:
    project_id = registered(registry, solar(), ("2026-01-01", "2031-01-01"))
    before = ledger_rows(ledger)
    requests = [
        ("m1", ProjectRequest(project_id, "submit_monitoring_report", "pp", PROPONENT, DOC,
                              ("2026-01-01", "2027-01-01"), 100)),
        ("m2", ProjectRequest(project_id, "verify", "vvb", VVB, DOC, quantity_t=101)),
    ]  # fmt: skip
    outcomes = registry.act_many(requests)
    assert outcomes[-1].codes == ["E_VERIFIED_EXCEEDS_CLAIMED"]
    assert ledger_rows(ledger) == before
    fixed = [requests[0], ("m2", ProjectRequest(project_id, "verify", "vvb", VVB, DOC, None, 100))]
    assert all(outcome.accepted for outcome in registry.act_many(fixed))
    assert registry.project(project_id)["state"] == "verified"  # type: ignore[index]


@pytest.mark.parametrize(
    ("statement", "problem"),
    [
        ("UPDATE projects SET state = 'completed'", "state"),
        ("UPDATE monitoring_reports SET claimed_t = 5", "monitoring reports"),
        ("UPDATE project_events SET event_hash = 'ab' WHERE event_seq = 2", "hash"),
        ("DELETE FROM project_events WHERE event_seq = 3", "missing"),
    ],
)
def test_verify_names_a_hand_altered_project_row(
    registry: ProjectRegistry, ledger: Ledger, statement: str, problem: str
) -> None:
    project_id = registered(registry, solar(), ("2026-01-01", "2031-01-01"))
    verified(registry, project_id, ("2026-01-01", "2027-01-01"), 1_000, "c1")
    assert registry.verify() == []
    ledger.store.begin_write()
    ledger.store.execute(statement)
    ledger.store.commit()
    problems = registry.verify()
    assert problems and any(problem in text for text in problems), problems
