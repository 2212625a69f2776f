"""Restricted records: the journal (registry administrators, auditors, national authorities)
and the audit log (registry administrators and auditors)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from carbonex.service import audit
from carbonex.service.deps import DEFAULT_PAGE_SIZE, Limit, ServiceDep, UserDep
from carbonex.service.identity import READ_EVERYTHING, Role
from carbonex.service.problems import denied

router = APIRouter(tags=["records"])
AfterSeq = Annotated[int, Query(ge=0, le=2**63 - 1)]


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
