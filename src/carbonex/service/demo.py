"""The demo dataset `carbonex serve` loads into an empty database.

The demo scenario's day in a registry (Verra VCUs for projects in Singapore and Kenya, a sale,
retirements for an airline and a person, a buffer cancellation, EU allowances surrendered, CDM
units converted to A6.4ERs), an Article 6.4 solar project taken from draft to issued units
through the project registry, a pending large transfer waiting for its second approver, and the
users below, all with the password DEMO_PASSWORD. For demonstration only: a registry in
production creates its users with `carbonex user add`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from carbonex import scenario
from carbonex.ledger import Ledger, OpenAccount, Selection, Transaction, Transfer
from carbonex.projects.events import ProjectRequest
from carbonex.projects.registry import ProjectParticulars, ProjectRegistry
from carbonex.service import approvals, identity
from carbonex.service.identity import Principal, Role

DEMO_PASSWORD = "carbonex-demo"


@dataclass(frozen=True, slots=True)
class DemoUser:
    user_id: str
    display_name: str
    roles: frozenset[Role]
    accounts: tuple[str, ...] = ()


HOLDER = frozenset({Role.ACCOUNT_HOLDER})
DEMO_USERS = (
    DemoUser("admin", "Ada Registrar", frozenset({Role.REGISTRY_ADMINISTRATOR})),
    DemoUser("admin2", "Ben Registrar", frozenset({Role.REGISTRY_ADMINISTRATOR})),
    DemoUser("merlion", "Mei Lin (Merlion Power)", HOLDER, (scenario.DEVELOPER, "SOLAR-GH")),
    DemoUser("merlion2", "Marcus Ong (Merlion Power)", HOLDER, (scenario.DEVELOPER, "SOLAR-GH")),
    DemoUser("skyways", "Sam Kay (Skyways Airlines)", HOLDER, (scenario.AIRLINE,)),
    DemoUser("amelia", "Amelia Tan", HOLDER, (scenario.PERSON,)),
    DemoUser("rhein", "Rita Hahn (Rhein Zement)", HOLDER, (scenario.OPERATOR,)),
    DemoUser("vera", "Vera Verifier", frozenset({Role.VERIFICATION_BODY})),
    DemoUser("stan", "Stan Dard", frozenset({Role.STANDARD_ADMINISTRATOR})),
    DemoUser("stan2", "Stella Dard", frozenset({Role.STANDARD_ADMINISTRATOR})),
    DemoUser("audrey", "Audrey Auditor", frozenset({Role.AUDITOR})),
    DemoUser("nadia", "Nadia National", frozenset({Role.NATIONAL_AUTHORITY})),
)
A64_ACCOUNTS = (
    ("A64-ISSUANCE", "issuance", "A64M", "Article 6.4 mechanism registry"),
    ("SOLAR-GH", "company_holding", "A64M", "Accra Solar Ltd (held by Merlion Power)"),
    ("ADAPTATION-FUND", "share_of_proceeds", "CARBONEX", "Adaptation Fund"),
    ("A64-OMGE", "omge_cancellation", "A64M", "OMGE cancellation account"),
)
DOCUMENT = (("monitoring-report.pdf", hashlib.sha256(b"demo monitoring report").hexdigest()),)


def is_empty(ledger: Ledger) -> bool:
    return ledger.read(lambda store: store.query_one("SELECT 1 FROM users LIMIT 1") is None)


def load_demo(ledger: Ledger) -> bool:
    """Load the demo into an empty database; False (and nothing done) if it has users."""
    if not is_empty(ledger):
        return False
    commands = [step.command for step in scenario.scenario()]
    commands += [
        OpenAccount(f"demo-open-{a.lower()}", a, kind, holder, registry)
        for a, kind, registry, holder in A64_ACCOUNTS
    ]
    ledger.submit_many(commands)  # the scenario's one deliberate refusal stays refused
    _solar_project(ProjectRegistry(ledger))

    def work(tx: Transaction) -> tuple[None, bool]:
        _users_and_pending(tx)
        return None, True

    ledger.transact(work)
    return True


def _users_and_pending(tx: Transaction) -> None:
    for user in DEMO_USERS:
        identity.add_user(
            tx.store, user.user_id, user.display_name, DEMO_PASSWORD, user.roles, tx.now
        )
        for account_id in user.accounts:
            identity.add_representative(tx.store, user.user_id, account_id)
    requester = Principal("merlion", HOLDER, frozenset({scenario.DEVELOPER}), "session")
    sale = Transfer(
        "merlion:demo-large-sale",
        scenario.DEVELOPER,
        scenario.AIRLINE,
        Selection("VCU", quantity=20_000, project_id="VCS-1736"),
    )
    pending = approvals.PendingRequest(
        sale.command_id, approvals.LEDGER_COMMAND, sale.to_record(), approvals.summary_of(sale),
        scenario.DEVELOPER,
    )  # fmt: skip
    approvals.submit(tx.store, pending, requester, tx.now)


def _solar_project(projects: ProjectRegistry) -> None:
    particulars = ProjectParticulars(
        "A64-GH-0001", "A6.4M", "avoidance", "Accra Solar Park", "GH", "ACM0002", "SOLAR-GH",
        "5.6037,-0.1870", ("CDM:9876",),
    )  # fmt: skip
    projects.create("demo:solar:create", particulars, "merlion")
    steps = [
        ("list", "project_proponent", None, None, None),
        ("validate", "validation_verification_body", None, None, None),
        ("register", "standard_administrator", ("2025-01-01", "2030-01-01"), None, None),
        ("record_cross_registry_evidence", "standard_administrator",
         ("2020-01-01", "2030-01-01"), None, "CDM:9876"),
        ("submit_monitoring_report", "project_proponent", ("2025-01-01", "2026-01-01"),
         105_120, None),
        ("verify", "validation_verification_body", None, 105_000, None),
        ("approve_issuance", "standard_administrator", None, None, None),
    ]  # fmt: skip
    for action, role, period, quantity_t, registration in steps:
        documents = () if action == "approve_issuance" else DOCUMENT
        request = ProjectRequest(
            "A64-GH-0001", action, role.split("_")[0], role, documents, period, quantity_t,
            registration,
        )  # fmt: skip
        projects.act(f"demo:solar:{action}", request)
