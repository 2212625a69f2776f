"""Projects (public, like the API's): the list, and each project's particulars, lifecycle
history with the hashes of its documents, monitoring reports and issuances."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import HTMLResponse

from carbonex.projects.lifecycle import State
from carbonex.service import explorer
from carbonex.service.deps import ServiceDep
from carbonex.service.pages.common import PageError, ViewerDep, render
from carbonex.service.routes import projects as projects_api

router = APIRouter(prefix="/projects")
ProjectId = Annotated[str, Path(min_length=1, max_length=64)]
After = Annotated[str, Query(max_length=64)]
AfterId = Annotated[int, Query(ge=0, le=2**63 - 1)]
PROJECTS_PAGE_SIZE = 50
PROJECT_ISSUANCES_SHOWN_MAX = 100
LIFECYCLE_PATH = (
    State.DRAFT,
    State.LISTED,
    State.VALIDATED,
    State.REGISTERED,
    State.MONITORED,
    State.VERIFIED,
)
"""The main path of the cycle; registered -> monitored -> verified repeats each period."""


@router.get("")
async def projects(
    request: Request, service: ServiceDep, viewer: ViewerDep, after: After = ""
) -> HTMLResponse:
    found = service.projects.projects(PROJECTS_PAGE_SIZE, after)
    following = found[-1]["project_id"] if len(found) == PROJECTS_PAGE_SIZE else None
    context = {"projects": found, "next_after": following, "nav": "projects"}
    return render(request, viewer, "projects.html", context)


def _lifecycle(state: str) -> list[dict[str, Any]]:
    """The main path's steps, marked done, current or ahead."""
    path = [str(step) for step in LIFECYCLE_PATH]
    reached = path.index(state) if state in path else len(path)
    return [
        {"state": step, "status": "current" if i == reached else "done" if i < reached else "ahead"}
        for i, step in enumerate(path)
    ]


def _issuances_page(service: ServiceDep, project_id: str, after_id: int) -> dict[str, Any]:
    """A page of the project's issuances after `after_id`, and a link to the next when full (a
    project imported from a registry may have had hundreds)."""
    found = service.ledger.read(
        lambda store: explorer.issuances(store, PROJECT_ISSUANCES_SHOWN_MAX, after_id, project_id)
    )
    following = None
    if len(found) == PROJECT_ISSUANCES_SHOWN_MAX:
        last_id = found[-1]["issuance_id"]
        following = f"/projects/{quote(project_id, safe='')}?after_id={last_id}"
    return {"issuances": found, "issuances_next": following}


@router.get(projects_api.PROJECT_PATH)
async def project(
    project_id: ProjectId,
    request: Request,
    service: ServiceDep,
    viewer: ViewerDep,
    after_id: AfterId = 0,
) -> HTMLResponse:
    """A project of the project registry, or the units of a project registered elsewhere
    (issued or imported into the ledger without a project record here)."""
    record = service.projects.project(project_id)
    issuances = _issuances_page(service, project_id, after_id)
    if record is None and not issuances["issuances"] and after_id == 0:
        raise PageError(404, "E_NOT_FOUND", f"There is no project {project_id}.")
    context = {
        "project_id": project_id,
        "project": record,
        "lifecycle": _lifecycle(record["state"]) if record else [],
        "nav": "projects",
    } | issuances
    return render(request, viewer, "project.html", context)
