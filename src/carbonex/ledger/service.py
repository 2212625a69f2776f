"""The ledger service: opens a unit of work per call, runs commands, commits atomically.

    ledger = Ledger.open("registry.db")          # or a postgresql:// URL
    outcome = ledger.submit(Transfer(...))       # one command, one commit
    outcomes = ledger.submit_many(commands)      # each on its own merits, one commit
    outcome = ledger.submit_batch(commands)      # all or nothing, one commit

Only this class writes holdings. Refused commands change nothing; a crash before commit leaves
nothing of the unit of work; an accepted command is durable once the call returns (its journal
entry is committed). The read models (blocks, history) are projected from the journal in bulk,
before any read of them (see `state`), so every read sees every accepted command.
"""

from __future__ import annotations

import copy
import datetime as dt
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from carbonex.catalog import Catalog, default_catalog
from carbonex.dates import as_utc
from carbonex.ledger import queries
from carbonex.ledger.collector import collector_paused
from carbonex.ledger.commands import Command
from carbonex.ledger.engine import batch_refusal, check_batch_size, execute
from carbonex.ledger.limits import (
    BATCH_COMMANDS_MAX,
    PROJECTION_LAG_ENTRIES_MAX,
    SERIAL_HISTORY_PAGE_SIZE_MAX,
)
from carbonex.ledger.outcomes import Accepted, Outcome, Refused
from carbonex.ledger.state import LedgerState
from carbonex.ledger.verify import VerifyReport, verify_store
from carbonex.ledger.writer import WriterClient, WriterError, identity_of, sendable
from carbonex.store import SqlStore, open_store

WRITE_ATTEMPTS_MAX = 5
SAVEPOINT_DEPTH_MAX = 8
"""Savepoints nested inside one another in a transaction (`Transaction.savepoint`)."""
READ_ATTEMPTS_MAX = 2
"""A read is tried again once, on a new connection, when the server dropped the old one."""
Result = TypeVar("Result")
Clock = Callable[[], dt.datetime]
AUDIT_INSIDE_TRANSACT = "an audit (verify) reads what is committed: not inside transact"


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _applies(outcome: Outcome) -> bool:
    """Whether an outcome changes the ledger: a refusal or a resubmission changes nothing, and
    its unit of work rolls back whatever else it wrote (a projection of the read models), so
    that the database stays exactly as it was."""
    return isinstance(outcome, Accepted) and not outcome.duplicate


def _is_retryable(error: BaseException) -> bool:
    """Serialization failures, deadlocks and a locked SQLite file are worth another attempt."""
    if isinstance(error, sqlite3.OperationalError):
        return "locked" in str(error) or "busy" in str(error)
    sqlstate = getattr(error, "sqlstate", None)
    return sqlstate in ("40001", "40P01")


class Ledger:
    def __init__(
        self,
        store: SqlStore,
        catalog: Catalog | None = None,
        clock: Clock = utc_now,
        writer_socket: str | None = None,
        projection_lag_entries: int = PROJECTION_LAG_ENTRIES_MAX,
    ) -> None:
        self.store = store
        self.catalog = catalog or default_catalog()
        self.clock = clock
        self.writer_socket = writer_socket
        """A writer process's socket (`carbonex writer`): `submit` goes through it."""
        self._writer: WriterClient | None = None
        self.state = LedgerState(store)
        self.state.projection_lag_entries_max = min(
            max(0, projection_lag_entries), PROJECTION_LAG_ENTRIES_MAX
        )
        """0 projects at every commit (as an interactive service may prefer); at most the
        library's bound."""
        self._open: Transaction | None = None
        """The transaction `transact` has open, which nested `transact` calls join."""
        self._summary: tuple[str, dict[str, Any]] | None = None
        """The last committed summary and the journal head hash it was computed at."""
        self._catalogs_kept: set[str] = set()
        """Digests of the catalogs this process committed entries under (and so kept)."""

    @classmethod
    def open(
        cls,
        database: str | None = None,
        catalog: Catalog | None = None,
        clock: Clock = utc_now,
        writer_socket: str | None = None,
        projection_lag_entries: int = PROJECTION_LAG_ENTRIES_MAX,
        must_exist: bool = False,
    ) -> Ledger:
        """`must_exist`: refuse (StoreError) a database that holds no ledger, a SQLite file that
        is not there included, rather than make a new ledger in it."""
        store = open_store(database, must_exist=must_exist)
        return cls(store, catalog, clock, writer_socket, projection_lag_entries)

    def close(self, project: bool = True) -> None:
        """Project what this process committed and did not project yet (so that tools reading
        the tables directly see it too), then close the store. On an error path, `project=False`
        leaves that to whoever reads next."""
        try:
            if project and self.state.unprojected and self._open is None:
                self.project()
        finally:
            if self._writer is not None:
                self._writer.close()
            self.store.close()

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, error_type: object, *exc_info: object) -> None:
        self.close(project=error_type is None)

    # -- writes ---------------------------------------------------------------------------------

    def _unit_of_work(
        self,
        work: Callable[[], tuple[Result, bool]],
        named: Catalog | None,
        project: bool = False,
    ) -> Result:
        """Run `work` in one write transaction; it returns (result, keep). Keep=False rolls the
        whole unit back. The read models are brought up to the head at commit when `project` or
        when enough entries wait. `named`: the catalog the unit's entries name, kept with the
        first of them (None: they name none). Retries transient conflicts; any other exception
        rolls back and rises."""
        if self._open is not None:
            raise RuntimeError("submit inside transact: use the Transaction's submit instead")
        with collector_paused():
            return self._attempt_unit_of_work(work, named, project)

    def _attempt_unit_of_work(
        self, work: Callable[[], tuple[Result, bool]], named: Catalog | None, project: bool
    ) -> Result:
        for attempt in range(1, WRITE_ATTEMPTS_MAX + 1):
            committing = False
            try:
                self.state.look_up_command_ids = attempt > 1
                state = self.state
                self.store.begin_write(state.seq if state.head_known else None)
                state.begin()
                seq_before = state.seq
                result, keep = work()
                if keep:
                    committing = True
                    pending = state.take_pending(project or state.projection_due)
                    recorded = state.seq > seq_before
                    kept = self._keep_catalog(named, seq_before + 1) if recorded else None
                    self.store.write_and_commit(pending)
                    if kept is not None:
                        self._catalogs_kept.add(kept)
                elif state.dirty:
                    self._abandon()
                else:  # nothing recorded or written: the cache is as committed
                    self.store.rollback()
                return result
            except BaseException as error:
                # A connection lost before COMMIT was sent committed nothing: try again on a new
                # one. Lost during COMMIT, the outcome is unknown: it rises (resubmitting the
                # same command ids then tells what happened).
                lost = not committing and self.store.is_connection_lost(error)
                self._abandon()
                retry = lost or _is_retryable(error) or self.store.is_duplicate_command_error(error)
                if attempt == WRITE_ATTEMPTS_MAX or not retry:
                    raise
        raise RuntimeError("unreachable: the loop returns or raises")

    def _keep_catalog(self, named: Catalog | None, first_seq: int) -> str | None:
        """Write the catalog the entries from `first_seq` name, unless this process kept it
        already; its digest."""
        if named is None or named.digest in self._catalogs_kept:
            return None
        self.store.keep_catalog(named.digest, named.canonical_record(), first_seq)
        return named.digest

    def _abandon(self) -> None:
        self.store.rollback()
        self.state.reset()

    def submit(self, command: Command) -> Outcome:
        """One command, one commit; with a `writer_socket`, the writer process decides it in a
        group commit with other clients' commands (its clock stamps the entry)."""
        record = sendable(command) if self.writer_socket is not None else None
        if record is not None and self._open is None:
            return self._submit_through_writer(record)

        def work() -> tuple[Outcome, bool]:
            outcome = execute(self.state, self.catalog, command, self._entry_time())
            return outcome, _applies(outcome)

        return self._unit_of_work(work, self.catalog)

    def _entry_time(self) -> dt.datetime:
        """The clock's time, or the head entry's when the clock reads earlier (set back, or read
        by another writer before it waited for the lock): entries are recorded in time order, so
        none can be dated before one already in the journal. Called inside the unit of work."""
        now = self.clock()
        recorded = self.state.head_recorded_at
        if recorded:
            head = dt.datetime.fromisoformat(recorded)
            if as_utc(now) < as_utc(head):
                return head
        return now

    def _submit_through_writer(self, record: bytes) -> Outcome:
        """Over the writer connection, made again after one failed (a restarted writer is found
        by the next call; the failed call raises: resubmit its id to learn its fate). A writer
        that serves another ledger than this one is refused before the command is sent."""
        if self._writer is None:
            self._writer = WriterClient(str(self.writer_socket), identity_of(self))
        try:
            return self._writer.submit(record)
        except WriterError:
            if self._writer.broken:
                self._writer.close()
                self._writer = None
            raise

    def submit_many(self, commands: Sequence[Command]) -> list[Outcome]:
        """Group commit: every command is accepted or refused on its own; one commit for all."""
        refusal = check_batch_size(commands)
        if refusal is not None:
            return [refusal]

        def work() -> tuple[list[Outcome], bool]:
            state, catalog = self.state, self.catalog
            now = self._entry_time()
            recorded_at = now.isoformat()
            outcomes = [execute(state, catalog, c, now, recorded_at) for c in commands]
            return outcomes, any(_applies(outcome) for outcome in outcomes)

        return self._unit_of_work(work, self.catalog)

    def decide_recorded(
        self, entries: Sequence[tuple[Command, str]], catalog: Catalog, catalog_named: bool
    ) -> list[Outcome]:
        """Each command decided at the time recorded with it (ISO 8601 text) under `catalog`, in
        one commit: for deciding a journal's commands again on a scratch ledger (`redecide`).
        `catalog_named`: whether the entries name their catalog (entries recorded before entries
        did, do not). New commands take the ledger's clock and catalog instead; nothing on the
        API or the CLI calls this. The rules that only admit new commands (the characters text
        may hold) do not apply: a recorded entry is decided by the rules that shape entries, so
        a history an earlier Carbonex recorded is decided again as it was."""
        refusal = check_batch_size(entries)
        if refusal is not None:
            return [refusal]

        def work() -> tuple[list[Outcome], bool]:
            state = self.state
            outcomes = [
                execute(
                    state,
                    catalog,
                    command,
                    dt.datetime.fromisoformat(at),
                    at,
                    catalog_named,
                    admitting=False,
                )
                for command, at in entries
            ]
            return outcomes, any(_applies(outcome) for outcome in outcomes)

        return self._unit_of_work(work, catalog if catalog_named else None)

    def submit_batch(self, commands: Sequence[Command]) -> Refused | list[Accepted]:
        """All or nothing: either every command is accepted, or the batch is refused whole."""
        refusal = check_batch_size(commands)
        if refusal is not None:
            return refusal

        def work() -> tuple[Refused | list[Accepted], bool]:
            outcome = self._run_batch(commands, self._entry_time())
            return outcome, not isinstance(outcome, Refused)

        return self._unit_of_work(work, self.catalog)

    def _run_batch(self, commands: Sequence[Command], now: dt.datetime) -> Refused | list[Accepted]:
        accepted: list[Accepted] = []
        for position, command in enumerate(commands):
            outcome = execute(self.state, self.catalog, command, now)
            if isinstance(outcome, Refused):
                return batch_refusal(position, outcome)
            accepted.append(outcome)
        return accepted

    def transact(self, work: Callable[[Transaction], tuple[Result, bool]]) -> Result:
        """Run `work` inside the ledger's write transaction, for services that keep their own
        tables (projects, carbon inclusion) and must change them atomically with the units.

        `work` gets a `Transaction` (the store for its own SQL, `submit_batch` for ledger
        commands, the time) and returns (result, keep); keep=False rolls everything back. It
        may run more than once (transient conflicts are retried), so it must not have effects
        outside the transaction.

        Called again from inside `work` (a service using another that opens its own
        transaction), the inner work joins the open transaction; if it does not keep, the
        whole transaction rolls back whatever the outer work says."""
        if self._open is not None:
            inner_result, keep = work(self._open)
            self._open.doomed = self._open.doomed or not keep
            return inner_result
        return self._unit_of_work(self._run_transaction(work), self.catalog)

    @property
    def in_transaction(self) -> bool:
        """Whether a `transact` call is running (a nested one would join it)."""
        return self._open is not None

    def _run_transaction(
        self, work: Callable[[Transaction], tuple[Result, bool]]
    ) -> Callable[[], tuple[Result, bool]]:
        def attempt() -> tuple[Result, bool]:
            self._open = Transaction(self, self._entry_time())
            try:
                result, keep = work(self._open)
                return result, keep and not self._open.doomed
            finally:
                self._open = None

        return attempt

    # -- reads ----------------------------------------------------------------------------------

    def project(self) -> None:
        """Bring the read models (blocks, history) up to the journal's head now. Reads do this
        themselves; call it before reading the tables behind the ledger's back."""
        self._unit_of_work(lambda: (None, True), None, project=True)

    def read(self, query: Callable[[SqlStore], Result], read_models: bool = True) -> Result:
        """Run `query` in one read transaction. With `read_models` (the default) the blocks and
        history it reads show every committed entry: if they lag behind the journal, they are
        projected first. Queries of tables the ledger does not project (a service's own) may
        pass False and skip that check."""
        if self._open is not None:  # inside `transact`: read what this transaction wrote
            if read_models:
                self.state.project()
            else:
                self.state.flush()
            return query(self.store)
        return self._in_read_transaction(query, self._project_then_read if read_models else None)

    def audit(self, query: Callable[[SqlStore], Result]) -> Result:
        """Run `query` in one read transaction whose blocks and history show every committed
        entry, as `read` does, but without writing the database: read models that lag behind
        the journal are brought up to it in private copies that end with the transaction
        (`SqlStore.begin_read_with_private_read_models`). For `verify`: an auditor reads a copy,
        a database they may only read, or a live registry, and leaves it as it was (holding no
        writer's lock meanwhile). Costs a copy of the read models when they lag."""
        if self._open is not None:
            raise RuntimeError(AUDIT_INSIDE_TRANSACT)
        return self._in_read_transaction(query, self._project_privately)

    def _in_read_transaction(
        self, query: Callable[[SqlStore], Result], catch_up: Callable[[], None] | None
    ) -> Result:
        """`query` in a read transaction; when the read models lag behind the journal,
        `catch_up` (if any) opens the transaction instead, with read models that do not."""
        for attempt in range(1, READ_ATTEMPTS_MAX + 1):
            try:
                self.store.begin_read()
                if catch_up is not None and self._read_models_lag():
                    self.store.rollback()
                    catch_up()
                return query(self.store)
            except Exception as error:
                if attempt == READ_ATTEMPTS_MAX or not self.store.is_connection_lost(error):
                    raise
            finally:
                self.store.rollback()  # connects again if the connection was lost
        raise RuntimeError("unreachable: the loop returns or raises")

    def _read_models_lag(self) -> bool:
        head = self.store.load_head()
        return head.projected_seq != head.seq

    def _project_then_read(self) -> None:
        """Project in a write transaction, then open the read transaction the caller runs its
        query in; should another writer have committed meanwhile (without projecting), the
        query runs inside a write transaction that projected first, and rolls back. A
        connection that may not write (a file its user may only read, a read-only role) reads
        over private copies brought up to the journal instead, as `audit` does."""
        try:
            self.project()
        except Exception as error:
            if not self.store.is_write_refused(error):
                raise
            self._project_privately()
            return
        self.store.begin_read()
        if self._read_models_lag():
            self.store.rollback()
            self.store.begin_write(None)
            head = self.store.load_head()
            self.store.project_journal(head.projected_seq, head.seq)  # rolled back after the read

    def _project_privately(self) -> None:
        """Open the read transaction the caller runs its query in, over private copies of the
        read models brought up to the journal's head there."""
        self.store.begin_read_with_private_read_models()
        head = self.store.load_head()
        self.store.project_journal(head.projected_seq, head.seq)

    def account(self, account_id: str) -> dict[str, Any] | None:
        return self.read(lambda store: queries.account(store, account_id))

    def accounts(self, limit: int = 100, after: str = "") -> list[dict[str, Any]]:
        return self.read(lambda store: queries.accounts(store, limit, after))

    def holdings(self, account_id: str) -> list[dict[str, Any]]:
        return self.read(lambda store: queries.holdings(store, account_id))

    def blocks(
        self, account_id: str, limit: int = 100, after_block_id: int = 0
    ) -> list[dict[str, Any]]:
        return self.read(lambda store: queries.blocks(store, account_id, limit, after_block_id))

    def statement(
        self,
        account_id: str,
        limit: int = 100,
        after_seq: int = 0,
        after_position: int | None = None,
    ) -> list[dict[str, Any]]:
        return self.read(
            lambda store: queries.statement(store, account_id, limit, after_seq, after_position)
        )

    def provenance(
        self,
        serial_space: str,
        serial: int,
        after_seq: int = 0,
        limit: int = SERIAL_HISTORY_PAGE_SIZE_MAX,
        with_history: bool = True,
    ) -> dict[str, Any] | None:
        """`queries.provenance`: a page of the serial's history, resumed after `after_seq` with
        the page's `next_after_seq`; its final movement whichever page this is."""
        return self.read(
            lambda store: queries.provenance(
                store, serial_space, serial, after_seq, limit, with_history
            )
        )

    def head(self) -> dict[str, Any]:
        """The journal's head: its last sequence number and entry hash (read from the journal
        alone: nothing is projected for it)."""
        return self.read(queries.head, read_models=False)

    def summary(self) -> dict[str, Any]:
        """`queries.summary`, which reads every block, computed again only when the journal's head
        has moved: every change of holdings is a journal entry, and the head's hash names the
        whole chain. Inside `transact` it reads the uncommitted state and caches nothing."""
        if self._open is not None:
            return self._summary_with_metrics(self.read(queries.summary))
        return copy.deepcopy(self.read(self._summary_at_head))

    def _summary_at_head(self, store: SqlStore) -> dict[str, Any]:
        head_hash = store.load_entry_hash(store.load_head().seq)
        if self._summary is None or self._summary[0] != head_hash:
            self._summary = (head_hash, self._summary_with_metrics(queries.summary(store)))
        return self._summary[1]

    def _summary_with_metrics(self, summary: dict[str, Any]) -> dict[str, Any]:
        return queries.with_totals_by_metric(summary, self.catalog.metric_of())

    def journal(self, limit: int = 100, after_seq: int = 0) -> list[dict[str, Any]]:
        return self.read(lambda store: queries.journal(store, limit, after_seq))

    def verify(self, progress: Callable[[int, int], None] | None = None) -> VerifyReport:
        """Check the chain, the invariants, and that replaying the journal gives the tables,
        writing nothing (`audit`: read models that lag are checked as the journal brings them
        up, in private copies). A journal whose entries cannot be projected (a damaged
        payload) is reported, not raised, and the tables are then checked as they stand."""
        if self._open is not None:
            raise RuntimeError(AUDIT_INSIDE_TRANSACT)
        try:
            return self.audit(lambda store: verify_store(store, progress))
        except Exception as error:
            report = self.read(lambda store: verify_store(store, progress), read_models=False)
            report.add(
                "projection", f"the read models cannot be brought up to the journal: {error}"
            )
            return report


class Transaction:
    """What a service sees inside `Ledger.transact`: one write transaction, not yet committed."""

    def __init__(self, ledger: Ledger, now: dt.datetime) -> None:
        self._ledger = ledger
        self.store = ledger.store
        self.catalog = ledger.catalog
        self.now = now
        self.doomed = False
        """Set when nested work did not keep: the transaction then rolls back."""
        self._savepoints = 0

    def savepoint(self, work: Callable[[], tuple[Result, bool]]) -> Result:
        """Run `work` (it returns (result, keep)); if it does not keep, undo what it did, and
        only that: the transaction goes on from where it stood before. For work that may fail
        part-way inside a larger transaction (a batch refused after its first commands were
        applied to the cache), such as an import that skips the rows the ledger refuses.

        The cache is flushed first, so that the store holds everything before the savepoint.
        After a rollback to it, a cache that recorded or wrote something since is loaded again
        from the store (costly); one that did not (the work's first command was refused, or it
        only read) still shows the store as it stands and is kept."""
        if self._savepoints >= SAVEPOINT_DEPTH_MAX:
            raise RuntimeError(f"savepoints nest at most {SAVEPOINT_DEPTH_MAX} deep")
        state = self._ledger.state
        state.flush()
        self._savepoints += 1
        name = f"carbonex_savepoint_{self._savepoints}"
        self.store.execute(f"SAVEPOINT {name}")
        mark = state.mark()
        try:
            result, keep = work()
            if not keep:
                self.store.rollback_to_savepoint(name)
                if state.mark() != mark:
                    state.reload()
            self.store.execute(f"RELEASE SAVEPOINT {name}")
            return result
        finally:
            self._savepoints -= 1

    def submit(self, command: Command) -> Outcome:
        """One command within the transaction; on a refusal the caller should not keep it."""
        return execute(self._ledger.state, self.catalog, command, self.now)

    def submit_batch(self, commands: Sequence[Command]) -> Refused | list[Accepted]:
        """All or nothing within the transaction; on a refusal the caller should not keep it."""
        refusal = check_batch_size(commands)
        if refusal is not None:
            return refusal
        return self._ledger._run_batch(commands, self.now)


__all__ = ["BATCH_COMMANDS_MAX", "Clock", "Ledger", "Transaction", "utc_now"]
