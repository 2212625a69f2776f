"""Carbon inclusion on the ledger: people record low-carbon actions, verifiers review them, and an
aggregator turns the verified points into issued units, each person's contribution kept.

    registry = InclusionRegistry(ledger)
    registry.record("trip-1", "P-001", "transit_trip_km", Decimal("12.5"), dt.date(2026, 2, 27))
    registry.verify(["trip-1"], verifier="transit-operator-api")
    registry.aggregate("agg-2026-02", "AGG-1", dt.date(2026, 2, 1), dt.date(2026, 3, 1),
                       project_id="CI-DEMO", host_country="CN")

Every write runs in one `Ledger.transact` unit of work, so it queues on the ledger's writer lock
(daily caps and balances are checked and changed by one writer at a time), and an aggregation's
ledger issue, its rows and the actions it consumes commit together or not at all. A refusal
changes nothing. Action and aggregation ids are the client's: resubmitting one with the same
content returns the first result (`duplicate=True`) and changes nothing; with other content it is
refused (E_ACTION_ID_REUSED, E_AGGREGATION_ID_REUSED).

An aggregation takes every verified action of a day in [period_start, period_end) that no
aggregation took before, plus every person's carried points unless an aggregation before it had a
later period end (see `rules` for the rounding and the vintages), and issues the units into the
aggregator's account with one ledger `Issue` whose vintage is the period.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson

from carbonex.catalog.inclusion import InclusionCatalog, default_inclusion_catalog
from carbonex.dates import is_day, latest_day
from carbonex.inclusion import rules, tables
from carbonex.inclusion.results import (
    Aggregated,
    PointsBalance,
    Recorded,
    Refusal,
    Reviewed,
)
from carbonex.inclusion.rules import Action, Code, Failure, Plan, Status
from carbonex.ledger import Accepted, Issue, Ledger, Refused, Transaction, UnitAttributes
from carbonex.ledger import Code as LedgerCode
from carbonex.ledger.limits import period_window_problem
from carbonex.store import SqlStore
from carbonex.text import same_person, shortened

PAGE_SIZE_MAX = 1_000
"""Rows one query page returns at most."""
REVIEW_ACTIONS_MAX = 10_000
"""Actions one verify or reject call may name."""
AGGREGATION_PEOPLE_MAX = 1_000_000
"""People one aggregation may take points from (their contributions are rows of one commit)."""
LEDGER_MESSAGE_LENGTH_MAX = 200
"""Characters of each ledger failure message an E_LEDGER_REFUSED message quotes: this refusal's
length stays bounded whatever the ledger's messages say (they quote unknown values shortened)."""
COMMAND_ID_PREFIX = "inclusion:"
CATEGORY = "avoidance"


@dataclass(frozen=True, slots=True)
class AggregationRequest:
    aggregation_id: str
    aggregator_account_id: str
    period_start: dt.date
    period_end: dt.date
    project_id: str
    host_country: str

    @property
    def request_hash(self) -> str:
        """SHA-256 of the canonical JSON of the request: equal content, equal hash."""
        encoded = orjson.dumps(self, option=orjson.OPT_SORT_KEYS)
        return hashlib.sha256(encoded).hexdigest()

    @property
    def command_id(self) -> str:
        return f"{COMMAND_ID_PREFIX}{self.aggregation_id}"


def _page(limit: int) -> int:
    return max(1, min(int(limit), PAGE_SIZE_MAX))


def _refuse(request_id: str, *failures: Failure) -> tuple[Refusal, bool]:
    """A refusal of the request `request_id` (an id as given, perhaps refused for its length)."""
    return Refusal(rules.carried_id(request_id), rules.in_precedence_order(failures)), False


class InclusionRegistry:
    def __init__(self, ledger: Ledger, catalog: InclusionCatalog | None = None) -> None:
        self.ledger = ledger
        self.catalog = catalog or default_inclusion_catalog()

    # -- recording -------------------------------------------------------------------------------

    def record(
        self, action_id: str, person_id: str, action_type: str, quantity: Decimal, day: dt.date
    ) -> Recorded | Refusal:
        """Record an action: refused (unknown type, bad quantity or day, over the daily cap...)
        or recorded with the points it will earn once verified."""
        action = Action(action_id, person_id, action_type, quantity, day)
        return self.ledger.transact(lambda transaction: self._record(transaction, action))

    def _record(self, transaction: Transaction, action: Action) -> tuple[Recorded | Refusal, bool]:
        store = transaction.store
        existing = tables.action(store, action.action_id)
        if existing is not None:
            return _resubmitted(existing, action), False
        shape = rules.check_shape(self.catalog, action, transaction.now)
        if shape:  # before reading anything by the action's day, which may be no date at all
            return _refuse(action.action_id, *shape)
        same_day_micro = tables.recorded_same_day_micro(
            store, action.person_id, action.action_type, action.day.isoformat()
        )
        outcome = rules.record_action(
            self.catalog, action, transaction.now, rules.quantity_of(same_day_micro)
        )
        if isinstance(outcome, tuple):
            return _refuse(action.action_id, *outcome)
        tables.insert_action(store, action, outcome, transaction.now.isoformat())
        recorded = Recorded(
            action.action_id,
            action.person_id,
            action.action_type,
            rules.quantity_of(outcome.quantity_micro),
            action.day,
            outcome.points_milli,
            Status.RECORDED.value,
        )
        return recorded, True

    # -- review ----------------------------------------------------------------------------------

    def verify(self, action_ids: Sequence[str], verifier: str) -> Reviewed | Refusal:
        """Mark recorded actions verified: their points become available. Verifying a verified
        or aggregated action changes nothing; a rejected one is refused. All or nothing."""
        return self._review(action_ids, verifier, Status.VERIFIED)

    def reject(self, action_ids: Sequence[str], verifier: str) -> Reviewed | Refusal:
        """Mark recorded or verified actions rejected: they never earn points. An aggregated
        action cannot be rejected (its points are issued units now). All or nothing."""
        return self._review(action_ids, verifier, Status.REJECTED)

    def _review(
        self, action_ids: Sequence[str], verifier: str, status: Status
    ) -> Reviewed | Refusal:
        ids = list(dict.fromkeys(action_ids))
        failures = rules.check_text(verifier, Code.E_VERIFIER_INVALID, "verifier")
        if len(ids) > REVIEW_ACTIONS_MAX:
            message = f"{len(ids):,} actions named; at most {REVIEW_ACTIONS_MAX:,} at a time"
            failures.append(Failure(Code.E_TOO_MANY_ACTIONS, message))
        if failures:
            return Refusal(status.value, rules.in_precedence_order(failures))

        def work(transaction: Transaction) -> tuple[Reviewed | Refusal, bool]:
            return _apply_review(transaction, ids, verifier, status)

        return self.ledger.transact(work)

    # -- aggregating -----------------------------------------------------------------------------

    def aggregate(
        self,
        aggregation_id: str,
        aggregator_account_id: str,
        period_start: dt.date,
        period_end: dt.date,
        *,
        project_id: str,
        host_country: str,
    ) -> Aggregated | Refusal:
        """Turn the verified points of actions in [period_start, period_end), plus carried
        points, into whole units issued to the aggregator's account (see the module)."""
        request = AggregationRequest(
            aggregation_id,
            aggregator_account_id,
            period_start,
            period_end,
            project_id,
            host_country,
        )
        return self.ledger.transact(lambda transaction: self._aggregate(transaction, request))

    def _aggregate(
        self, transaction: Transaction, request: AggregationRequest
    ) -> tuple[Aggregated | Refusal, bool]:
        store = transaction.store
        request_id = request.aggregation_id
        existing = tables.aggregation(store, request_id)
        if existing is not None:
            return _aggregation_resubmitted(request, *existing), False
        failures = _check_request(request, latest_day(transaction.now))
        if failures:
            return _refuse(request_id, *failures)
        points, counts = tables.verified_in_period(store, request.period_start, request.period_end)
        carried = tables.all_carried(store)
        kept: dict[str, int] = {}  # carried points this aggregation does not take
        if not rules.carried_points_join(request.period_end, tables.latest_period_end(store)):
            carried, kept = {}, carried
        available = rules.points_by_person(points.items(), carried)
        if len(available) > AGGREGATION_PEOPLE_MAX:
            message = f"{len(available):,} people; at most {AGGREGATION_PEOPLE_MAX:,} at a time"
            return _refuse(request_id, Failure(Code.E_TOO_MANY_PEOPLE, message))
        plan = rules.aggregate(available, self.catalog.points_per_unit)
        if isinstance(plan, tuple):
            return Refusal(request_id, plan), False
        outcome = self._issue(transaction, request, plan)
        if isinstance(outcome, Refusal):
            return outcome, False
        done = _aggregated(request, plan, self.catalog.unit_type, counts, outcome, transaction.now)
        tables.write_aggregation(store, request.request_hash, done, plan, counts, kept)
        return done, True

    def _issue(
        self, transaction: Transaction, request: AggregationRequest, plan: Plan
    ) -> Accepted | Refusal:
        command = Issue(
            request.command_id,
            request.aggregator_account_id,
            plan.units,
            self.attributes(request),
        )
        outcome = transaction.submit_batch([command])
        if isinstance(outcome, Refused):
            return _ledger_refusal(request.aggregation_id, outcome)
        if outcome[0].duplicate:
            shown = shortened(request.command_id)
            message = f"ledger command id {shown!r} was used before, not by this"
            failure = Failure(Code.E_LEDGER_COMMAND_ID_TAKEN, message, (request.command_id,))
            return Refusal(request.aggregation_id, (failure,))
        return outcome[0]

    def attributes(self, request: AggregationRequest) -> UnitAttributes:
        """The issued units' attributes: the catalog's unit type, standard and methodology, the
        request's project and host country, and the period as vintage (its last day included)."""
        return UnitAttributes(
            unit_type=self.catalog.unit_type,
            standard=self.catalog.standard,
            project_id=request.project_id,
            vintage_start=request.period_start,
            vintage_end=request.period_end - dt.timedelta(days=1),
            host_country=request.host_country,
            methodology=self.catalog.methodology,
            category=CATEGORY,
        )

    # -- queries ---------------------------------------------------------------------------------

    def points(self, person_id: str) -> PointsBalance:
        def query(store: SqlStore) -> PointsBalance:
            by_status = tables.points_by_status(store, person_id)
            return PointsBalance(
                person_id,
                verified_milli=by_status.get(Status.VERIFIED.value, 0),
                carried_milli=tables.carried_milli(store, person_id),
                pending_milli=by_status.get(Status.RECORDED.value, 0),
                converted_milli=tables.converted_milli(store, person_id),
            )

        return self.ledger.read(query)

    def action(self, action_id: str) -> dict[str, Any] | None:
        row = self.ledger.read(lambda store: tables.action(store, action_id))
        return self._shown_action(row) if row is not None else None

    def history(
        self, person_id: str, limit: int = 100, after: tuple[str, str] | None = None
    ) -> list[dict[str, Any]]:
        """A person's actions by day, then action id; `after` = (day, action id) of the last row
        of the previous page."""
        rows = self.ledger.read(lambda store: tables.history(store, person_id, _page(limit), after))
        return [self._shown_action(row) for row in rows]

    def aggregation(self, aggregation_id: str) -> dict[str, Any] | None:
        found = self.ledger.read(lambda store: tables.aggregation(store, aggregation_id))
        if found is None:
            return None
        record = found[1]
        record["points_used"] = rules.points_text(int(record["points_used_milli"]))
        return record

    def contributions(
        self, aggregation_id: str, limit: int = 100, after_person_id: str = ""
    ) -> list[dict[str, Any]]:
        """Who contributed how many points to an aggregation, by person id, one page."""
        rows = self.ledger.read(
            lambda store: tables.contributions(store, aggregation_id, _page(limit), after_person_id)
        )
        for row in rows:
            for name in ("available", "used", "carried"):
                row[name] = rules.points_text(row[f"{name}_milli"])
        return rows

    def _shown_action(self, row: dict[str, Any]) -> dict[str, Any]:
        shown = dict(row)
        shown["quantity"] = rules.decimal_text(rules.quantity_of(int(shown.pop("quantity_micro"))))
        action_type = self.catalog.action_types.get(str(row["action_type"]))
        shown["activity_unit"] = action_type.activity_unit if action_type is not None else None
        shown["points"] = rules.points_text(int(row["points_milli"]))
        return shown


# -- helpers ---------------------------------------------------------------------------------------


def _resubmitted(row: dict[str, Any], action: Action) -> Recorded | Refusal:
    quantity = rules.quantity_of(int(row["quantity_micro"]))
    same = (
        row["person_id"] == action.person_id
        and row["action_type"] == action.action_type
        and row["day"] == action.day.isoformat()
        and isinstance(action.quantity, Decimal)
        and action.quantity.is_finite()
        and quantity == action.quantity
    )
    if not same:
        shown = shortened(action.action_id)
        message = f"action id {shown!r} was recorded before with other content"
        failure = Failure(Code.E_ACTION_ID_REUSED, message, (action.action_id,))
        return Refusal(action.action_id, (failure,))
    return Recorded(
        action.action_id,
        action.person_id,
        action.action_type,
        quantity,
        action.day,
        int(row["points_milli"]),
        str(row["status"]),
        duplicate=True,
    )


def _apply_review(
    transaction: Transaction, ids: list[str], verifier: str, status: Status
) -> tuple[Reviewed | Refusal, bool]:
    found_with_people = tables.statuses(transaction.store, ids)
    found = {action_id: status for action_id, (status, _) in found_with_people.items()}
    unknown = tuple(rules.carried_id(action_id) for action_id in ids if action_id not in found)
    failures = []
    reviewer = same_person(verifier)
    own = tuple(
        rules.carried_id(action_id)
        for action_id, (_, person_id) in found_with_people.items()
        if same_person(person_id) == reviewer
    )
    if own:  # a person's own actions earn them points: someone else reviews them
        message = f"{shortened(verifier)!r} recorded these actions and may not review them"
        failures.append(Failure(Code.E_VERIFIER_NOT_INDEPENDENT, message, own))
    if unknown:
        failures.append(Failure(Code.E_UNKNOWN_ACTION, "no such action", unknown))
    if status is Status.VERIFIED:
        blocked, code, unchanged_states = Status.REJECTED, Code.E_ACTION_REJECTED, _VERIFIED
    else:
        blocked, code = Status.AGGREGATED, Code.E_ACTION_ALREADY_AGGREGATED
        unchanged_states = frozenset({Status.REJECTED.value})
    stuck = tuple(action_id for action_id in ids if found.get(action_id) == blocked.value)
    if stuck:
        failures.append(Failure(code, f"the actions are {blocked.value}", stuck))
    if failures:
        return _refuse(status.value, *failures)
    unchanged = tuple(action_id for action_id in ids if found[action_id] in unchanged_states)
    changed = tuple(action_id for action_id in ids if found[action_id] not in unchanged_states)
    tables.set_status(transaction.store, changed, status, verifier, transaction.now.isoformat())
    return Reviewed(status.value, changed, unchanged), bool(changed)


_VERIFIED = frozenset({Status.VERIFIED.value, Status.AGGREGATED.value})
_INTEGER_COLUMNS = (
    "units",
    "points_per_unit",
    "points_used_milli",
    "people",
    "actions",
    "journal_seq",
    "first_serial",
    "last_serial",
)


def _ledger_refusal(request_id: str, refused: Refused) -> Refusal:
    """The ledger's failures of the one issue command (without the batch's leading code)."""
    failures = [f for f in refused.failures if f.code is not LedgerCode.E_BATCH_COMMAND_REFUSED]
    message = "the ledger refused the issue: " + "; ".join(
        f"{failure.code.value}: {shortened(failure.message, LEDGER_MESSAGE_LENGTH_MAX)}"
        for failure in failures
    )
    codes = tuple(failure.code.value for failure in failures)
    return Refusal(request_id, (Failure(Code.E_LEDGER_REFUSED, message, codes),))


def _check_request(request: AggregationRequest, latest_day: dt.date) -> list[Failure]:
    """`latest_day`: the latest day begun anywhere. A period that has not begun holds no action,
    and its units would carry a vintage to come: only carried points would make them."""
    failures = rules.check_id(
        request.aggregation_id, Code.E_AGGREGATION_ID_INVALID, "aggregation id"
    )
    days = (request.period_start, request.period_end)
    if not all(is_day(day) for day in days):
        # A Python caller's time or text: no day a period could start or end on.
        message = "a period's start and end are dates (datetime.date), not times or texts"
        failures.append(Failure(Code.E_PERIOD_INVALID, message))
        return failures
    if request.period_end <= request.period_start:
        message = f"period end {request.period_end} must be after its start {request.period_start}"
        failures.append(Failure(Code.E_PERIOD_INVALID, message))
        return failures
    window_problem = period_window_problem(request.period_start, request.period_end)
    if window_problem is not None:  # its points could never be issued
        failures.append(Failure(Code.E_PERIOD_INVALID, window_problem))
    elif request.period_start > latest_day:
        message = f"period start {request.period_start} has not begun anywhere yet"
        failures.append(Failure(Code.E_PERIOD_INVALID, message))
    return failures


def _aggregation_resubmitted(
    request: AggregationRequest, request_hash: str, record: dict[str, Any]
) -> Aggregated | Refusal:
    if request_hash != request.request_hash:
        shown = shortened(request.aggregation_id)
        message = f"aggregation id {shown!r} was used before for another request"
        failure = Failure(Code.E_AGGREGATION_ID_REUSED, message, (request.aggregation_id,))
        return Refusal(request.aggregation_id, (failure,))
    values = dict(record)
    for name in ("period_start", "period_end"):
        values[name] = dt.date.fromisoformat(str(values[name]))
    for name in _INTEGER_COLUMNS:
        values[name] = int(values[name])
    return Aggregated(**values, duplicate=True)


def _issuance_effect(accepted: Accepted) -> Sequence[Any]:
    for effect in accepted.effects:
        if effect[0] == "issuance":
            return effect
    raise RuntimeError(f"accepted issue {accepted.command_id} has no issuance effect")


def _aggregated(
    request: AggregationRequest,
    plan: Plan,
    unit_type: str,
    counts: dict[str, int],
    accepted: Accepted,
    now: dt.datetime,
) -> Aggregated:
    issuance = _issuance_effect(accepted)
    return Aggregated(
        aggregation_id=request.aggregation_id,
        aggregator_account_id=request.aggregator_account_id,
        period_start=request.period_start,
        period_end=request.period_end,
        unit_type=unit_type,
        project_id=request.project_id,
        host_country=request.host_country,
        units=plan.units,
        points_per_unit=plan.points_per_unit,
        points_used_milli=plan.used_milli,
        people=len(plan.contributions),
        actions=sum(counts.values()),
        command_id=accepted.command_id,
        journal_seq=accepted.seq,
        entry_hash=accepted.entry_hash,
        serial_space=str(issuance[2]),
        first_serial=int(issuance[3]),
        last_serial=int(issuance[4]),
        aggregated_at=now.isoformat(),
    )
