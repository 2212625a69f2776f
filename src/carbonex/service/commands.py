"""Running ledger commands for the API: authorization done, audit written in the same commit."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from carbonex.ledger import Accepted, Command, Refused, Transaction
from carbonex.service import approvals, audit, idempotency
from carbonex.service.deps import Service
from carbonex.service.idempotency import Use
from carbonex.service.identity import Principal
from carbonex.service.problems import Problem


def refusal_problem(refused: Refused) -> Problem:
    failures = [failure.to_record() for failure in refused.failures]
    head = failures[0]["code"] if failures else "E_REFUSED"
    return Problem(409, str(head), "the ledger refused the command; nothing changed", failures)


def failures_problem(failures: Sequence[Any]) -> Problem:
    """A request the rules refused (project registry, carbon inclusion): 409 with the failures
    in precedence order, the first one's code as the problem's."""
    records = [failure.to_record() for failure in failures]
    head = str(records[0]["code"]) if records else "E_REFUSED"
    return Problem(409, head, "the request was refused; nothing changed", records)


def accepted_record(accepted: Accepted) -> dict[str, Any]:
    record = accepted.to_record()
    record.pop("effects", None)
    return record


def execute_in(tx: Transaction, principal: Principal, command: Command) -> Refused | Accepted:
    """Within a transaction: run the command and audit it (a duplicate was audited before)."""
    outcome = tx.submit(command)
    if isinstance(outcome, Accepted) and not outcome.duplicate:
        target = str(getattr(command, "account_id", getattr(command, "source_account_id", "")))
        detail = {"command_id": command.command_id, "seq": outcome.seq}
        audit.record(tx.store, tx.now, principal, command.kind, target, detail)
    return outcome


Result = TypeVar("Result")


def transact(
    service: Service, work: Callable[[Transaction], tuple[Result | Problem, bool]]
) -> Result:
    """`Ledger.transact`, raising a problem the work returned: a route's refusals inside the
    transaction (a key naming another kind of request, say) are returned from the work, not
    raised in it, since an exception there drops the ledger's cache."""
    outcome = service.ledger.transact(work)
    if isinstance(outcome, Problem):
        raise outcome
    return outcome


def run(service: Service, principal: Principal, command: Command) -> Accepted:
    """Run one command now; raise its refusal as a problem, and a key that names another
    kind of request."""

    def work(tx: Transaction) -> tuple[Accepted | Problem, bool]:
        reused = idempotency.other_use(tx.store, command.command_id, Use.LEDGER_COMMAND)
        if reused is not None:
            return reused, False
        outcome = execute_in(tx, principal, command)
        if isinstance(outcome, Refused):
            return refusal_problem(outcome), False
        return outcome, True

    return transact(service, work)


def queue_approval(
    service: Service,
    principal: Principal,
    pending: approvals.PendingRequest,
    audit_action: str,
    audit_target: str,
) -> approvals.Approval:
    """Record a request that waits for a second person, audited in the same commit; the same
    id again returns the recorded approval (callers refuse one recorded with other content),
    an id naming another kind of request is refused."""

    def work(tx: Transaction) -> tuple[approvals.Approval | Problem, bool]:
        reused = idempotency.other_use(tx.store, pending.approval_id, Use.APPROVAL)
        if reused is not None:
            return reused, False
        approval, new = approvals.submit(tx.store, pending, principal, tx.now)
        if new:
            detail = {"approval_id": pending.approval_id, "account_id": pending.account_id}
            audit.record(tx.store, tx.now, principal, audit_action, audit_target, detail)
        return approval, new

    return transact(service, work)
