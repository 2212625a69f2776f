"""The ledger against a model that knows every serial's holder, state and hold (Hypothesis).

Commands are generated at random (issue, transfer by quantity and by serial ranges, retire,
cancel, hold, release, consume, freeze, unfreeze, close, resubmissions, all-or-nothing batches),
each predicted by the model: accepted, or refused with exactly which codes. After every step the
tables must agree with the model serial by serial, conserve every issuance, never overlap, never
change a final serial, and leave every table unchanged after a refusal; `verify` runs every few
steps and at the end. Two `Ledger` instances share the database, so each one must catch up with
what the other wrote: one projects its read models only every few entries, the other only when
asked, so each also meets read models that lag behind entries it does not hold.
"""

from __future__ import annotations

import copy
import dataclasses
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import event
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from carbonex.catalog import default_catalog
from carbonex.ledger import (
    Accepted,
    Cancel,
    CloseAccount,
    Code,
    Command,
    ConsumeHold,
    FreezeAccount,
    Issue,
    Ledger,
    OpenAccount,
    PlaceHold,
    Refused,
    ReleaseHold,
    Retire,
    Selection,
    SerialRange,
    Transaction,
    Transfer,
    UnfreezeAccount,
    redecide_ledger,
)
from carbonex.ledger.failures import FINAL_STATE_CODES
from tests.conftest import FixedClock
from tests.databases import OnPostgres, OnSqlite
from tests.ledger.support import (
    TABLES,
    VCU,
    VCU_SPACE,
    assert_precedence_order,
    hypothesis_settings,
    raw_table_rows,
)

CATALOG = default_catalog()
AMENDED_CATALOG = dataclasses.replace(CATALOG, countries=CATALOG.countries | {"ZZ"})
"""Other rules (another digest) that decide the model's commands as the shipped ones do."""
UNIT_TYPE = CATALOG.unit_types["VCU"]
ACCOUNT_KINDS = {"A": "company_holding", "B": "company_holding", "C": "company_holding"}
ACCOUNT_KINDS["P"] = "person_holding"  # may not take issuance
ACCOUNTS = sorted(ACCOUNT_KINDS)
RETIREMENT_ACCOUNT = "R"
"""Opened at the start and named only as the destination of a consumed hold."""
ACCOUNT_KINDS[RETIREMENT_ACCOUNT] = "retirement"
VERIFY_EVERY_STEPS = 10
CHECK_TABLES_EVERY_STEPS = 3
"""The tables are compared with the model (after projecting) every few steps, so that the read
models lag behind the journal in between."""
SHORT_PROJECTION_LAG_ENTRIES = 3

# -- the model -------------------------------------------------------------------------------------


@dataclass
class Unit:
    holder: str
    state: str = "active"
    hold: str | None = None


@dataclass
class Model:
    accounts: dict[str, list[str]] = field(default_factory=dict)  # id -> [kind, status]
    units: dict[int, Unit] = field(default_factory=dict)
    holds: dict[str, list[str]] = field(default_factory=dict)  # id -> [account, status]
    next_serial: int = 1

    def available(self, account: str) -> list[int]:
        return sorted(
            serial
            for serial, unit in self.units.items()
            if unit.holder == account and unit.state == "active" and unit.hold is None
        )

    def on_hold(self, account: str) -> int:
        return sum(
            1
            for unit in self.units.values()
            if unit.holder == account and unit.state == "active" and unit.hold is not None
        )


Apply = Callable[[Model], None]
Prediction = tuple[frozenset[Code], Apply | None]


def refused(*codes: Code) -> Prediction:
    return frozenset(codes), None


def usable(model: Model, account: str, action: str) -> list[Code]:
    if account not in model.accounts:
        return [Code.E_UNKNOWN_ACCOUNT]
    kind, status = model.accounts[account]
    codes = []
    if status == "closed":
        codes.append(Code.E_ACCOUNT_CLOSED)
    elif status == "frozen":
        codes.append(Code.E_ACCOUNT_FROZEN)
    account_kind = CATALOG.account_kinds[kind]
    if not account_kind.may(action):
        codes.append(Code.E_ACCOUNT_KIND_NOT_PERMITTED)
    elif not account_kind.may_hold(UNIT_TYPE):
        codes.append(Code.E_ACCOUNT_KIND_CANNOT_HOLD_UNIT_TYPE)
    return codes


def shape_of(selection: Selection) -> list[Code]:
    if selection.quantity is not None:
        return [] if selection.quantity > 0 else [Code.E_QUANTITY_NOT_POSITIVE_INTEGER]
    previous_last = 0
    for r in sorted(selection.serial_ranges, key=lambda r: (r.first_serial, r.last_serial)):
        if r.first_serial < 1 or r.last_serial < r.first_serial or r.first_serial <= previous_last:
            return [Code.E_INVALID_SERIAL_RANGE]
        previous_last = r.last_serial
    return []


def pick(model: Model, account: str, selection: Selection) -> tuple[list[int], list[Code]]:
    """The serials a selection takes from the account, or why it cannot."""
    if selection.quantity is not None:
        available = model.available(account)
        wanted = selection.quantity
        if len(available) >= wanted:
            return available[:wanted], []
        held = model.on_hold(account)
        if held and len(available) + held >= wanted:
            return [], [Code.E_UNITS_ON_HOLD]
        return [], [Code.E_UNITS_NOT_HELD]
    serials: list[int] = []
    codes: set[Code] = set()
    for r in selection.serial_ranges:
        for serial in range(r.first_serial, r.last_serial + 1):
            unit = model.units.get(serial)
            if unit is None:
                codes.add(Code.E_UNITS_NOT_HELD)
            elif unit.state != "active":
                codes.add(FINAL_STATE_CODES[unit.state])
            elif unit.holder != account:
                codes.add(Code.E_UNITS_NOT_HELD)
            elif unit.hold is not None:
                codes.add(Code.E_UNITS_ON_HOLD)
            else:
                serials.append(serial)
    return (serials, []) if not codes else ([], sorted(codes))


def set_units(serials: Sequence[int], **changes: Any) -> Apply:
    def apply(model: Model) -> None:
        for serial in serials:
            for name, value in changes.items():
                setattr(model.units[serial], name, value)

    return apply


def hold_codes(model: Model, hold_id: str) -> list[Code]:
    hold = model.holds.get(hold_id)
    if hold is None:
        return [Code.E_UNKNOWN_HOLD]
    return [] if hold[1] == "pending" else [Code.E_HOLD_NOT_PENDING]


def close_hold(model: Model, hold_id: str, status: str, changes: dict[str, Any]) -> Apply:
    mark = set_units([s for s, u in model.units.items() if u.hold == hold_id], **changes)

    def apply(m: Model) -> None:
        mark(m)
        m.holds[hold_id][1] = status

    return apply


def predict_consume(model: Model, command: ConsumeHold) -> Prediction:
    """Every account failure that applies together with the hold's own (unknown, not pending):
    the hold's account is known unless the hold is unknown, the target always."""
    codes = hold_codes(model, command.hold_id)
    hold = model.holds.get(command.hold_id)
    action, target = command.action, command.target_account_id
    if hold is not None:
        codes += usable(model, hold[0], "send" if action == "transfer" else action)
    if target is not None:
        if hold is not None and target == hold[0]:
            codes.append(Code.E_SAME_SOURCE_AND_TARGET)
        receive = {"transfer": "receive", "retire": "receive_retired"}.get(
            action, "receive_cancelled"
        )
        codes += usable(model, target, receive)
    if codes:
        return refused(*codes)
    changes: dict[str, Any] = {"hold": None}
    if target is not None:
        changes["holder"] = target
    if action != "transfer":
        changes["state"] = {"retire": "retired", "cancel": "cancelled"}[action]
    return frozenset(), close_hold(model, command.hold_id, "consumed", changes)


def predict(model: Model, command: Command) -> Prediction:
    """What the ledger must answer, and how the model changes if it accepts."""
    if isinstance(command, OpenAccount):
        if command.account_id in model.accounts:
            return refused(Code.E_ACCOUNT_EXISTS)

        def open_account(m: Model) -> None:
            m.accounts[command.account_id] = [command.account_kind, "open"]

        return frozenset(), open_account
    if isinstance(command, Issue):
        if command.quantity < 1:
            return refused(Code.E_QUANTITY_NOT_POSITIVE_INTEGER)
        if codes := usable(model, command.account_id, "issue_into"):
            return refused(*codes)

        def issue(m: Model) -> None:
            for serial in range(m.next_serial, m.next_serial + command.quantity):
                m.units[serial] = Unit(command.account_id)
            m.next_serial += command.quantity

        return frozenset(), issue
    if isinstance(command, Transfer):
        if codes := shape_of(command.selection):
            return refused(*codes)
        source, target = command.source_account_id, command.target_account_id
        codes = usable(model, source, "send") + usable(model, target, "receive")
        if source == target:
            codes.append(Code.E_SAME_SOURCE_AND_TARGET)
        if codes:
            return refused(*codes)
        serials, codes = pick(model, source, command.selection)
        return refused(*codes) if codes else (frozenset(), set_units(serials, holder=target))
    if isinstance(command, Retire | Cancel):
        if codes := shape_of(command.selection):
            return refused(*codes)
        action, state = (
            ("retire", "retired") if isinstance(command, Retire) else ("cancel", "cancelled")
        )
        if codes := usable(model, command.account_id, action):
            return refused(*codes)
        serials, codes = pick(model, command.account_id, command.selection)
        return refused(*codes) if codes else (frozenset(), set_units(serials, state=state))
    if isinstance(command, PlaceHold):
        if codes := shape_of(command.selection):
            return refused(*codes)
        codes = usable(model, command.account_id, "hold")
        hold_id = command.effective_hold_id
        if hold_id in model.holds:
            codes.append(Code.E_HOLD_EXISTS)
        if codes:
            return refused(*codes)
        serials, codes = pick(model, command.account_id, command.selection)
        if codes:
            return refused(*codes)
        mark = set_units(serials, hold=hold_id)

        def place_hold(m: Model) -> None:
            mark(m)
            m.holds[hold_id] = [command.account_id, "pending"]

        return frozenset(), place_hold
    if isinstance(command, ReleaseHold):
        if codes := hold_codes(model, command.hold_id):
            return refused(*codes)
        return frozenset(), close_hold(model, command.hold_id, "released", {"hold": None})
    if isinstance(command, ConsumeHold):
        return predict_consume(model, command)
    if isinstance(command, FreezeAccount | UnfreezeAccount | CloseAccount):
        kind_and_status = model.accounts.get(command.account_id)
        if kind_and_status is None:
            return refused(Code.E_UNKNOWN_ACCOUNT)
        if kind_and_status[1] == "closed":
            return refused(Code.E_ACCOUNT_CLOSED)
        if isinstance(command, FreezeAccount):
            if kind_and_status[1] == "frozen":
                return refused(Code.E_ACCOUNT_FROZEN)
            status = "frozen"
        elif isinstance(command, UnfreezeAccount):
            if kind_and_status[1] != "frozen":
                return refused(Code.E_ACCOUNT_NOT_FROZEN)
            status = "open"
        else:
            if any(
                u.holder == command.account_id and u.state == "active" for u in model.units.values()
            ):
                return refused(Code.E_ACCOUNT_NOT_EMPTY)
            status = "closed"

        def set_status(m: Model) -> None:
            m.accounts[command.account_id][1] = status

        return frozenset(), set_status
    raise AssertionError(f"the model cannot predict {command}")


# -- strategies ------------------------------------------------------------------------------------

accounts = st.sampled_from(ACCOUNTS)
# Mostly small quantities, that a holder can usually meet; some too large; now and then zero.
quantities = st.one_of(st.integers(1, 12), st.integers(1, 12), st.integers(13, 60), st.just(0))
Step = tuple[str, str, int, str]
"""Source, target, quantity and what: a transfer ("t"), a retirement ("r") or a hold ("h")."""
several_steps = st.lists(
    st.tuples(accounts, accounts, st.integers(0, 30), st.sampled_from(["t", "r", "h"])),
    min_size=1,
    max_size=4,
)


@st.composite
def serial_ranges(draw: st.DrawFn, top: int) -> tuple[SerialRange, ...]:
    """One to three ranges around the issued serials; they may overlap (and must be refused)."""
    result = []
    for _ in range(draw(st.integers(1, 3))):
        first = draw(st.integers(1, top + 5))
        result.append(SerialRange(first, first + draw(st.integers(0, 15))))
    return tuple(result)


# -- the machine -----------------------------------------------------------------------------------


class LedgerMachine(OnSqlite, RuleBasedStateMachine):
    """Runs on SQLite; `PostgresLedgerMachine` overrides where the database lives."""

    def __init__(self) -> None:
        super().__init__()
        self.url = self.new_database()
        self.clock = FixedClock()
        self.ledgers = [
            Ledger.open(self.url, clock=self.clock),
            Ledger.open(
                self.url, clock=self.clock, projection_lag_entries=SHORT_PROJECTION_LAG_ENTRIES
            ),
        ]
        self.writer = 0
        self.model = Model()
        self.ids = itertools.count(1)
        self.accepted: list[tuple[Command, Accepted]] = []
        self.final: dict[int, tuple[str, str]] = {}
        self.steps = 0

    def teardown(self) -> None:
        try:
            if hasattr(self, "ledgers"):
                report = self.ledger.verify()
                assert report.ok, report.problems
                # Every history the ledger accepted, decided again, is itself byte for byte.
                scratch = OnSqlite()
                try:
                    redecided = redecide_ledger(self.ledger, None, scratch.new_database())
                finally:
                    scratch.drop_database()
                assert redecided.ok, redecided.divergence
                assert redecided.entries == self.ledger.head()["seq"]
        finally:
            for ledger in getattr(self, "ledgers", []):
                ledger.close()
            self.drop_database()

    @property
    def ledger(self) -> Ledger:
        return self.ledgers[self.writer]

    def command_id(self) -> str:
        return f"cmd-{next(self.ids)}"

    def tables(self) -> dict[str, list[tuple[Any, ...]]]:
        """Every table as it is: a refusal or a resubmission must change none of them, the read
        models included (nothing is projected on their behalf)."""
        return {table: raw_table_rows(self.ledger, table) for table in TABLES}

    # -- running commands ---------------------------------------------------------------------

    def submit(self, command: Command) -> None:
        expected, apply = predict(self.model, command)
        before = self.tables()
        outcome = self.ledger.submit(command)
        event(f"{command.kind}: {'accepted' if outcome.accepted else 'refused'}")
        self.check_outcome(command, outcome, expected)
        if apply is None:
            assert self.tables() == before, f"refused {command} changed the tables"
        else:
            assert isinstance(outcome, Accepted)
            apply(self.model)
            self.accepted.append((command, outcome))

    def check_outcome(self, command: Command, outcome: object, expected: frozenset[Code]) -> None:
        if not expected:
            assert isinstance(outcome, Accepted), f"{command} refused: {outcome}"
            assert not outcome.duplicate
            return
        assert isinstance(outcome, Refused), f"{command} accepted, expected {set(expected)}"
        codes = [failure.code for failure in outcome.failures]
        assert set(codes) == expected, f"{command}: {codes} != {sorted(expected)}"
        assert_precedence_order(codes)

    # -- rules ----------------------------------------------------------------------------------

    @initialize()
    def open_accounts_and_issue(self) -> None:
        for account in ("A", "B", "P", RETIREMENT_ACCOUNT):
            self.submit(OpenAccount(self.command_id(), account, ACCOUNT_KINDS[account], account))
        self.submit(Issue(self.command_id(), "A", 30, VCU))
        self.submit(Issue(self.command_id(), "B", 20, VCU))

    def holder(self, data: st.DataObject) -> str:
        """Usually an account with units to spare, sometimes any account."""
        holders = sorted({u.holder for u in self.model.units.values() if u.state == "active"})
        if holders and data.draw(st.integers(0, 3)) > 0:
            return data.draw(st.sampled_from(holders))
        return data.draw(accounts)

    @rule(account=accounts)
    def open_account(self, account: str) -> None:
        self.submit(OpenAccount(self.command_id(), account, ACCOUNT_KINDS[account], account))

    @rule(account=accounts, quantity=quantities)
    def issue(self, account: str, quantity: int) -> None:
        self.submit(Issue(self.command_id(), account, quantity, VCU))

    @rule(data=st.data(), destination=accounts, quantity=quantities)
    def transfer_a_quantity(self, data: st.DataObject, destination: str, quantity: int) -> None:
        selection = Selection("VCU", quantity=quantity)
        self.submit(Transfer(self.command_id(), self.holder(data), destination, selection))

    @rule(data=st.data(), destination=accounts)
    def transfer_serial_ranges(self, data: st.DataObject, destination: str) -> None:
        source = self.holder(data)
        named = data.draw(serial_ranges(self.model.next_serial))
        selection = Selection("VCU", serial_ranges=named)
        self.submit(Transfer(self.command_id(), source, destination, selection))

    @rule(data=st.data(), quantity=quantities, cancel=st.booleans())
    def retire_or_cancel_a_quantity(self, data: st.DataObject, quantity: int, cancel: bool) -> None:
        account = self.holder(data)
        selection = Selection("VCU", quantity=quantity)
        if cancel:
            self.submit(Cancel(self.command_id(), account, selection, "voluntary"))
        else:
            self.submit(Retire(self.command_id(), account, selection, "Beneficiary", "claim"))

    @rule(account=accounts, data=st.data(), cancel=st.booleans())
    def retire_or_cancel_serial_ranges(
        self, account: str, data: st.DataObject, cancel: bool
    ) -> None:
        named = data.draw(serial_ranges(self.model.next_serial))
        selection = Selection("VCU", serial_ranges=named)
        if cancel:
            self.submit(Cancel(self.command_id(), account, selection, "voluntary"))
        else:
            self.submit(Retire(self.command_id(), account, selection, "Beneficiary", "claim"))

    @rule(quantity=quantities, data=st.data())
    def place_a_hold(self, quantity: int, data: st.DataObject) -> None:
        account = self.holder(data)
        hold_id = ""
        if self.model.holds and data.draw(st.integers(0, 4)) == 0:
            hold_id = data.draw(st.sampled_from(sorted(self.model.holds)))
        selection = Selection("VCU", quantity=quantity)
        self.submit(PlaceHold(self.command_id(), account, selection, "order", hold_id))

    def some_hold(self, data: st.DataObject) -> str:
        """Usually a pending hold, sometimes a closed or unknown one."""
        pending = sorted(h for h, (_, status) in self.model.holds.items() if status == "pending")
        if pending and data.draw(st.integers(0, 3)) > 0:
            return data.draw(st.sampled_from(pending))
        return data.draw(st.sampled_from([*sorted(self.model.holds), "no-such-hold"]))

    @rule(data=st.data())
    def release_a_hold(self, data: st.DataObject) -> None:
        self.submit(ReleaseHold(self.command_id(), self.some_hold(data)))

    @rule(data=st.data(), destination=accounts)
    def consume_a_hold_as_a_transfer(self, data: st.DataObject, destination: str) -> None:
        self.submit(ConsumeHold(self.command_id(), self.some_hold(data), "transfer", destination))

    @rule(
        data=st.data(),
        cancel=st.booleans(),
        into=st.sampled_from([None, *ACCOUNTS, RETIREMENT_ACCOUNT]),
    )
    def consume_a_hold_in_place(self, data: st.DataObject, cancel: bool, into: str | None) -> None:
        """Retire or cancel the held units where they are, or into another account (only the
        retirement account may receive them, retired only)."""
        if cancel:
            action, details = "cancel", {"reason": "voluntary"}
        else:
            action, details = "retire", {"beneficiary": "Beneficiary", "purpose": "claim"}
        self.submit(ConsumeHold(self.command_id(), self.some_hold(data), action, into, details))

    @rule(account=accounts, unfreeze=st.booleans())
    def freeze_or_unfreeze(self, account: str, unfreeze: bool) -> None:
        if unfreeze:
            self.submit(UnfreezeAccount(self.command_id(), account, "lifted"))
        else:
            self.submit(FreezeAccount(self.command_id(), account, "court order"))

    @rule(account=accounts)
    def close_an_account(self, account: str) -> None:
        self.submit(CloseAccount(self.command_id(), account))

    @rule()
    def switch_writer(self) -> None:
        self.writer = 1 - self.writer

    @rule()
    def change_the_rules(self) -> None:
        """The writer's catalog changes: the entries name each catalog, the ledger keeps both,
        and verify and deciding again (at teardown) find each entry's rules."""
        ledger = self.ledger
        ledger.catalog = AMENDED_CATALOG if ledger.catalog is CATALOG else CATALOG
        event(f"rules changed to {ledger.catalog.digest[:8]}")

    @rule()
    def project_the_read_models(self) -> None:
        self.ledger.project()
        head = self.ledger.head()
        assert self.ledger.store.load_head().projected_seq == head["seq"]

    @precondition(lambda self: bool(self.accepted))
    @rule(data=st.data())
    def resubmit_an_accepted_command(self, data: st.DataObject) -> None:
        command, first = data.draw(st.sampled_from(self.accepted))
        event(f"resubmitted: {command.kind}")
        before = self.tables()
        again = self.ledger.submit(command)
        assert isinstance(again, Accepted), f"resubmitted {command} was refused: {again}"
        assert (again.duplicate, again.seq, again.entry_hash) == (True, first.seq, first.entry_hash)
        assert self.tables() == before

    def several_commands(self, steps: list[Step]) -> list[Command]:
        commands: list[Command] = []
        for source, target, quantity, kind in steps:
            selection = Selection("VCU", quantity=quantity)
            if kind == "t":
                commands.append(Transfer(self.command_id(), source, target, selection))
            elif kind == "r":
                commands.append(Retire(self.command_id(), source, selection, "Ben", "claim"))
            else:
                commands.append(PlaceHold(self.command_id(), source, selection, "order"))
        return commands

    @rule(steps=several_steps, all_or_nothing=st.booleans())
    def submit_several_at_once(self, steps: list[Step], all_or_nothing: bool) -> None:
        commands = self.several_commands(steps)
        scratch = copy.deepcopy(self.model)
        predictions = []
        for command in commands:
            expected, apply = predict(scratch, command)
            predictions.append(expected)
            if apply is not None:
                apply(scratch)
        before = self.tables()
        if all_or_nothing:
            self.check_batch(commands, predictions, scratch, before)
            return
        outcomes = self.ledger.submit_many(commands)
        for command, outcome, expected in zip(commands, outcomes, predictions, strict=True):
            self.check_outcome(command, outcome, expected)
            if isinstance(outcome, Accepted):
                self.accepted.append((command, outcome))
        self.model = scratch

    def check_batch(
        self,
        commands: list[Command],
        predictions: list[frozenset[Code]],
        scratch: Model,
        before: dict[str, list[tuple[Any, ...]]],
    ) -> None:
        outcome = self.ledger.submit_batch(commands)
        failing = next((n for n, expected in enumerate(predictions) if expected), None)
        if failing is None:
            assert isinstance(outcome, list), f"batch refused: {outcome}"
            self.accepted += list(zip(commands, outcome, strict=True))
            self.model = scratch
            return
        assert isinstance(outcome, Refused), f"batch accepted; command {failing} should fail"
        codes = [failure.code for failure in outcome.failures]
        assert codes[0] is Code.E_BATCH_COMMAND_REFUSED
        assert outcome.failures[0].ids[0] == str(failing)
        assert set(codes[1:]) == predictions[failing]
        assert self.tables() == before, "a refused batch changed the tables"

    @rule(batches=st.lists(several_steps, min_size=1, max_size=3), keep=st.booleans())
    def submit_batches_in_one_transaction_each_in_a_savepoint(
        self, batches: list[list[Step]], keep: bool
    ) -> None:
        """A refused batch rolls back to its savepoint and the transaction goes on: the batches
        the model accepts stay, the others leave no trace, and nothing stays if it does not
        keep."""
        planned = [self.several_commands(steps) for steps in batches]
        model = self.model
        expected: list[bool] = []
        for commands in planned:
            scratch = copy.deepcopy(model)
            accepted = True
            for command in commands:
                _, apply = predict(scratch, command)
                if apply is None:
                    accepted = False
                    break
                apply(scratch)
            expected.append(accepted)
            model = scratch if accepted else model
        before = self.tables()

        def work(tx: Transaction) -> tuple[list[object], bool]:
            outcomes: list[object] = []
            for commands in planned:

                def batch(commands: list[Command] = commands) -> tuple[object, bool]:
                    outcome = tx.submit_batch(commands)
                    return outcome, isinstance(outcome, list)

                outcomes.append(tx.savepoint(batch))
            return outcomes, keep

        outcomes = self.ledger.transact(work)
        event(f"savepoints: {expected.count(False)} of {len(expected)} rolled back, keep={keep}")
        assert [isinstance(outcome, list) for outcome in outcomes] == expected
        if not keep:
            assert self.tables() == before, "a transaction that did not keep changed the tables"
            return
        for commands, outcome in zip(planned, outcomes, strict=True):
            if isinstance(outcome, list):
                self.accepted += list(zip(commands, outcome, strict=True))
        self.model = model

    # -- invariants -----------------------------------------------------------------------------

    @invariant()
    def the_tables_agree_with_the_model(self) -> None:
        if self.steps % CHECK_TABLES_EVERY_STEPS:
            return
        self.ledger.project()
        rows = self.ledger.store.query(
            "SELECT block_id, issuance_id, first_serial, last_serial, account_id, state, hold_id "
            "FROM blocks WHERE serial_space = ? ORDER BY first_serial",
            (VCU_SPACE,),
        )
        issued = {
            row[0]: row[2] - row[1] + 1
            for row in self.ledger.store.query(
                "SELECT issuance_id, first_serial, last_serial FROM issuances"
            )
        }
        covered = dict.fromkeys(issued, 0)
        actual: dict[int, Unit] = {}
        previous_last = 0
        previous: tuple[Any, ...] | None = None
        for block_id, issuance_id, first, last, account, state, hold in rows:
            assert first > previous_last, f"block {block_id} overlaps its predecessor"
            assert first <= last
            covered[issuance_id] += last - first + 1
            for serial in range(first, last + 1):
                actual[serial] = Unit(account, state, hold)
            if previous is not None and state == "active" and hold is None:
                p_issuance, p_last, p_account, p_state, p_hold = previous
                mergeable = (p_issuance, p_account, p_state, p_hold) == (
                    issuance_id,
                    account,
                    "active",
                    None,
                )
                assert not (mergeable and p_last + 1 == first), f"block {block_id} not merged"
            previous = (issuance_id, last, account, state, hold)
            previous_last = last
        assert covered == issued, "an issuance is not covered exactly by its blocks"
        assert actual == self.model.units
        for serial, (holder, state) in self.final.items():
            unit = actual[serial]
            assert (unit.holder, unit.state) == (holder, state), f"final serial {serial} changed"
        for serial, unit in actual.items():
            if unit.state != "active":
                self.final.setdefault(serial, (unit.holder, unit.state))

    @invariant()
    def holdings_count_what_the_model_counts(self) -> None:
        if self.steps % CHECK_TABLES_EVERY_STEPS != 1:
            return
        for account in self.model.accounts:
            counts: dict[tuple[str, bool], int] = {}
            for unit in self.model.units.values():
                if unit.holder == account:
                    key = (unit.state, unit.hold is not None)
                    counts[key] = counts.get(key, 0) + 1
            reported: dict[tuple[str, bool], int] = {}
            for entry in self.ledger.holdings(account):
                key = (entry["state"], entry["on_hold"])
                reported[key] = reported.get(key, 0) + entry["quantity"]
            assert reported == counts, f"holdings of {account}"

    @invariant()
    def verify_finds_nothing_every_few_steps(self) -> None:
        self.steps += 1
        if self.steps % VERIFY_EVERY_STEPS == 0:
            report = self.ledger.verify()
            assert report.ok, report.problems


class PostgresLedgerMachine(OnPostgres, LedgerMachine):
    pass


TestLedgerAgainstItsModelOnSqlite = LedgerMachine.TestCase
TestLedgerAgainstItsModelOnSqlite.settings = hypothesis_settings("stateful-sqlite")

TestLedgerAgainstItsModelOnPostgres = pytest.mark.postgres(PostgresLedgerMachine.TestCase)
TestLedgerAgainstItsModelOnPostgres.settings = hypothesis_settings("stateful-postgres")
