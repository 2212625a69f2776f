"""A project's issuance approval is for one monitoring report, and its second person is held
to the lifecycle's independence rule.

The request is recorded when it is made but runs when a second standard administrator approves
it, as the requester, against the project as it then is. Without the report it was asked for,
an approval left pending while that report was issued through another one would issue the next
report, which only the second administrator ever looked at; and the second person, who never
appears in the project's history, was never checked against who submitted or verified it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from carbonex.catalog.standards import ProjectCatalog
from carbonex.projects.lifecycle import Action, Project, check_independence
from carbonex.projects.registry import load_project
from carbonex.service import inclusion_approvals
from carbonex.service.approvals import PROJECT_ACTION, Approval, may_decide, stale
from carbonex.service.identity import Principal
from carbonex.service.problems import Problem
from carbonex.store import SqlStore

REPORT_KEY = "report"
"""Where a pending issuance's payload names its report: {"event_seq": the submit event's seq,
"period": [start, end], "verified_t": tonnes}."""
CONFLICT_STATUS = 409


def open_verified_report(store: SqlStore, project_id: str) -> dict[str, Any] | None:
    """The verified report awaiting its issuance decision, as an approval names it; None when
    the project is not waiting for one."""
    row = store.query_one(
        "SELECT r.event_seq, r.period_start, r.period_end, r.verified_t "
        "FROM monitoring_reports r JOIN projects p ON p.project_id = r.project_id "
        "WHERE r.project_id = ? AND p.state = 'verified' AND r.status = 'verified' "
        "ORDER BY r.event_seq DESC LIMIT 1",
        (project_id,),
    )
    if row is None:
        return None
    return {"event_seq": int(row[0]), "period": [str(row[1]), str(row[2])],
            "verified_t": int(row[3])}  # fmt: skip


def describe(report: dict[str, Any] | None) -> str:
    if report is None:
        return "no verified report awaiting issuance"
    start, end = report["period"]
    return (
        f"monitoring report #{report['event_seq']} ({start} to {end}, "
        f"{report['verified_t']} t verified)"
    )


def approval_refusal(
    store: SqlStore, catalog: ProjectCatalog, approval: Approval, decider: str
) -> Problem | None:
    """Why `decider` may not approve this project issuance now, or None. Checked in the
    transaction that would run it, so the report compared is the one that would be issued."""
    return _refusal(store, catalog, approval, decider, {})


def approve_refusals(
    store: SqlStore, catalog: ProjectCatalog, principal: Principal, found: Sequence[Approval]
) -> dict[str, Problem]:
    """approval_id -> why the principal may not approve it now, for each of `found` they may
    decide but not approve (they may still reject it): what the approvals page and list offer,
    so that no approve button is shown that would only answer 409. Each project loads once.
    A project issuance's refusals are this module's; an aggregation made already is stale too
    (`inclusion_approvals.made_already`)."""
    loaded: dict[str, Project | None] = {}
    refusals = {}
    for approval in found:
        if not may_decide(principal, approval):
            continue
        refusal = _refusal(store, catalog, approval, principal.user_id, loaded)
        refusal = refusal or inclusion_approvals.made_already(store, approval)
        if refusal is not None:
            refusals[approval.approval_id] = refusal
    return refusals


def _refusal(
    store: SqlStore,
    catalog: ProjectCatalog,
    approval: Approval,
    decider: str,
    loaded: dict[str, Project | None],
) -> Problem | None:
    """`approval_refusal`, reading each project once into `loaded` (project id -> project)."""
    request = approval.payload.get("request") or {}
    if approval.kind != PROJECT_ACTION or request.get("action") != Action.APPROVE_ISSUANCE.value:
        return None
    project_id = str(request["project_id"])
    named, current = approval.payload.get(REPORT_KEY), open_verified_report(store, project_id)
    if named is None or named != current:
        # None: recorded before approvals named their report, so which one it was is unknown.
        unnamed = "no monitoring report (recorded before approvals did)"
        asked_for = unnamed if named is None else describe(named)
        detail = (
            f"approval {approval.approval_id} is for {asked_for}; project {project_id} has "
            f"{describe(current)}: reject it and request the issuance again"
        )
        return stale(detail)
    if project_id not in loaded:
        loaded[project_id] = load_project(store, project_id, catalog)
    project = loaded[project_id]
    failures = check_independence(project, Action.APPROVE_ISSUANCE, decider) if project else []
    if not failures:
        return None
    records = [{"code": f.code.value, "message": f.message} for f in failures]
    detail = "the approval was refused; nothing changed"
    return Problem(CONFLICT_STATUS, records[0]["code"], detail, records)
