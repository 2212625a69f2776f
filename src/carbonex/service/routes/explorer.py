"""The public explorer's data: no sign-in. Projects, issuances, retirements with their
beneficiaries, totals, and the provenance of any serial (whole only for those who read
everything)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from carbonex.ledger.limits import SERIAL_HISTORY_PAGE_SIZE_MAX, SERIAL_MAX
from carbonex.service import explorer
from carbonex.service.deps import DEFAULT_PAGE_SIZE, Limit, PrincipalDep, ServiceDep
from carbonex.service.identity import Principal
from carbonex.service.no_store import NO_STORE
from carbonex.service.problems import not_found

router = APIRouter(prefix="/explorer", tags=["explorer"])
WHO_ASKS_HEADERS = "Authorization, X-API-Key, Cookie"
"""The request headers that say who asks (`deps.get_principal`)."""
Code = Annotated[str, Path(min_length=1, max_length=32, pattern="^[A-Za-z0-9._-]+$")]
SerialHistoryLimit = Annotated[
    int, Query(ge=1, le=SERIAL_HISTORY_PAGE_SIZE_MAX, description="Entries of history per page.")
]


@router.get("/summary")
async def summary(service: ServiceDep) -> dict[str, Any]:
    """Totals issued, held, retired, cancelled, surrendered and expired."""
    return service.ledger.summary()


@router.get("/issuances")
async def issuances(
    service: ServiceDep,
    limit: Limit = DEFAULT_PAGE_SIZE,
    after_id: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    project_id: Annotated[str | None, Query(max_length=200)] = None,
) -> list[dict[str, Any]]:
    return service.ledger.read(lambda store: explorer.issuances(store, limit, after_id, project_id))


@router.get("/retirements")
async def retirements(
    service: ServiceDep,
    principal: PrincipalDep,
    response: Response,
    limit: Limit = DEFAULT_PAGE_SIZE,
    after_seq: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
) -> list[dict[str, Any]]:
    """Retirements in journal order: beneficiary, purpose, claim period, serials, quantity;
    the account retired from only for those who read everything."""
    found = service.ledger.read(lambda store: explorer.retirements(store, limit, after_seq))
    _vary_with_who_asks(response, principal)
    return explorer.retirements_view(found, principal)


@router.get("/serials/{registry}/{unit_type}/{serial}")
async def serial(
    registry: Code,
    unit_type: Code,
    serial: Annotated[int, Path(ge=1, le=SERIAL_MAX)],
    service: ServiceDep,
    principal: PrincipalDep,
    response: Response,
    after_seq: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
    limit: SerialHistoryLimit = SERIAL_HISTORY_PAGE_SIZE_MAX,
) -> dict[str, Any]:
    """The life of one serial: its issuance, its state now and the facts of a final state
    (beneficiary, purpose, reason) in `final`, whichever page of its history this is. Those who
    read everything (registry administrators, auditors, national authorities) see every
    movement, with its accounts and command ids. The history is paged: entries after
    `after_seq`, at most `limit`; the next page resumes after `next_after_seq` (null at the
    end), which a page holding fewer than `limit` entries may still give."""
    space = f"{registry}/{unit_type}"
    found = explorer.serial_view(service.ledger, space, serial, principal, after_seq, limit)
    if found is None:
        raise not_found(f"serial {space} {serial}")
    _vary_with_who_asks(response, principal)
    return found


def _vary_with_who_asks(response: Response, principal: Principal) -> None:
    """The answer depends on who asks: no shared cache may give one person's to another, and
    none keeps the whole view of those who read everything."""
    response.headers["Vary"] = WHO_ASKS_HEADERS
    if explorer.sees_whole_provenance(principal):
        response.headers["Cache-Control"] = NO_STORE
