"""Running ledger commands for the API: authorization done, audit written in the same commit."""

from __future__ import annotations

from typing import Any

from carbonex.ledger import Accepted, Command, Refused, Transaction
from carbonex.service import audit
from carbonex.service.deps import Service
from carbonex.service.identity import Principal
from carbonex.service.problems import Problem


def refusal_problem(refused: Refused) -> Problem:
    failures = [failure.to_record() for failure in refused.failures]
    head = failures[0]["code"] if failures else "E_REFUSED"
    return Problem(409, str(head), "the ledger refused the command; nothing changed", failures)


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


def run(service: Service, principal: Principal, command: Command) -> Accepted:
    """Run one command now; raise its refusal as a problem."""

    def work(tx: Transaction) -> tuple[Refused | Accepted, bool]:
        outcome = execute_in(tx, principal, command)
        return outcome, isinstance(outcome, Accepted)

    outcome = service.ledger.transact(work)
    if isinstance(outcome, Refused):
        raise refusal_problem(outcome)
    return outcome
