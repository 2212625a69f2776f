"""The public explorer (no sign-in): totals and charts, projects, issuances, retirements with
their beneficiaries, and the provenance of any serial."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from carbonex.inclusion.service import InclusionRegistry
from carbonex.ledger.limits import SERIAL_MAX
from carbonex.service import explorer
from carbonex.service.deps import Service, ServiceDep
from carbonex.service.pages import reads
from carbonex.service.pages.common import Notice, Viewer, ViewerDep, render
from carbonex.service.pages.figures import figures

router = APIRouter(prefix="/explorer")
OVERVIEW_PROJECTS_MAX = 10
OVERVIEW_RECORDS_MAX = 20
EXPLORER_PAGE_SIZE = 50
CODE_LENGTH_MAX = 32
CODE = re.compile(r"^[A-Za-z0-9._-]{1,32}$")
Seq = Annotated[int, Query(ge=0, le=2**63 - 1)]
CodeQuery = Annotated[str, Query(max_length=CODE_LENGTH_MAX)]
SerialQuery = Annotated[str, Query(max_length=24)]


def _issuances(service: Service, limit: int, after_id: int) -> list[dict[str, Any]]:
    return service.ledger.read(lambda store: explorer.issuances(store, limit, after_id, None))


def _retirements(
    service: Service, viewer: Viewer, limit: int, after_seq: int
) -> list[dict[str, Any]]:
    """A page of retirements as the viewer may see them (the account only for those who read
    everything, as the API answers)."""
    found = service.ledger.read(lambda store: explorer.retirements(store, limit, after_seq))
    return explorer.retirements_view(found, viewer.principal)


@router.get("")
async def overview(
    request: Request, service: ServiceDep, viewer: ViewerDep, unit_type: CodeQuery = ""
) -> HTMLResponse:
    context = figures(service, unit_type or None) | {
        "projects": service.projects.projects(OVERVIEW_PROJECTS_MAX),
        "issuances": _issuances(service, OVERVIEW_RECORDS_MAX, 0),
        "retirements": _retirements(service, viewer, OVERVIEW_RECORDS_MAX, 0),
        "serial_spaces": reads.serial_spaces(service.ledger),
        "head": service.ledger.head(),
        "records_max": OVERVIEW_RECORDS_MAX,
        "nav": "explorer",
    }
    return render(request, viewer, "explorer.html", context)


@router.get("/issuances")
async def issuances(
    request: Request, service: ServiceDep, viewer: ViewerDep, after_id: Seq = 0
) -> HTMLResponse:
    found = _issuances(service, EXPLORER_PAGE_SIZE, after_id)
    following = found[-1]["issuance_id"] if len(found) == EXPLORER_PAGE_SIZE else None
    context = {"issuances": found, "next_after": following, "nav": "explorer"}
    return render(request, viewer, "explorer_issuances.html", context)


@router.get("/retirements")
async def retirements(
    request: Request, service: ServiceDep, viewer: ViewerDep, after_seq: Seq = 0
) -> HTMLResponse:
    found = _retirements(service, viewer, EXPLORER_PAGE_SIZE, after_seq)
    following = found[-1]["seq"] if len(found) == EXPLORER_PAGE_SIZE else None
    context = {"retirements": found, "next_after": following, "nav": "explorer"}
    return render(request, viewer, "explorer_retirements.html", context)


def _serial_problem(registry: str, unit_type: str, serial: str) -> str | None:
    if not CODE.match(registry) or not CODE.match(unit_type):
        return "Registry and unit type are codes such as VERRA and VCU."
    # ASCII digits only, as the API's serials: str.isdigit() also passes "²" (which int()
    # refuses) and other scripts' digits ("١٢", which int() reads as 12)
    if not (serial.isascii() and serial.isdigit()) or not 1 <= int(serial) <= SERIAL_MAX:
        return f"A serial is a whole number from 1 to {SERIAL_MAX:,}."
    return None


def _not_found(code: str, message: str) -> Notice:
    return Notice("error", "Serial not found", [{"code": code, "message": message}])


def _lookup(
    service: Service, viewer: Viewer, query: dict[str, str], after_seq: int
) -> tuple[dict[str, Any] | None, Notice | None, int]:
    """(provenance as much as the viewer may see, with a page of its history after `after_seq`,
    notice, status) of the serial `query` names; codes are matched in upper case."""
    invalid = _serial_problem(**query)
    if invalid is not None:
        return None, _not_found("E_REQUEST_INVALID", invalid), 422
    space = f"{query['registry'].upper()}/{query['unit_type'].upper()}"
    serial = query["serial"]
    view = explorer.serial_view(
        service.ledger, space, int(serial), viewer.principal, after_seq, EXPLORER_PAGE_SIZE
    )
    if view is None:
        return None, _not_found("E_NOT_FOUND", f"No serial {serial} in {space}."), 404
    return view, None, 200


def _history_next(query: dict[str, str], found: dict[str, Any] | None) -> str | None:
    """The link to the next page of the serial's history, if one follows."""
    if found is None or found["next_after_seq"] is None:
        return None
    return "/explorer/serial?" + urlencode(query | {"after_seq": found["next_after_seq"]})


@router.get("/serial")
async def serial(
    request: Request,
    service: ServiceDep,
    viewer: ViewerDep,
    registry: CodeQuery = "",
    unit_type: CodeQuery = "",
    serial: SerialQuery = "",
    after_seq: Seq = 0,
) -> HTMLResponse:
    """The life of one serial: its issuance, its state now and the facts of a final state;
    every movement, with its accounts, for those who read everything, a page at a time."""
    query = {"registry": registry.strip(), "unit_type": unit_type.strip(), "serial": serial.strip()}
    context: dict[str, Any] = {"query": query, "provenance": None, "nav": "explorer",
                               "serial_spaces": reads.serial_spaces(service.ledger)}  # fmt: skip
    if not any(query.values()):
        return render(request, viewer, "serial.html", context)
    found, notice, status = _lookup(service, viewer, query, after_seq)
    context |= {"provenance": found, "notice": notice, "history_resumed": after_seq > 0,
                "history_next": _history_next(query, found)}  # fmt: skip
    return render(request, viewer, "serial.html", context, status)


PersonQuery = Annotated[str, Query(max_length=128)]
DayQuery = Annotated[dt.date | None, Query()]


@dataclass(frozen=True, slots=True)
class InclusionQuery:
    """What the inclusion page looks up, and where each of its two lists resumes: a person's
    actions after (day, action id), an aggregation's contributors after a person id."""

    person: str = ""
    aggregation: str = ""
    after_day: dt.date | None = None
    after_action: str = ""
    after_person: str = ""

    def link(self, **cursor: str) -> str:
        """This page with the lists resuming as `cursor` says (the other list from its start)."""
        shown = {"person": self.person, "aggregation": self.aggregation} | cursor
        return "/explorer/inclusion?" + urlencode({k: v for k, v in shown.items() if v})


def _history(registry: InclusionRegistry, query: InclusionQuery) -> dict[str, Any]:
    after = (query.after_day.isoformat(), query.after_action) if query.after_day else None
    rows = registry.history(query.person, EXPLORER_PAGE_SIZE, after)
    last = rows[-1] if len(rows) == EXPLORER_PAGE_SIZE else None
    following = (
        query.link(after_day=str(last["day"]), after_action=str(last["action_id"]))
        if last
        else None
    )
    return {"history": rows, "history_next": following, "history_resumed": after is not None}


def _contributions(registry: InclusionRegistry, query: InclusionQuery) -> dict[str, Any]:
    rows = registry.contributions(query.aggregation, EXPLORER_PAGE_SIZE, query.after_person)
    last = rows[-1] if len(rows) == EXPLORER_PAGE_SIZE else None
    following = query.link(after_person=str(last["person_id"])) if last else None
    return {"contributions": rows, "contributions_next": following}


def _inclusion_context(service: Service, query: InclusionQuery) -> dict[str, Any]:
    """A page of each list, with a link to the next when the page is full: a person may have
    recorded, and an aggregation taken points from, far more than one page shows."""
    registry = InclusionRegistry(service.ledger)
    context: dict[str, Any] = {"query": {"person": query.person, "aggregation": query.aggregation}}
    if query.person:
        context["points"] = registry.points(query.person).to_record()
        context |= _history(registry, query)
    if query.aggregation:
        found = registry.aggregation(query.aggregation)
        context["aggregation"] = found
        if found is not None:
            context |= _contributions(registry, query)
    return context


@router.get("/inclusion")
async def inclusion(
    request: Request,
    service: ServiceDep,
    viewer: ViewerDep,
    person: PersonQuery = "",
    aggregation: PersonQuery = "",
    after_day: DayQuery = None,
    after_action: PersonQuery = "",
    after_person: PersonQuery = "",
) -> HTMLResponse:
    """Carbon inclusion, public: a person's points and actions, an aggregation's contributors."""
    query = InclusionQuery(
        person.strip(), aggregation.strip(), after_day, after_action, after_person
    )
    context = _inclusion_context(service, query)
    context["nav"] = "explorer"
    missing = query.aggregation and context.get("aggregation") is None
    return render(request, viewer, "explorer_inclusion.html", context, 404 if missing else 200)
