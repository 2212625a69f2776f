"""What a project action does to units: issuance with deductions, and buffer reversals.

Called inside the registry's transaction, after the state machine has accepted the action:
these turn it into ledger commands and submit them in the same transaction, so a refusal by the
ledger refuses the action too and nothing of it is kept.

Programme accounts are found by kind (DOMAIN.md section 2), not named in code: the standard's
issuance account and buffer pool are the open accounts of kind `issuance` and `buffer_pool` in
the registry of the standard's unit type; a deduction's account is the open account of the
deduction's `account_kind` in that registry or, if the registry has none, the only one of that
kind anywhere (the Adaptation Fund account serves several mechanisms). None, or more than one
candidate, refuses the action with a code naming the kind.

Buffer: projects in the `removal` category, and any project given a non-permanence risk rating,
contribute to the standard's buffer pool under its buffer rule; other projects contribute
nothing. A reversal cancels the lost tonnes from the buffer pool, lowest serials first; a
project's reversals together never exceed the tonnes it was issued.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from carbonex.catalog.standards import (
    BUFFER_POOL_ACCOUNT_KIND,
    ISSUANCE_ACCOUNT_KIND,
    OMGE,
    SHARE_OF_PROCEEDS,
    Deduction,
    ProjectCatalog,
    Standard,
)
from carbonex.ledger import Cancel, Refused, Selection, Transaction, UnitAttributes
from carbonex.projects.deductions import (
    ZERO,
    DeductionError,
    IssuanceSplit,
    IssuedBefore,
    buffer_rate,
    split_issuance,
)
from carbonex.projects.events import ProjectRequest, decode_event
from carbonex.projects.issuance import IssuanceAccounts, issue_and_distribute
from carbonex.projects.lifecycle import Action, Project
from carbonex.projects.outcomes import Decision, ProjectFailure
from carbonex.projects.outcomes import fail as _fail
from carbonex.store import SqlStore

ACCOUNT_CANDIDATES_MAX = 50
REASON_LENGTH_MAX = 1000
OWED_KEY = "deductions_owed_t"
"""An issuance event's record of what each deduction has owed in all, this issuance included:
what lets a changed rate apply to later tonnes only."""

Failures = list[ProjectFailure]


RISK_RATING_PATTERN = re.compile(r"^[0-9]{1,3}(\.[0-9]{1,16})?$")
"""A risk rating as written: plain decimal digits (no sign, exponent, NaN or Infinity)."""
RISK_RATING_MIN = Decimal(0)
RISK_RATING_MAX = Decimal(1)
"""A non-permanence risk rating is a fraction of the project's credits at risk, from 0 to 1
(the VCS AFOLU Non-Permanence Risk Tool's overall rating as a share; a standard's risk-rated
buffer refuses ratings above its own `rate_max`, standards.toml)."""


def _risk_rating(details: Mapping[str, Any]) -> Decimal | None:
    raw = details.get("risk_rating")
    return None if raw is None else Decimal(str(raw))


def _check_rating_value(raw: Any) -> Failures:
    """A finite decimal fraction within RISK_RATING_MIN..RISK_RATING_MAX, written plainly: NaN,
    Infinity, a negative or a 1e999999999 were stored and then met at issuance."""
    written_plainly = isinstance(raw, str) and RISK_RATING_PATTERN.match(raw) is not None
    if written_plainly and RISK_RATING_MIN <= Decimal(raw) <= RISK_RATING_MAX:
        return []
    return _fail(
        "E_RISK_RATING_INVALID",
        f"risk rating {str(raw)[:40]!r}: a decimal fraction from {RISK_RATING_MIN} to "
        f"{RISK_RATING_MAX}, like 0.15",
    )


def contributes_to_buffer(category: str, rating: Decimal | None) -> bool:
    """Removals, and any project given a non-permanence risk rating, feed the buffer pool."""
    return category == "removal" or rating is not None


def check_risk_rating(catalog: ProjectCatalog, details: Mapping[str, Any]) -> Failures:
    """At creation: a risk rating, when given, is a fraction the standard's buffer rule accepts,
    and a project that will feed the buffer has what its standard's buffer rule needs (a rating
    for a risk-rated buffer; a rule that is encoded), so its issuance cannot be stuck later on
    particulars nobody can change. Creation only: projects recorded before still load."""
    raw = details.get("risk_rating")
    if raw is not None and (failures := _check_rating_value(raw)):
        return failures
    standard = catalog.standards.get(str(details.get("standard")))
    category = details.get("category")
    if standard is None or category not in ("avoidance", "removal"):
        return []  # refused for their own codes
    rating = None if raw is None else Decimal(raw)
    if not contributes_to_buffer(str(category), rating):
        return []
    if standard.buffer.kind == "risk_rating" and rating is None:
        return _fail(
            "E_RISK_RATING_MISSING",
            f"a {category} project under {standard.code} needs a non-permanence risk rating: "
            "its buffer contribution is the rating",
        )
    try:
        buffer_rate(standard.buffer, rating)
    except DeductionError as error:
        return _fail(error.code, f"{standard.code} {category} project: {error}")
    return []


def _command_prefix(project_id: str, request_id: str) -> str:
    """Ledger command ids for a project request: stable, unique and within the id limit."""
    digest = hashlib.sha256(f"{project_id}\n{request_id}".encode()).hexdigest()[:32]
    return f"project-{digest}"


def _programme_account(
    store: SqlStore, kind: str, registry: str, anywhere: bool
) -> tuple[str | None, Failures]:
    rows = store.query(
        "SELECT account_id, registry FROM accounts WHERE kind = ? AND status = 'open' "
        "ORDER BY account_id LIMIT ?",
        (kind, ACCOUNT_CANDIDATES_MAX),
    )
    local = [row[0] for row in rows if row[1] == registry]
    candidates = local or ([row[0] for row in rows] if anywhere else [])
    if len(candidates) == 1:
        return str(candidates[0]), []
    if not candidates:
        return None, _fail(
            "E_PROGRAMME_ACCOUNT_MISSING", f"no open '{kind}' account in registry {registry}"
        )
    return None, _fail(
        "E_PROGRAMME_ACCOUNT_AMBIGUOUS",
        f"several open '{kind}' accounts ({', '.join(map(str, candidates[:5]))})",
    )


def _issuance_accounts(
    store: SqlStore,
    registry: str,
    deductions: tuple[Deduction, ...],
    split: IssuanceSplit,
    proponent_account_id: str,
) -> tuple[IssuanceAccounts | None, Failures]:
    issuance, failures = _programme_account(store, ISSUANCE_ACCOUNT_KIND, registry, anywhere=False)
    targets: dict[str, str] = {}
    for deduction in deductions:
        account_id, missing = _programme_account(store, deduction.account_kind, registry, True)
        failures += missing
        if account_id is not None:
            targets[deduction.code] = account_id
    buffer_account_id = None
    if split.buffer_t:
        buffer_account_id, missing = _programme_account(
            store, BUFFER_POOL_ACCOUNT_KIND, registry, False
        )
        failures += missing
    if failures or issuance is None:
        return None, failures
    return IssuanceAccounts(issuance, proponent_account_id, targets, buffer_account_id), []


def _split(standard: Standard, catalog: ProjectCatalog, particulars: Mapping[str, Any],
           verified_t: int, before: IssuedBefore,
           ) -> tuple[tuple[Deduction, ...], IssuanceSplit]:  # fmt: skip
    deductions = catalog.deductions.get(standard.code, ())
    rating = _risk_rating(particulars)
    share = ZERO
    if particulars["category"] == "removal" or rating is not None:
        share = buffer_rate(standard.buffer, rating)
    split = split_issuance(verified_t, deductions, share, standard.buffer.rounding, before)
    return deductions, split


def issued_before(store: SqlStore, project_id: str) -> IssuedBefore:
    """The project's issuances so far, from its approve_issuance events: the gross quantity,
    what share of proceeds and OMGE took, and what they owed in all by the last issuance that
    recorded it (deductions are owed on the running total, at the rates of their day)."""
    quantity_t, deducted_t = 0, {SHARE_OF_PROCEEDS: 0, OMGE: 0}
    owed_t: dict[str, int] | None = None
    for (payload,) in store.query(
        "SELECT payload FROM project_events WHERE project_id = ? AND action = ? ORDER BY event_seq",
        (project_id, "approve_issuance"),
    ):
        issuance = decode_event(bytes(payload))[2]["outcome"]  # `_issuance_record`
        quantity_t += int(issuance["quantity_t"])
        deducted_t[SHARE_OF_PROCEEDS] += int(issuance["share_of_proceeds_t"])
        deducted_t[OMGE] += int(issuance["omge_cancelled_t"])
        if OWED_KEY in issuance:
            owed_t = {str(code): int(owed) for code, owed in issuance[OWED_KEY].items()}
    return IssuedBefore(quantity_t, deducted_t, owed_t)


def issue(
    tx: Transaction,
    catalog: ProjectCatalog,
    before: Project,
    after: Project,
    particulars: Mapping[str, Any],
    request: ProjectRequest,
) -> Decision:
    """Approve the verified report: issue its quantity with the standard's deductions."""
    submitted, verified = before.open_report()
    if submitted is None or submitted.period is None or verified is None:
        raise RuntimeError("approve_issuance was accepted without a verified report")
    verified_t = verified.quantity_t or 0
    standard = before.standard
    try:
        before_t = issued_before(tx.store, before.project_id)
        deductions, split = _split(standard, catalog, particulars, verified_t, before_t)
    except DeductionError as error:
        return _fail(error.code, str(error)), None, {}
    registry = tx.catalog.unit_types[standard.unit_type].registry
    accounts, failures = _issuance_accounts(
        tx.store, registry, deductions, split, particulars["proponent_account_id"]
    )
    if accounts is None:
        return failures, None, {}
    period = submitted.period
    attributes = UnitAttributes(
        unit_type=standard.unit_type,
        standard=standard.code,
        project_id=before.project_id,
        vintage_start=period.start,
        vintage_end=period.end - dt.timedelta(days=1),  # vintages are inclusive dates
        host_country=particulars["host_country"],
        methodology=particulars["methodology"],
        category=particulars["category"],
    )
    # One issuance per history position: retried transactions recompute the same ids.
    prefix = _command_prefix(before.project_id, f"issuance/{len(before.history)}")
    outcome = issue_and_distribute(tx.submit_batch, prefix, attributes, split, deductions, accounts)
    if isinstance(outcome, Refused):
        return _ledger_refusal(outcome), None, {}
    return [], after, _issuance_record(split, outcome[0].seq, outcome[-1].seq, prefix)


def _issuance_record(
    split: IssuanceSplit, first_seq: int, last_seq: int, prefix: str
) -> dict[str, Any]:
    return {
        "quantity_t": split.quantity_t,
        "to_proponent_t": split.to_proponent_t,
        "share_of_proceeds_t": split.share_of_proceeds_t,
        "omge_cancelled_t": split.omge_cancelled_t,
        "buffer_t": split.buffer_t,
        OWED_KEY: dict(split.owed_t),
        "journal_seq": first_seq,
        "journal_seq_last": last_seq,
        "command_id_prefix": prefix,
    }


def _ledger_refusal(refused: Refused) -> Failures:
    failures = _fail("E_LEDGER_REFUSED", "the ledger refused the units' commands; nothing applied")
    for failure in refused.failures:
        failures += _fail(failure.code.value, failure.message)
    return failures


def reversed_t(project: Project) -> int:
    """The tonnes the project's recorded reversals lost, in all."""
    return sum(
        event.quantity_t or 0 for event in project.history if event.action is Action.RECORD_REVERSAL
    )


def check_reversal(project: Project, issued_t: int, quantity_t: int) -> Failures:
    """A project loses at most what it was issued: its reversals so far and this one together
    stay within its gross issued tonnes (a project issued nothing cancelled 100 t of another
    project's buffer contribution). Checked when a reversal is decided, not on replay."""
    so_far_t = reversed_t(project)
    if so_far_t + quantity_t <= issued_t:
        return []
    return _fail(
        "E_REVERSAL_EXCEEDS_ISSUED",
        f"a reversal of {quantity_t} t after {so_far_t} t reversed exceeds the {issued_t} t "
        f"issued to project {project.project_id}",
    )


def reverse(tx: Transaction, before: Project, after: Project, request: ProjectRequest) -> Decision:
    """A reversal: cancel the lost tonnes from the standard's buffer pool."""
    quantity_t = request.quantity_t or 0
    issued_t = issued_before(tx.store, before.project_id).quantity_t
    failures = check_reversal(before, issued_t, quantity_t)
    if failures:
        return failures, None, {}
    standard = before.standard
    registry = tx.catalog.unit_types[standard.unit_type].registry
    buffer_account_id, failures = _programme_account(
        tx.store, BUFFER_POOL_ACCOUNT_KIND, registry, False
    )
    if buffer_account_id is None:
        return failures, None, {}
    reason = f"reversal reported for project {before.project_id} by {request.actor}"
    command_id = _command_prefix(before.project_id, f"reversal/{len(before.history)}")
    cancel = Cancel(
        command_id,
        buffer_account_id,
        Selection(standard.unit_type, quantity=quantity_t),
        reason[:REASON_LENGTH_MAX],
    )
    outcome = tx.submit_batch([cancel])
    if isinstance(outcome, Refused):
        return _ledger_refusal(outcome), None, {}
    record = {"quantity_t": quantity_t, "buffer_account_id": buffer_account_id,
              "journal_seq": outcome[0].seq, "command_id": command_id}  # fmt: skip
    return [], after, record
