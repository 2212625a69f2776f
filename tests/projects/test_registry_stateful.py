"""The project registry against a model: random monitoring reports, verifications, rejections,
approvals, reversals and repeated requests on two projects, on both stores.

Invariants after every step: a refused request changes no table; the units issued equal the
verified quantities approved; a project's monitoring periods that were not rejected never
overlap; the buffer pool holds what the model says. At the end the ledger and the project
histories verify."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from carbonex.ledger import Ledger, OpenAccount
from carbonex.projects.deductions import apply_rate
from carbonex.projects.events import ProjectRequest
from carbonex.projects.outcomes import ProjectOutcome
from carbonex.projects.registry import ProjectParticulars, ProjectRegistry
from tests.conftest import FixedClock
from tests.databases import OnPostgres, OnSqlite, ledger_rows
from tests.ledger.support import HYPOTHESIS_PROFILE, hypothesis_settings

DOC = (("doc.pdf", hashlib.sha256(b"doc").hexdigest()),)
PROPONENT, VVB, ADMIN = (
    "project_proponent",
    "validation_verification_body",
    "standard_administrator",
)
CREDITING_START = dt.date(2026, 1, 1)
CREDITING_MONTHS = 60
PROJECTS = ("A64-1", "VCS-1")
CREDITING_MONTHS_OF = {"A64-1": CREDITING_MONTHS, "VCS-1": 30 * 12}  # VCS removals: 20-100 y
RISK_RATING = "0.2"
METHODOLOGY = {"avoidance": "ACM0002", "removal": "AR-ACM0003"}
NOW = dt.datetime(2029, 1, 1, 12, 0, tzinfo=dt.UTC)
"""Three years into the crediting periods: reports of later months are refused as not ended."""


def month(offset: int) -> str:
    year, index = divmod(offset, 12)
    return dt.date(CREDITING_START.year + year, index + 1, 1).isoformat()


@dataclass
class ProjectModel:
    state: str = "registered"
    periods: list[tuple[int, int]] = field(default_factory=list)  # not rejected, in months
    claimed_t: int = 0
    verified_t: int = 0


class RegistryMachine(OnSqlite, RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.url = self.new_database()
        self.ledger = Ledger.open(self.url, clock=FixedClock(NOW))
        self.registry = ProjectRegistry(self.ledger)
        self.model = {project_id: ProjectModel() for project_id in PROJECTS}
        self.issued_t = 0
        self.buffer_t = 0
        self.requests = 0
        self.accepted: list[tuple[str, ProjectRequest, ProjectOutcome]] = []

    def teardown(self) -> None:
        try:
            if hasattr(self, "registry"):
                assert self.registry.verify() == []
                assert self.ledger.verify().ok
        finally:
            if hasattr(self, "ledger"):
                self.ledger.close()
            self.drop_database()

    def send(self, request: ProjectRequest, expected: bool) -> ProjectOutcome:
        self.requests += 1
        request_id = f"r{self.requests}"
        before = None if expected else ledger_rows(self.ledger)
        outcome = self.registry.act(request_id, request)
        assert outcome.accepted == expected, (request, outcome.failures)
        if expected:
            self.accepted.append((request_id, request, outcome))
        else:
            assert ledger_rows(self.ledger) == before
        return outcome

    @initialize()
    def register_two_projects(self) -> None:
        opened = self.ledger.submit_many(
            [
                OpenAccount("o1", "A64-ISS", "issuance", "Mechanism", "A64M"),
                OpenAccount("o2", "AF", "share_of_proceeds", "Adaptation Fund"),
                OpenAccount("o3", "OMGE", "omge_cancellation", "OMGE", "A64M"),
                OpenAccount("o4", "VCS-ISS", "issuance", "Verra", "VERRA"),
                OpenAccount("o5", "BUFFER", "buffer_pool", "AFOLU buffer", "VERRA"),
                OpenAccount("o6", "DEV", "company_holding", "Developer"),
            ]
        )
        assert all(outcome.accepted for outcome in opened)
        for project_id, standard, category in (
            ("A64-1", "A6.4M", "avoidance"),
            ("VCS-1", "VCS", "removal"),
        ):
            particulars = ProjectParticulars(
                project_id, standard, category, f"Project {project_id}", "KE",
                METHODOLOGY[category], "DEV",
                risk_rating=RISK_RATING if standard == "VCS" else None,
            )  # fmt: skip
            assert self.registry.create(f"create-{project_id}", particulars, "pp").accepted
            crediting = (month(0), month(CREDITING_MONTHS_OF[project_id]))
            for action, role, period in (
                ("list", PROPONENT, None),
                ("validate", VVB, None),
                ("register", ADMIN, crediting),
            ):
                actor = {PROPONENT: "pp", VVB: "vvb", ADMIN: "admin"}[role]  # independent
                request = ProjectRequest(project_id, action, actor, role, DOC, period)
                assert self.registry.act(f"{action}-{project_id}", request).accepted

    @rule(
        project_id=st.sampled_from(PROJECTS),
        start=st.integers(0, CREDITING_MONTHS),
        length=st.integers(1, 14),
        claimed_t=st.integers(1, 5_000),
    )
    def submit_a_monitoring_report(
        self, project_id: str, start: int, length: int, claimed_t: int
    ) -> None:
        model = self.model[project_id]
        end = start + length
        clash = any(start < e and s < end for s, e in model.periods)
        inside = end <= CREDITING_MONTHS_OF[project_id]
        ended = dt.date.fromisoformat(month(end)) <= NOW.date()
        expected = model.state == "registered" and inside and not clash and ended
        request = ProjectRequest(
            project_id, "submit_monitoring_report", "pp", PROPONENT, DOC,
            (month(start), month(end)), claimed_t,
        )  # fmt: skip
        self.send(request, expected)
        if expected:
            model.state, model.claimed_t = "monitored", claimed_t
            model.periods.append((start, end))

    @rule(project_id=st.sampled_from(PROJECTS), share=st.floats(0.0, 1.2))
    def verify_the_report(self, project_id: str, share: float) -> None:
        model = self.model[project_id]
        verified_t = max(1, int(model.claimed_t * share))
        expected = model.state == "monitored" and verified_t <= model.claimed_t
        request = ProjectRequest(project_id, "verify", "vvb", VVB, DOC, quantity_t=verified_t)
        self.send(request, expected)
        if expected:
            model.state, model.verified_t = "verified", verified_t

    @rule(project_id=st.sampled_from(PROJECTS))
    def reject_the_report(self, project_id: str) -> None:
        model = self.model[project_id]
        expected = model.state == "monitored"
        request = ProjectRequest(project_id, "reject_monitoring_report", "vvb", VVB, DOC)
        self.send(request, expected)
        if expected:
            model.state = "registered"
            model.periods.pop()

    @rule(project_id=st.sampled_from(PROJECTS))
    def approve_the_issuance(self, project_id: str) -> None:
        model = self.model[project_id]
        expected = model.state == "verified"
        request = ProjectRequest(project_id, "approve_issuance", "admin", ADMIN)
        outcome = self.send(request, expected)
        if expected:
            model.state = "registered"
            self.issued_t += model.verified_t
            if project_id == "VCS-1":
                buffer_t = apply_rate(model.verified_t, Decimal(RISK_RATING), "up")
                assert outcome.outcome["buffer_t"] == buffer_t
                self.buffer_t += buffer_t

    @rule(quantity_t=st.integers(1, 2_000))
    def report_a_reversal(self, quantity_t: int) -> None:
        state = self.model["VCS-1"].state
        expected = quantity_t <= self.buffer_t
        request = ProjectRequest("VCS-1", "record_reversal", "admin", ADMIN, DOC, None, quantity_t)
        self.send(request, expected)
        if expected:
            self.buffer_t -= quantity_t
        assert self.model["VCS-1"].state == state

    @rule(data=st.data())
    def repeat_an_accepted_request(self, data: st.DataObject) -> None:
        if not self.accepted:
            return
        request_id, request, original = data.draw(st.sampled_from(self.accepted))
        before = ledger_rows(self.ledger)
        again = self.registry.act(request_id, request)
        assert again.duplicate and again.event_seq == original.event_seq
        assert again.outcome == original.outcome
        assert ledger_rows(self.ledger) == before

    @invariant()
    def the_units_issued_are_the_verified_quantities_approved(self) -> None:
        totals: dict[str, Any] = self.ledger.summary()
        issued = sum(row["issued"] for row in totals["by_unit_type"].values())
        assert issued == self.issued_t

    @invariant()
    def the_buffer_holds_what_the_model_says(self) -> None:
        held = sum(h["quantity"] for h in self.ledger.holdings("BUFFER") if h["state"] == "active")
        assert held == self.buffer_t

    @invariant()
    def monitoring_periods_that_stand_never_overlap(self) -> None:
        for project_id in PROJECTS:
            record = self.registry.project(project_id)
            assert record is not None
            periods = sorted(
                (r["period_start"], r["period_end"])
                for r in record["monitoring_reports"]
                if r["status"] != "rejected"
            )
            for (_, end), (start, _) in itertools.pairwise(periods):
                assert end <= start
            assert record["state"] == self.model[project_id].state


class PostgresRegistryMachine(OnPostgres, RegistryMachine):
    pass


# Each step reads every table (refusals must change nothing), so fewer examples than the ledger's.
EXAMPLES = {"ci": (100, 25), "dev": (30, 8)}[HYPOTHESIS_PROFILE]

TestRegistryAgainstItsModelOnSqlite = RegistryMachine.TestCase
TestRegistryAgainstItsModelOnSqlite.settings = settings(
    hypothesis_settings("stateful-sqlite"), max_examples=EXAMPLES[0], stateful_step_count=40
)
TestRegistryAgainstItsModelOnPostgres = pytest.mark.postgres(PostgresRegistryMachine.TestCase)
TestRegistryAgainstItsModelOnPostgres.settings = settings(
    hypothesis_settings("stateful-postgres"), max_examples=EXAMPLES[1], stateful_step_count=30
)
