"""Signed heads: the journal's head signed with the registry's key, for anyone to keep (see
`carbonex.ledger.signed_heads`). Public, as the head in /health is, and never cached: each answer
is signed afresh."""

from __future__ import annotations

from functools import partial
from typing import Any

from fastapi import APIRouter

from carbonex.ledger.signed_heads import sign_journal_head
from carbonex.service.deps import ServiceDep
from carbonex.service.problems import Problem

router = APIRouter(prefix="/heads", tags=["heads"])


@router.get(
    "/signed",
    responses={
        404: {
            "description": "This registry does not sign its heads (E_HEADS_NOT_SIGNED), or its "
            "journal is empty (E_JOURNAL_EMPTY)."
        }
    },
)
async def signed_head(service: ServiceDep) -> dict[str, Any]:
    """The journal's last entry (number, hash, time) and the time now, signed with the key
    `carbonex serve --head-key` names: keep it, and hold any later copy of the journal to it
    (`carbonex verify` or `journal-check` with `--signed-head FILE --public-key KEY`)."""
    if service.head_key is None:
        raise Problem(
            404, "E_HEADS_NOT_SIGNED", "this registry does not sign its heads (serve --head-key)"
        )
    sign = partial(sign_journal_head, private_key=service.head_key, now=service.now())
    signed = service.ledger.read(sign, read_models=False)
    if signed is None:
        raise Problem(404, "E_JOURNAL_EMPTY", "the journal is empty: there is no head to sign")
    return signed.to_record()
