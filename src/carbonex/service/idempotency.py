"""One idempotency key, one request: a key a user sent names that request for good, whichever
route it went to.

A key is stored as the id of what it asked for (`user:key`): a ledger command's id in the
journal, a project step's request id in `project_events`, or a four-eyes request's id in
`approvals` (pending or decided; once approved, the journal entry or project event it ran
carries the same id). Each of those tables compares content itself for requests of its own kind
(the ledger's E_COMMAND_ID_REUSED, the project registry's E_REQUEST_ID_REUSED, the approval's
payload); `other_use` refuses a key found in another one, before anything is written. Naming a
representative and importing a file write no table of their own: their keys are found in the
audit rows they write (`audited`, through the audit log's index on actor and action), and
`other_use` looks there too."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Any

import orjson

from carbonex.service.deps import command_id
from carbonex.service.identity import Principal
from carbonex.service.problems import Problem
from carbonex.store import SqlStore

ADD_REPRESENTATIVE = "add_representative"
IMPORT_SOURCES = ("verra", "gold-standard")
IMPORT_ACTIONS = tuple(f"import_{source}" for source in IMPORT_SOURCES)
"""The audit actions of imports: one key names one import, whatever its source."""
AGGREGATE_INCLUSION_POINTS = "aggregate_inclusion_points"
"""An aggregation made at once (no four eyes on issuance): no approval keeps its key."""
KEYED_AUDIT_ACTIONS = (ADD_REPRESENTATIVE, *IMPORT_ACTIONS, AGGREGATE_INCLUSION_POINTS)
"""The writes whose keys only their audit rows keep."""


class Use(enum.Enum):
    """What a request id names, by the table that holds it."""

    APPROVAL = "SELECT 1 FROM approvals WHERE approval_id = ?"
    LEDGER_COMMAND = "SELECT 1 FROM journal WHERE command_id = ?"
    PROJECT_ACTION = "SELECT 1 FROM project_events WHERE request_id = ?"

    def holds(self, store: SqlStore, request_id: str) -> bool:
        return store.query_one(self.value, (request_id,)) is not None


def key_reused() -> Problem:
    """An idempotency key sent again with other content."""
    return Problem(409, "E_IDEMPOTENCY_KEY_REUSED", "this key was used for another request")


def other_use(store: SqlStore, request_id: str, own: Use | None) -> Problem | None:
    """The refusal of a request id that already names a request of another kind than `own`
    (None: a write with no table of its own, whose own use the caller looks up), or None. An
    approval comes first: the request it ran carries its id too."""
    if Use.APPROVAL.holds(store, request_id):
        return None if own is Use.APPROVAL else key_reused()
    others = (use for use in (Use.LEDGER_COMMAND, Use.PROJECT_ACTION) if use is not own)
    if any(use.holds(store, request_id) for use in others):
        return key_reused()
    if own is not None and _keyed_audit_row(store, request_id):
        return key_reused()
    return None


def _keyed_audit_row(store: SqlStore, request_id: str) -> bool:
    """Whether `request_id` (user:key) named a write only the audit log keeps."""
    user_id, _, key = request_id.partition(":")
    return _audit_row(store, user_id, KEYED_AUDIT_ACTIONS, key) is not None


@dataclass(frozen=True, slots=True)
class Audited:
    target: str
    detail: dict[str, Any]


def audited_use(
    store: SqlStore, principal: Principal, actions: tuple[str, ...], key: str
) -> Problem | Audited | None:
    """For a write with no table of its own: the refusal of a key that names another kind of
    request (one of another write only the audit log keeps included), else the audit row of
    the write it named, else None (a new key)."""
    request_id = command_id(principal, key)
    reused = other_use(store, request_id, None)
    if reused is not None:
        return reused
    found = audited(store, principal, actions, key)
    if found is None and _keyed_audit_row(store, request_id):
        return key_reused()  # kept by another of KEYED_AUDIT_ACTIONS
    return found


def audited(
    store: SqlStore, principal: Principal, actions: tuple[str, ...], key: str
) -> Audited | None:
    """The audit row of the principal's write under `key` among `actions`, or None."""
    return _audit_row(store, principal.user_id, actions, key)


def _audit_row(store: SqlStore, user_id: str, actions: tuple[str, ...], key: str) -> Audited | None:
    """Reads the user's rows of those actions alone (`audit_log_by_actor`: rare
    administrators' writes), not every write's."""
    marks = ", ".join("?" * len(actions))
    rows = store.query(
        f"SELECT target, detail FROM audit_log WHERE actor = ? AND action IN ({marks}) "
        "ORDER BY audit_seq",
        (user_id, *actions),
    )
    for target, detail in rows:
        record = orjson.loads(bytes(detail))
        if record.get("idempotency_key") == key:
            return Audited(str(target), record)
    return None
