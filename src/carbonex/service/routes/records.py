"""Restricted records: the journal (registry administrators, auditors, national authorities)
and the audit log (registry administrators and auditors)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from carbonex.ledger.journal_export import UnexportableError, export_page
from carbonex.service import audit
from carbonex.service.deps import DEFAULT_PAGE_SIZE, Limit, ServiceDep, UserDep
from carbonex.service.identity import READ_EVERYTHING, Role
from carbonex.service.problems import Problem, denied

router = APIRouter(tags=["records"])
AfterSeq = Annotated[int, Query(ge=0, le=2**63 - 1)]
NDJSON = "application/x-ndjson"
JOURNAL_LINES_BYTES_MAX = 16_000_000
"""A page of exported lines stops growing past this size (one larger entry is still sent)."""


def journal_damaged(error: UnexportableError) -> Problem:
    """A stored entry no line can hold as it is: the page is not sent (a file missing it would
    pass for the journal), and the problem names the entry."""
    return Problem(503, "E_JOURNAL_DAMAGED", f"{error}; an operator must repair the journal")


@router.get("/journal")
async def journal(
    service: ServiceDep,
    principal: UserDep,
    limit: Limit = DEFAULT_PAGE_SIZE,
    after_seq: AfterSeq = 0,
) -> list[dict[str, Any]]:
    """Journal entries with their hashes, in sequence order."""
    if not principal.has(*READ_EVERYTHING):
        raise denied("registry administrators, auditors and national authorities")
    return service.ledger.journal(limit, after_seq)


@router.get(
    "/journal/lines",
    response_class=Response,
    responses={
        200: {
            "content": {NDJSON: {}},
            "description": "One exported entry per line; each catalog on a line of its own "
            "before the first entry naming it.",
        }
    },
)
async def journal_lines(
    service: ServiceDep,
    principal: UserDep,
    limit: Limit = DEFAULT_PAGE_SIZE,
    after_seq: AfterSeq = 0,
) -> Response:
    """Entries as `carbonex journal-export` writes them (each payload its exact stored bytes,
    each catalog before the first entry naming it), at most `limit` entries or about
    JOURNAL_LINES_BYTES_MAX bytes: concatenated in order, the pages are a file `carbonex
    journal-check` reads. `X-Last-Seq` names the last entry sent."""
    if not principal.has(*READ_EVERYTHING):
        raise denied("registry administrators, auditors and national authorities")
    try:
        lines, last_seq = service.ledger.read(
            lambda store: export_page(store, after_seq, limit, JOURNAL_LINES_BYTES_MAX)
        )
    except UnexportableError as error:
        raise journal_damaged(error) from None
    return Response(b"".join(lines), media_type=NDJSON, headers={"X-Last-Seq": str(last_seq)})


@router.get("/audit")
async def audit_log(
    service: ServiceDep,
    principal: UserDep,
    limit: Limit = DEFAULT_PAGE_SIZE,
    after_seq: AfterSeq = 0,
) -> list[dict[str, Any]]:
    """Every accepted write with its actor."""
    if not principal.has(Role.REGISTRY_ADMINISTRATOR, Role.AUDITOR):
        raise denied("registry administrators and auditors")
    return service.ledger.read(lambda store: audit.entries(store, limit, after_seq))
