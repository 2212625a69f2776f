"""The dashboard at `/`: signed in, your accounts' holdings, recent activity and what waits for
your approval; for everybody, the registry's totals and charts."""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from carbonex.service import approvals
from carbonex.service.deps import Service, ServiceDep
from carbonex.service.identity import READ_EVERYTHING, Principal
from carbonex.service.pages import reads
from carbonex.service.pages.common import ViewerDep, render
from carbonex.service.pages.figures import figures

router = APIRouter()
DASHBOARD_ACCOUNTS_MAX = 20
REGISTRY_ACCOUNTS_SHOWN_MAX = 50
RECENT_ACTIVITY_LINES = 12
UnitTypeQuery = Annotated[str, Query(max_length=32)]


def _account_holdings(service: Service, account_id: str) -> dict[str, Any] | None:
    account = service.ledger.account(account_id)
    if account is None:
        return None
    holdings = service.ledger.holdings(account_id)
    active = [h for h in holdings if h["state"] == "active"]
    return {
        "account": account,
        "holdings": holdings,
        "active": reads.quantities_by_metric(service.ledger, active),
    }


def _recent_activity(service: Service, account_ids: list[str]) -> list[dict[str, Any]]:
    lines = [
        line | {"account_id": account_id}
        for account_id in account_ids
        for line in reads.recent_movements(service.ledger, account_id, RECENT_ACTIVITY_LINES)
    ]
    lines.sort(key=lambda line: (line["seq"], line["position"]), reverse=True)
    return lines[:RECENT_ACTIVITY_LINES]


def _approvals_waiting(service: Service, principal: Principal) -> dict[str, int]:
    found = service.ledger.read(
        lambda store: approvals.pending(store, approvals.APPROVALS_PAGE_SIZE_MAX)
    )
    return {
        "to_decide": sum(approvals.may_decide(principal, a) for a in found),
        "requested": sum(a.requested_by == principal.user_id for a in found),
    }


def _personal(service: Service, principal: Principal) -> dict[str, Any]:
    account_ids = sorted(principal.accounts)[:DASHBOARD_ACCOUNTS_MAX]
    found = (_account_holdings(service, account_id) for account_id in account_ids)
    accounts = [entry for entry in found if entry is not None]
    reads_everything = principal.has(*READ_EVERYTHING)
    return {
        "accounts": accounts,
        "units_held": dict(
            sorted(sum((Counter(e["active"]) for e in accounts), Counter()).items())
        ),
        "activity": _recent_activity(service, account_ids),
        "journal": reads.recent_journal(service.ledger, RECENT_ACTIVITY_LINES)
        if reads_everything
        else [],
        "registry_accounts": service.ledger.accounts(REGISTRY_ACCOUNTS_SHOWN_MAX)
        if reads_everything
        else [],
        "waiting": _approvals_waiting(service, principal),
    }


@router.get("/")
async def dashboard(
    request: Request, service: ServiceDep, viewer: ViewerDep, unit_type: UnitTypeQuery = ""
) -> HTMLResponse:
    context = figures(service, unit_type or None)
    if viewer.signed_in:
        context |= _personal(service, viewer.principal)
    return render(request, viewer, "dashboard.html", context | {"nav": "dashboard"})
