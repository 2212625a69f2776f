"""Four-eyes approval: a write that needs a second person waits here until one decides.

Issuance (a direct `issue` by the registry, a carbon-inclusion aggregation, or a project's
`approve_issuance`) and transfers of at least the policy's quantity wait as pending approvals. A
different person with the same authority decides: another representative of the source account
for a transfer, another registry administrator for an issue or an aggregation, another standard
administrator for a project issuance
(who, as `issuance_approvals` checks when approving, submitted and verified none of the report
the approval names). Approval runs the stored request in the same transaction that records
the decision; if the ledger refuses it then, nothing is recorded and the approval stays pending.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import orjson

from carbonex.ledger import Command, Issue, Transfer
from carbonex.service.identity import READ_EVERYTHING, Principal, Role
from carbonex.service.policy import ServicePolicy
from carbonex.service.problems import Problem
from carbonex.store import SqlStore

APPROVAL_COLUMNS = (
    "approval_id",
    "kind",
    "payload",
    "summary",
    "account_id",
    "requested_by",
    "requested_at",
    "status",
    "decided_by",
    "decided_at",
    "outcome",
)
APPROVALS_PAGE_SIZE_MAX = 500
PENDING_RESPONSE: dict[int | str, dict[str, Any]] = {
    202: {
        "description": "Waiting for a second authorized person: the pending approval.",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
"""For the OpenAPI document of writes that may wait for a second person."""
EXECUTED_RESPONSE: dict[int | str, dict[str, Any]] = {
    201: {
        "description": "Done at once (when the policy asks for no second person).",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
LEDGER_COMMAND = "ledger_command"
PROJECT_ACTION = "project_action"
INCLUSION_AGGREGATION = "inclusion_aggregation"
"""Its payload is the aggregation request's fields (`inclusion_approvals`)."""
E_APPROVAL_STALE = "E_APPROVAL_STALE"
"""The approval is no longer for what approving would do now: a project issuance's report
(`issuance_approvals`), an aggregation already made (`inclusion_approvals`)."""


def stale(detail: str) -> Problem:
    """The refusal of a stale approval (409, one failure): it stays pending, to be rejected."""
    return Problem(409, E_APPROVAL_STALE, detail, [{"code": E_APPROVAL_STALE, "message": detail}])


@dataclass(frozen=True, slots=True)
class Approval:
    approval_id: str
    kind: str
    payload: dict[str, Any]
    summary: str
    account_id: str | None
    requested_by: str
    status: str
    decided_by: str | None = None
    outcome: dict[str, Any] | None = None

    def to_record(self) -> dict[str, Any]:
        return {
            "approval_id": self.approval_id,
            "kind": self.kind,
            "request": self.payload,
            "summary": self.summary,
            "account_id": self.account_id,
            "requested_by": self.requested_by,
            "status": self.status,
            "decided_by": self.decided_by,
        }


def transfer_needs_second_person(policy: ServicePolicy, command: Transfer) -> bool:
    selection = command.selection
    quantity = selection.quantity
    if quantity is None:
        quantity = sum(r.last_serial - r.first_serial + 1 for r in selection.serial_ranges)
    return quantity >= policy.four_eyes_transfer_quantity_min


def may_decide(principal: Principal, approval: Approval) -> bool:
    """A second person with the same authority; never the requester."""
    if principal.user_id == approval.requested_by or approval.status != "pending":
        return False
    if approval.kind == PROJECT_ACTION:
        return principal.has(Role.STANDARD_ADMINISTRATOR)
    if approval.kind == INCLUSION_AGGREGATION:
        return principal.has(Role.REGISTRY_ADMINISTRATOR)
    if approval.payload.get("kind") == Issue.kind:
        return principal.has(Role.REGISTRY_ADMINISTRATOR)
    return approval.account_id is not None and principal.represents(approval.account_id)


def may_see(principal: Principal, approval: Approval) -> bool:
    """The requester, the decider, whoever may decide, whoever reads everything (registry
    administrators, auditors, national authorities) and readers of the approval's account."""
    return (
        principal.user_id in (approval.requested_by, approval.decided_by)
        or may_decide(principal, approval)
        or principal.has(*READ_EVERYTHING)
        or (approval.account_id is not None and principal.may_read_account(approval.account_id))
    )


def _approval(row: tuple[Any, ...]) -> Approval:
    values = dict(zip(APPROVAL_COLUMNS, row, strict=True))
    return Approval(
        values["approval_id"],
        values["kind"],
        orjson.loads(bytes(values["payload"])),
        values["summary"],
        values["account_id"],
        values["requested_by"],
        values["status"],
        values["decided_by"],
        None if values["outcome"] is None else orjson.loads(bytes(values["outcome"])),
    )


def load(store: SqlStore, approval_id: str) -> Approval | None:
    row = store.query_one(
        f"SELECT {', '.join(APPROVAL_COLUMNS)} FROM approvals WHERE approval_id = ?",
        (approval_id,),
    )
    return _approval(row) if row else None


def pending(store: SqlStore, limit: int, after: str = "") -> list[Approval]:
    rows = store.query(
        f"SELECT {', '.join(APPROVAL_COLUMNS)} FROM approvals "
        "WHERE status = 'pending' AND approval_id > ? ORDER BY approval_id LIMIT ?",
        (after, max(1, min(limit, APPROVALS_PAGE_SIZE_MAX))),
    )
    return [_approval(row) for row in rows]


def pending_visible(
    store: SqlStore, principal: Principal, limit: int, after: str = ""
) -> list[Approval]:
    """Up to `limit` pending approvals the principal may see, after `after`: pages of the
    queue are read until enough are found, so a short page means the end of the queue."""
    found: list[Approval] = []
    while len(found) < limit:
        page = pending(store, APPROVALS_PAGE_SIZE_MAX, after)
        found += [approval for approval in page if may_see(principal, approval)]
        if len(page) < APPROVALS_PAGE_SIZE_MAX:
            break
        after = page[-1].approval_id
    return found[:limit]


@dataclass(frozen=True, slots=True)
class PendingTally:
    """How many pending approvals a person may decide and has requested, among those read."""

    to_decide: int = 0  # that the principal may approve now
    requested: int = 0
    whole_queue: bool = False  # False: the counts are lower bounds


RefusedToApprove = Callable[[list[Approval]], Collection[str]]
"""approval ids, of a page the principal may decide, that they may not approve now (only
reject): `issuance_approvals.approve_refusals`, which this module cannot import."""


def tally_pending(
    store: SqlStore, principal: Principal, rows_max: int, refused: RefusedToApprove
) -> PendingTally:
    """Count over at most `rows_max` pending approvals, in id order, page by page: those
    waiting for the principal are those they may approve now, as `you_may_approve` says."""
    to_decide = requested = read = 0
    after = ""
    while read < rows_max:
        asked = min(APPROVALS_PAGE_SIZE_MAX, rows_max - read)
        page = pending(store, asked, after)
        decidable = [approval for approval in page if may_decide(principal, approval)]
        to_decide += len(decidable) - len(refused(decidable))
        requested += sum(approval.requested_by == principal.user_id for approval in page)
        read += len(page)
        if len(page) < asked:
            return PendingTally(to_decide, requested, whole_queue=True)
        after = page[-1].approval_id
    return PendingTally(to_decide, requested, whole_queue=not pending(store, 1, after))


@dataclass(frozen=True, slots=True)
class PendingRequest:
    """A request to be approved by a second person, as it is stored."""

    approval_id: str
    kind: str  # LEDGER_COMMAND | PROJECT_ACTION | INCLUSION_AGGREGATION
    payload: dict[str, Any]
    summary: str
    account_id: str | None = None  # whose representatives decide a transfer


def submit(
    store: SqlStore, pending: PendingRequest, principal: Principal, now: dt.datetime
) -> tuple[Approval, bool]:
    """Record a pending approval; (the approval, whether it is new). The same id again returns
    the stored one (idempotency); callers compare payloads for reuse with other content."""
    existing = load(store, pending.approval_id)
    if existing is not None:
        return existing, False
    store.execute(
        "INSERT INTO approvals (approval_id, kind, payload, summary, account_id, requested_by, "
        "requested_at, status) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending')",
        (
            pending.approval_id,
            pending.kind,
            orjson.dumps(pending.payload, option=orjson.OPT_SORT_KEYS),
            pending.summary,
            pending.account_id,
            principal.user_id,
            now.isoformat(),
        ),
    )
    approval = Approval(
        pending.approval_id, pending.kind, pending.payload, pending.summary,
        pending.account_id, principal.user_id, "pending",
    )  # fmt: skip
    return approval, True


def decide(
    store: SqlStore,
    approval_id: str,
    status: str,
    principal: Principal,
    now: dt.datetime,
    outcome: dict[str, Any],
) -> None:
    store.execute(
        "UPDATE approvals SET status = ?, decided_by = ?, decided_at = ?, outcome = ? "
        "WHERE approval_id = ? AND status = 'pending'",
        (
            status,
            principal.user_id,
            now.isoformat(),
            orjson.dumps(outcome, option=orjson.OPT_SORT_KEYS),
            approval_id,
        ),
    )


def summary_of(command: Command) -> str:
    if isinstance(command, Transfer):
        selection = command.selection
        what = selection.quantity if selection.quantity is not None else "serials of"
        return (
            f"transfer {what} {selection.unit_type} from {command.source_account_id} "
            f"to {command.target_account_id}"
        )
    if isinstance(command, Issue):
        return f"issue {command.quantity} {command.attributes.unit_type} into {command.account_id}"
    return command.kind
