"""Health: whether this worker can read its database now, for load balancers and supervisors.
Public (it says nothing the explorer does not) and never cached."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from carbonex.service.deps import ServiceDep
from carbonex.service.problems import Problem
from carbonex.store.database import SCHEMA_HEAD

router = APIRouter(tags=["health"])


@router.get(
    "/health",
    responses={503: {"description": "The database cannot be read (E_STORE_UNAVAILABLE)."}},
)
async def health(service: ServiceDep, response: Response) -> dict[str, Any]:
    """200 with the journal's head when a read transaction succeeds; 503 otherwise (the next
    call connects again, see README, Stores)."""
    response.headers["Cache-Control"] = "no-store"
    try:
        head = service.ledger.head()
    except Exception as error:  # reported as the answer: that is what a health check is for
        raise Problem(
            503, "E_STORE_UNAVAILABLE", f"the database cannot be read: {type(error).__name__}"
        ) from error
    return {
        "status": "ok",
        "store": service.ledger.store.url.split(":", 1)[0],
        "schema_revision": SCHEMA_HEAD,
        "journal_seq": head["seq"],
        "journal_head_hash": head["entry_hash"],
    }
