"""The dashboard at `/`: signed in, your accounts' holdings, recent activity and what waits for
your approval; for everybody, the registry's totals and charts."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from carbonex.service import approvals, issuance_approvals
from carbonex.service.approvals import Approval
from carbonex.service.deps import Service, ServiceDep
from carbonex.service.identity import READ_EVERYTHING, Principal
from carbonex.service.pages import reads
from carbonex.service.pages.common import ViewerDep, render
from carbonex.service.pages.figures import figures
from carbonex.store import SqlStore

router = APIRouter()
DASHBOARD_ACCOUNTS_MAX = 20
REGISTRY_ACCOUNTS_SHOWN_MAX = 50
RECENT_ACTIVITY_LINES = 12
APPROVALS_COUNTED_MAX = 5_000
"""Pending approvals the dashboard reads at most to count yours (ten pages of the queue, about
40 ms on SQLite): it is every signed-in user's first page, so its cost must not grow with the
whole registry's queue. Past it the counts are lower bounds and say so ("3+"); the approval
queue page finds the ones you may see wherever they are."""
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


def _approvals_waiting(service: Service, principal: Principal) -> dict[str, Any]:
    catalog = service.projects.catalog

    def count(store: SqlStore) -> approvals.PendingTally:
        def refused(page: list[Approval]) -> Collection[str]:
            return issuance_approvals.approve_refusals(store, catalog, principal, page).keys()

        return approvals.tally_pending(store, principal, APPROVALS_COUNTED_MAX, refused)

    tally = service.ledger.read(count)
    bound = "" if tally.whole_queue else "+"
    return {
        "to_decide": tally.to_decide,
        "to_decide_shown": f"{tally.to_decide:,}{bound}",
        "requested_shown": f"{tally.requested:,}{bound}",
        "whole_queue": tally.whole_queue,
        "counted_max": APPROVALS_COUNTED_MAX,
    }


def _personal(service: Service, principal: Principal) -> dict[str, Any]:
    account_ids = sorted(principal.accounts)[:DASHBOARD_ACCOUNTS_MAX]
    found = (_account_holdings(service, account_id) for account_id in account_ids)
    accounts = [entry for entry in found if entry is not None]
    reads_everything = principal.has(*READ_EVERYTHING)
    return {
        "accounts": accounts,
        # The dashboard shows the first DASHBOARD_ACCOUNTS_MAX: its counts say so past them.
        "accounts_total": len(principal.accounts),
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
