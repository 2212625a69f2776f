"""Projects and MRV, persisted: the project cycle as hash-chained events beside the ledger.

    projects = ProjectRegistry(ledger)
    projects.create("req-1", ProjectParticulars(...), actor="alice")
    projects.act("req-2", ProjectRequest("P-1", "list", "alice", "project_proponent", docs))
    ...
    projects.act("req-9", ProjectRequest("P-1", "approve_issuance", "carol",
                                         "standard_administrator"))

Each call is one unit of work in the ledger's write transaction (`Ledger.transact`): the project
is rebuilt from its events, the pure state machine decides, and the event row, the projects row,
the monitoring report row and, for an issuance or a reversal, the ledger commands commit together
or not at all. Because every writer holds the ledger's one writer lock, two issuances for
overlapping monitoring periods cannot both pass the overlap check. A request id makes every call
idempotent: the same request again returns the original outcome and writes nothing; a different
request under a used id is refused.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from carbonex.catalog.standards import ProjectCatalog, default_project_catalog
from carbonex.ledger import Ledger, Transaction
from carbonex.ledger.journal import GENESIS_HASH
from carbonex.ledger.model import AccountStatus
from carbonex.projects import programme, queries
from carbonex.projects.calculation import CalculationError, calculate
from carbonex.projects.events import (
    CREATE,
    CREDITING_OPTION_KEY,
    ProjectRequest,
    apply_request,
    crediting_option_record,
    decode_event,
    encode_event,
    event_hash,
    new_project,
    replay,
    text_character_failures,
)
from carbonex.projects.lifecycle import Action, Project, Role
from carbonex.projects.outcomes import Decision, ProjectFailure, ProjectOutcome
from carbonex.projects.outcomes import fail as _fail
from carbonex.store import SqlStore

REQUEST_ID_PATTERN = re.compile(r"^[\x21-\x7e]{1,128}$")
PROJECT_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$")
PARTICULAR_LENGTH_MAX = 500
OTHER_REGISTRATIONS_MAX = 20
PROJECT_EVENTS_MAX = 10_000
"""A project's history is replayed on every action; a cycle adds about four events a year. An
action that would record event PROJECT_EVENTS_MAX + 1 is refused (E_PROJECT_EVENTS_MAX)."""
PROJECT_REQUESTS_MAX = 1_000
"""Requests in one all-or-nothing `act_many` call."""
PROJECT_EVENTS_LOAD_MAX = PROJECT_EVENTS_MAX + PROJECT_REQUESTS_MAX
"""The longest history `load_project` reads: before the cap refused actions, one `act_many`
batch could carry a project from PROJECT_EVENTS_MAX events to this many; such a history still
loads (and its next action is refused with a code, not a crash)."""
PROJECT_CACHE_MAX = 100_000
Result = TypeVar("Result")


@dataclass(frozen=True, slots=True)
class ProjectParticulars:
    project_id: str
    standard: str
    category: str  # avoidance | removal
    name: str
    host_country: str  # ISO 3166-1 alpha-2
    methodology: str
    proponent_account_id: str
    location: str = ""
    other_registrations: tuple[str, ...] = ()  # "CDM:1234", "VCS:981"
    risk_rating: str | None = None  # non-permanence risk rating, a decimal fraction

    def details(self) -> dict[str, Any]:
        return {
            "standard": self.standard,
            "category": self.category,
            "name": self.name,
            "host_country": self.host_country,
            "methodology": self.methodology,
            "proponent_account_id": self.proponent_account_id,
            "location": self.location,
            "other_registrations": list(self.other_registrations),
            "risk_rating": self.risk_rating,
        }


@dataclass(frozen=True, slots=True)
class CachedProject:
    last_event_seq: int
    project: Project
    particulars: Mapping[str, Any]


class ProjectRegistry:
    def __init__(self, ledger: Ledger, catalog: ProjectCatalog | None = None) -> None:
        self.ledger = ledger
        self.catalog = catalog or default_project_catalog()
        # Committed projects as last seen, so an action need not replay the whole history: an
        # entry is used only while the projects row still names its last event (another
        # process may have moved on), and it is filled only from committed rows or after a
        # commit (`_pending`: what the current transaction changed).
        self._cache: dict[str, CachedProject] = {}
        self._pending: dict[str, CachedProject] = {}
        self._joined = False
        """True while working inside a caller's transaction: nothing read then is cached."""

    # -- writes ---------------------------------------------------------------------------------

    def create(
        self, request_id: str, particulars: ProjectParticulars, actor: str
    ) -> ProjectOutcome:
        request = ProjectRequest(
            particulars.project_id,
            CREATE,
            actor,
            Role.PROPONENT.value,
            details=particulars.details(),
        )
        return self.act(request_id, request)

    def act(self, request_id: str, request: ProjectRequest) -> ProjectOutcome:
        """One project action in its own transaction."""

        def work(tx: Transaction) -> tuple[ProjectOutcome, bool]:
            self._pending = {}
            return self._one(tx, request_id, request)

        outcome = self._transact(work)
        self._committed(outcome.accepted and not outcome.duplicate)
        return outcome

    def _transact(self, work: Callable[[Transaction], tuple[Result, bool]]) -> Result:
        """`Ledger.transact`, forgetting what the work cached unless it committed: when it
        joins a caller's transaction, that one may still roll back."""
        nested = self.ledger.in_transaction
        self._joined = nested
        try:
            result = self.ledger.transact(work)
        except BaseException:
            self._pending = {}
            raise
        finally:
            self._joined = False
        if nested:
            self._pending = {}
        return result

    def preview(self, request: ProjectRequest) -> list[ProjectFailure]:
        """What the state machine would say to `request` now (no ledger, nothing written): for
        requests that wait for a second person, so a hopeless one is refused at once."""

        def check(store: SqlStore) -> list[ProjectFailure]:
            text_failures = text_character_failures(request)
            if text_failures:
                return text_failures
            cached = self._load(store, request.project_id)
            if cached is None:
                return _fail("E_PROJECT_UNKNOWN", f"no project '{request.project_id}'")
            full = check_history_room(cached.project)
            if full:
                return full
            result = apply_request(cached.project, request, self.ledger.clock())
            return [ProjectFailure(f.code.value, f.message) for f in result.failures]

        return self.ledger.read(check)

    def act_within(
        self, tx: Transaction, request_id: str, request: ProjectRequest
    ) -> ProjectOutcome:
        """One action inside a transaction the caller owns (and commits or rolls back); the
        caller must not keep the transaction when the outcome is refused."""
        self._pending, self._joined = {}, True
        try:
            outcome, _keep = self._one(tx, request_id, request)
        finally:
            # Not cached: the caller's transaction may still roll back.
            self._pending, self._joined = {}, False
        return outcome

    def _committed(self, kept: bool) -> None:
        if kept:
            if len(self._cache) + len(self._pending) > PROJECT_CACHE_MAX:
                self._cache.clear()
            self._cache.update(self._pending)
        self._pending = {}

    def act_many(self, requests: Sequence[tuple[str, ProjectRequest]]) -> list[ProjectOutcome]:
        """Several actions, all or nothing, in one transaction (bulk loads, benchmarks).
        If one is refused, none is applied and the refused one's outcome is last in the list."""
        if not requests or len(requests) > PROJECT_REQUESTS_MAX:
            message = f"between 1 and {PROJECT_REQUESTS_MAX} requests"
            return [ProjectOutcome("", "", failures=tuple(_fail("E_BATCH_SIZE", message)))]

        def work(tx: Transaction) -> tuple[list[ProjectOutcome], bool]:
            self._pending = {}
            outcomes: list[ProjectOutcome] = []
            for request_id, request in requests:
                outcome, _keep = self._one(tx, request_id, request)
                outcomes.append(outcome)
                if not outcome.accepted:
                    return outcomes, False
            return outcomes, True

        outcomes = self._transact(work)
        self._committed(all(outcome.accepted for outcome in outcomes))
        return outcomes

    def _one(
        self, tx: Transaction, request_id: str, request: ProjectRequest
    ) -> tuple[ProjectOutcome, bool]:
        refused = self._check_request(tx.store, request_id, request)
        if refused is not None:
            return refused, False
        text_failures = text_character_failures(request)
        if text_failures:  # admitting a new request, before any rule that reads its text
            return ProjectOutcome(
                request_id, request.project_id, failures=tuple(text_failures)
            ), False
        cached = self._load(tx.store, request.project_id)
        failures, after, outcome = self._decide(tx, cached, request)
        if failures or after is None:
            return ProjectOutcome(request_id, request.project_id, failures=tuple(failures)), False
        event_seq = self._append(tx, request_id, request, outcome)
        _write_projection(tx.store, event_seq, request, after, outcome)
        particulars = cached.particulars if cached else dict(request.details or {})
        self._pending[request.project_id] = CachedProject(event_seq, after, particulars)
        result = ProjectOutcome(
            request_id, request.project_id, event_seq, after.state.value, outcome
        )
        return result, True

    def _check_request(
        self, store: SqlStore, request_id: str, request: ProjectRequest
    ) -> ProjectOutcome | None:
        project_id = request.project_id
        if not REQUEST_ID_PATTERN.match(request_id):
            failures = _fail("E_REQUEST_ID_INVALID", "a request id is 1-128 printable characters")
            return ProjectOutcome(request_id, project_id, failures=tuple(failures))
        row = store.query_one(
            "SELECT event_seq, payload FROM project_events WHERE request_id = ?", (request_id,)
        )
        if row is None:
            return None
        stored, _at, record = decode_event(bytes(row[1]))
        if stored != request:
            failures = _fail(
                "E_REQUEST_ID_REUSED", f"request id '{request_id}' was used for another request"
            )
            return ProjectOutcome(request_id, project_id, failures=tuple(failures))
        state = store.query_one("SELECT state FROM projects WHERE project_id = ?", (project_id,))
        return ProjectOutcome(
            request_id,
            project_id,
            int(row[0]),
            str(state[0]) if state else None,
            record["outcome"],
            duplicate=True,
        )

    def _load(self, store: SqlStore, project_id: str) -> CachedProject | None:
        """The project as this transaction sees it: changed here, cached, or replayed."""
        pending = self._pending.get(project_id)
        if pending is not None:
            return pending
        if not PROJECT_ID_PATTERN.match(project_id):
            return None  # never stored: ids are checked on creation
        row = store.query_one(
            "SELECT last_event_seq FROM projects WHERE project_id = ?", (project_id,)
        )
        cached = self._cache.get(project_id)
        if row is not None and cached is not None and cached.last_event_seq == row[0]:
            return cached
        project = load_project(store, project_id, self.catalog)
        if project is None or row is None:
            return None
        loaded = CachedProject(int(row[0]), project, _particulars_of(store, project_id))
        # In its own transaction the registry reads committed rows only (a project it changed
        # is in `_pending`); inside a caller's, the caller may have changed it.
        if not self._joined:
            self._cache[project_id] = loaded
        return loaded

    def _decide(
        self, tx: Transaction, cached: CachedProject | None, request: ProjectRequest
    ) -> Decision:
        project = cached.project if cached else None
        if request.action == CREATE:
            return self._decide_create(tx.store, project, request)
        if cached is None or project is None:
            return _fail("E_PROJECT_UNKNOWN", f"no project '{request.project_id}'"), None, {}
        full = check_history_room(project)
        if full:
            return full, None, {}
        try:
            action = Action(request.action)
            Role(request.role)
        except ValueError:
            return _fail("E_ACTION_UNKNOWN", f"unknown action or role in {request}"), None, {}
        if request.details is not None and action is not Action.SUBMIT_MONITORING:
            return _fail("E_DETAILS_INVALID", f"'{action}' takes no details"), None, {}
        result = apply_request(project, request, tx.now)
        if result.project is None:
            failures = [ProjectFailure(f.code.value, f.message) for f in result.failures]
            return failures, None, {}
        details = cached.particulars
        if action is Action.APPROVE_ISSUANCE:
            return programme.issue(tx, self.catalog, project, result.project, details, request)
        if action is Action.RECORD_REVERSAL:
            return programme.reverse(tx, project, result.project, request)
        if action is Action.SUBMIT_MONITORING and request.details is not None:
            return self._decide_calculation(details, request, result.project)
        option = result.project.crediting_option
        if action is Action.REGISTER and option is not None:
            return [], result.project, {CREDITING_OPTION_KEY: crediting_option_record(option)}
        return [], result.project, {}

    def _decide_calculation(
        self, particulars: Mapping[str, Any], request: ProjectRequest, project: Project
    ) -> Decision:
        """A report that carries its monitored data: the claim may not exceed what the
        methodology's calculator makes of them."""
        inputs = (request.details or {}).get("inputs")
        if set(request.details or {}) != {"inputs"} or not isinstance(inputs, Mapping):
            return _fail("E_DETAILS_INVALID", "a report's details are {'inputs': {...}}"), None, {}
        try:
            claimable_t, record = calculate(
                self.catalog, particulars["methodology"], inputs, particulars["standard"]
            )
        except CalculationError as error:
            return _fail(error.code, str(error)), None, {}
        if (request.quantity_t or 0) > claimable_t:
            message = f"claimed {request.quantity_t} t; the monitored data support {claimable_t} t"
            return _fail("E_CLAIM_EXCEEDS_CALCULATION", message), None, {}
        return [], project, {"calculation": record}

    def _decide_create(
        self, store: SqlStore, existing: Project | None, request: ProjectRequest
    ) -> Decision:
        failures = check_particulars(store, self, request)
        if existing is not None:
            failures += _fail("E_PROJECT_EXISTS", f"project '{request.project_id}' exists")
        if failures:
            return failures, None, {}
        standard = self.catalog.standards[str((request.details or {})["standard"])]
        return [], new_project(request, standard), {}

    def _append(
        self, tx: Transaction, request_id: str, request: ProjectRequest, outcome: dict[str, Any]
    ) -> int:
        head = tx.store.query_one(
            "SELECT event_seq, event_hash FROM project_events ORDER BY event_seq DESC LIMIT 1"
        )
        event_seq, previous = (int(head[0]) + 1, str(head[1])) if head else (1, GENESIS_HASH)
        payload = encode_event(event_seq, request_id, request, tx.now, outcome)
        tx.store.execute(
            "INSERT INTO project_events (event_seq, request_id, project_id, action, payload, "
            "previous_hash, event_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                event_seq,
                request_id,
                request.project_id,
                request.action,
                payload,
                previous,
                event_hash(previous, payload),
            ),
        )
        return event_seq

    # -- reads ----------------------------------------------------------------------------------

    def project(self, project_id: str) -> dict[str, Any] | None:
        return self.ledger.read(lambda store: queries.project(store, project_id, self.catalog))

    def projects(self, limit: int = 100, after: str = "") -> list[dict[str, Any]]:
        return self.ledger.read(lambda store: queries.projects(store, limit, after))

    def verify(self) -> list[str]:
        """Problems found in the project tables: chain, replay, derived rows; [] if sound. The
        ledger's read models are not brought up first: these tables are not among them, and
        `Ledger.verify` reports read models that cannot be."""
        return self.ledger.read(
            lambda store: queries.verify(store, self.catalog), read_models=False
        )


def check_particulars(
    store: SqlStore, registry: ProjectRegistry, request: ProjectRequest
) -> list[ProjectFailure]:
    """The particulars of a new project, in precedence order."""
    details = request.details or {}
    failures: list[ProjectFailure] = []
    if not PROJECT_ID_PATTERN.match(request.project_id):
        failures += _fail("E_PROJECT_ID_INVALID", "a project id is 1-64 letters, digits, ._:/-")
    if details.get("standard") not in registry.catalog.standards:
        failures += _fail("E_STANDARD_UNKNOWN", f"unknown standard '{details.get('standard')}'")
    if details.get("category") not in ("avoidance", "removal"):
        failures += _fail("E_CATEGORY_UNKNOWN", "category is avoidance or removal")
    failures += _check_methodology_category(registry, details)
    if details.get("host_country") not in registry.ledger.catalog.countries:
        failures += _fail("E_HOST_COUNTRY_UNKNOWN", "host country: an ISO 3166-1 alpha-2 code")
    failures += _check_texts(details)
    failures += _check_registrations(details.get("other_registrations", []))
    if not request.actor.strip():
        failures += _fail("E_ACTOR_MISSING", "the actor must be named")
    failures += programme.check_risk_rating(registry.catalog, details)
    failures += _check_proponent_account(registry, store, details)
    return failures


def _check_proponent_account(
    registry: ProjectRegistry, store: SqlStore, details: Mapping[str, Any]
) -> list[ProjectFailure]:
    """The account the project's units go to exists and could receive them: else the project
    would run its whole cycle to be refused at its first issuance. A frozen account passes (a
    freeze ends; the issuance is refused until it does)."""
    account_id = details.get("proponent_account_id")
    account = store.query_one(
        "SELECT status, kind FROM accounts WHERE account_id = ?", (account_id,)
    )
    if account is None:
        return _fail("E_PROPONENT_ACCOUNT_UNKNOWN", "the proponent's account does not exist")
    status, kind_code = account
    if status == AccountStatus.CLOSED:
        return _fail(
            "E_PROPONENT_ACCOUNT_CLOSED", f"the proponent's account {account_id} is closed"
        )
    standard = registry.catalog.standards.get(str(details.get("standard")))
    ledger_catalog = registry.ledger.catalog
    unit_type = ledger_catalog.unit_types.get(standard.unit_type) if standard else None
    kind = ledger_catalog.account_kinds.get(kind_code)
    if unit_type is None or (kind is not None and kind.may("receive") and kind.may_hold(unit_type)):
        return []
    return _fail(
        "E_PROPONENT_ACCOUNT_KIND",
        f"the proponent's account {account_id} is a {kind_code} account, which cannot receive "
        f"{unit_type.code} units",
    )


def _check_methodology_category(
    registry: ProjectRegistry, details: Mapping[str, Any]
) -> list[ProjectFailure]:
    """A methodology the catalog knows fixes the category (a removal project declared as
    avoidance would escape the buffer). One it does not know is recorded as given: registries
    use hundreds, and a report under it carries no data to calculate."""
    methodology = registry.catalog.methodologies.get(str(details.get("methodology")))
    category = details.get("category")
    if methodology is None or category not in ("avoidance", "removal"):
        return []
    if methodology.category != category:
        return _fail(
            "E_CATEGORY_MISMATCH",
            f"methodology {methodology.code} is for {methodology.category} projects, "
            f"not {category}",
        )
    return []


def _check_texts(details: Mapping[str, Any]) -> list[ProjectFailure]:
    failures: list[ProjectFailure] = []
    if not str(details.get("name", "")).strip():
        failures += _fail("E_NAME_EMPTY", "a project needs a name")
    for name in ("name", "methodology", "location"):
        value = details.get(name)
        if not isinstance(value, str) or len(value) > PARTICULAR_LENGTH_MAX:
            failures += _fail("E_PARTICULAR_INVALID", f"'{name}': text up to 500 characters")
    return failures


def _check_registrations(registrations: Any) -> list[ProjectFailure]:
    valid = (
        isinstance(registrations, list)
        and len(registrations) <= OTHER_REGISTRATIONS_MAX
        and all(isinstance(r, str) and PROJECT_ID_PATTERN.match(r) for r in registrations)
        and len(set(registrations)) == len(registrations)
    )
    if valid:
        return []
    return _fail(
        "E_REGISTRATION_INVALID",
        f"other registrations: up to {OTHER_REGISTRATIONS_MAX} distinct ids like 'CDM:1234'",
    )


def check_history_room(project: Project) -> list[ProjectFailure]:
    """Room for one more event within PROJECT_EVENTS_MAX (the creation event counts): refused
    before anything is written, so the history stays loadable. A rule for new actions: a
    history recorded past the cap before it still loads and verifies."""
    events = len(project.history) + 1  # the creation event is not in `history`
    if events < PROJECT_EVENTS_MAX:
        return []
    return _fail(
        "E_PROJECT_EVENTS_MAX",
        f"project {project.project_id} has {events} events, the most a project may record is "
        f"{PROJECT_EVENTS_MAX}",
    )


def load_project(store: SqlStore, project_id: str, catalog: ProjectCatalog) -> Project | None:
    rows = store.query(
        "SELECT payload FROM project_events WHERE project_id = ? ORDER BY event_seq LIMIT ?",
        (project_id, PROJECT_EVENTS_LOAD_MAX + 1),
    )
    if len(rows) > PROJECT_EVENTS_LOAD_MAX:
        raise RuntimeError(f"project {project_id} has more than {PROJECT_EVENTS_LOAD_MAX} events")
    project, _records = replay((bytes(row[0]) for row in rows), catalog.standards)
    return project


def _particulars_of(store: SqlStore, project_id: str) -> dict[str, Any]:
    """The particulars the project was created with (its first event)."""
    row = store.query_one(
        "SELECT payload FROM project_events WHERE project_id = ? ORDER BY event_seq LIMIT 1",
        (project_id,),
    )
    if row is None:
        raise RuntimeError(f"project {project_id} has no creation event")
    request, _at, _record = decode_event(bytes(row[0]))
    return dict(request.details or {})


def _write_projection(
    store: SqlStore,
    event_seq: int,
    request: ProjectRequest,
    project: Project,
    outcome: Mapping[str, Any],
) -> None:
    """The derived rows: the projects row and the monitoring report of this cycle."""
    writer = _PROJECTION_WRITERS.get(request.action)
    if writer is not None:
        writer(store, event_seq, request, outcome)
    store.execute(
        "UPDATE projects SET state = ?, last_event_seq = ? WHERE project_id = ?",
        (project.state.value, event_seq, request.project_id),
    )


def _insert_project(
    store: SqlStore, event_seq: int, request: ProjectRequest, _outcome: Mapping[str, Any]
) -> None:
    import orjson

    details = request.details or {}
    store.execute(
        "INSERT INTO projects (project_id, standard, category, name, host_country, methodology, "
        "location, proponent_account_id, other_registrations, state, last_event_seq) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            request.project_id,
            details["standard"],
            details["category"],
            details["name"],
            details["host_country"],
            details["methodology"],
            details["location"],
            details["proponent_account_id"],
            orjson.dumps(details["other_registrations"]).decode(),
            "draft",
            event_seq,
        ),
    )


def _insert_report(
    store: SqlStore, event_seq: int, request: ProjectRequest, _outcome: Mapping[str, Any]
) -> None:
    if request.period is None or request.quantity_t is None:
        raise RuntimeError("an accepted monitoring report has a period and a quantity")
    store.execute(
        "INSERT INTO monitoring_reports (event_seq, project_id, period_start, period_end, "
        "claimed_t, status) VALUES (?, ?, ?, ?, ?, 'submitted')",
        (event_seq, request.project_id, *request.period, request.quantity_t),
    )


def _report_updater(
    status: str, columns: Callable[[ProjectRequest, Mapping[str, Any]], dict[str, Any]]
) -> Callable[[SqlStore, int, ProjectRequest, Mapping[str, Any]], None]:
    def update(
        store: SqlStore, _event_seq: int, request: ProjectRequest, outcome: Mapping[str, Any]
    ) -> None:
        values = columns(request, outcome)
        assignments = "".join(f", {name} = ?" for name in values)
        store.execute(
            f"UPDATE monitoring_reports SET status = ?{assignments} "
            "WHERE project_id = ? AND status IN ('submitted', 'verified')",
            (status, *values.values(), request.project_id),
        )

    return update


_PROJECTION_WRITERS: dict[
    str, Callable[[SqlStore, int, ProjectRequest, Mapping[str, Any]], None]
] = {
    CREATE: _insert_project,
    Action.SUBMIT_MONITORING.value: _insert_report,
    Action.VERIFY.value: _report_updater("verified", lambda r, _o: {"verified_t": r.quantity_t}),
    Action.REJECT_MONITORING.value: _report_updater("rejected", lambda _r, _o: {}),
    Action.APPROVE_ISSUANCE.value: _report_updater(
        "issued",
        lambda _r, o: {"issued_t": o["quantity_t"], "issuance_journal_seq": o["journal_seq"]},
    ),
}
