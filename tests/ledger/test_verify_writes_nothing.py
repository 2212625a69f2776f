"""`verify` audits a database without changing it: read models that lag behind the journal (a
writer killed before projecting leaves them so) are checked as the journal brings them up, in
private copies, and the tables stay as they were, byte for byte."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from carbonex.ledger import Ledger, Selection, Transaction, Transfer
from carbonex.ledger.journal import GENESIS_HASH, canonical, chain_hash
from carbonex.ledger.ports import Head
from carbonex.store import open_store
from tests.conftest import FixedClock
from tests.databases import Rows, store_rows
from tests.ledger.support import accept, issue, open_accounts

UNPROJECTED_COMMAND_ID = "t-2"


def lagging_ledger(database: str, clock: FixedClock | None = None) -> None:
    """Accounts A, B and C, 100 units issued to A and 10 of them moved to B, all projected;
    then 20 moved from A to C by a writer killed before projecting them: the read models lag
    one entry behind the journal, as whoever reads next finds them."""
    clock = clock or FixedClock()
    with Ledger.open(database, clock=clock) as ledger:
        open_accounts(ledger, "A", "B", "C")
        issue(ledger, "A", 100)
        accept(ledger, Transfer("t-1", "A", "B", Selection("VCU", quantity=10)))
    killed = Ledger.open(database, clock=clock)
    accept(killed, Transfer(UNPROJECTED_COMMAND_ID, "A", "C", Selection("VCU", quantity=20)))
    killed.close(project=False)  # as if killed: the transfer is only in the journal


def as_committed(database: str) -> tuple[Rows, Head]:
    """Every row of every table, and the head, over a connection of its own that projects
    nothing."""
    store = open_store(database, migrate=False, must_exist=True)
    try:
        return store_rows(store), store.load_head()
    finally:
        store.close()


def assert_lagging(head: Head) -> None:
    assert head.projected_seq < head.seq, head


def change_by_hand(database: str, statement: str, parameters: tuple[Any, ...] = ()) -> None:
    """One statement behind the ledger's back, committed, projecting nothing first."""
    store = open_store(database, migrate=False, must_exist=True)
    try:
        store.execute(statement, parameters)  # the connections are in autocommit mode
    finally:
        store.close()


def verified(database: str) -> set[str]:
    """The invariants a ledger opened as `carbonex verify` opens it finds broken."""
    ledger = Ledger.open(database, must_exist=True)
    try:
        return {problem.invariant for problem in ledger.verify().problems}
    finally:
        ledger.close(project=False)


def test_verify_leaves_a_ledger_whose_read_models_lag_as_it_found_it(database_url: str) -> None:
    lagging_ledger(database_url)
    before = as_committed(database_url)
    assert_lagging(before[1])
    assert verified(database_url) == set()
    assert as_committed(database_url) == before


def test_verify_names_a_row_altered_by_hand_behind_read_models_that_lag(
    database_url: str,
) -> None:
    """B's block, which the unprojected entry does not touch, loses a unit: the lag hides it
    neither from the replay nor from conservation, and verify still changes nothing."""
    lagging_ledger(database_url)
    change_by_hand(database_url, "UPDATE blocks SET last_serial = last_serial - 1 WHERE "
                   "account_id = 'B'")  # fmt: skip
    before = as_committed(database_url)
    assert_lagging(before[1])
    assert {"replay", "conservation"} <= verified(database_url)
    assert as_committed(database_url) == before


def test_verify_checks_the_invariants_on_what_an_unprojected_entry_makes(
    database_url: str,
) -> None:
    """The unprojected transfer rewritten, every hash recomputed, to put C's new block in an
    account that does not exist: replay and projection agree (both read the journal), and only
    the invariants checked on the read models brought up to the journal tell."""
    lagging_ledger(database_url)
    forge_unprojected_entry(database_url)
    before = as_committed(database_url)
    assert_lagging(before[1])
    assert "references" in verified(database_url)
    assert as_committed(database_url) == before


def forge_unprojected_entry(database: str) -> None:
    """Move the unprojected transfer's new block to account Z and recompute its hash (it is
    the last entry: no later hash depends on it)."""
    store = open_store(database, migrate=False, must_exist=True)
    try:
        seq, payload, previous_hash = store.query(
            "SELECT seq, payload, previous_hash FROM journal WHERE command_id = ?",
            (UNPROJECTED_COMMAND_ID,),
        )[0]
        entry = orjson.loads(bytes(payload))
        [new_block] = [e for e in entry["effects"] if e[0] == "block" and e[6] == "C"]
        new_block[6] = "Z"
        forged = canonical(entry)
        store.execute(
            "UPDATE journal SET payload = ?, entry_hash = ? WHERE seq = ?",
            (forged, chain_hash(previous_hash or GENESIS_HASH, forged), seq),
        )
    finally:
        store.close()


def test_a_writer_that_verifies_again_and_again_writes_nothing_and_then_projects_as_before(
    database_url: str, clock: FixedClock
) -> None:
    """The copies each verify projects into end with it: the writer's own projections, before
    and after, write the tables."""
    lagging_ledger(database_url, clock)
    with Ledger.open(database_url, clock=clock) as ledger:
        for number in range(3, 9):
            accept(ledger, Transfer(f"t-{number}", "A", "B", Selection("VCU", quantity=1)))
            before = as_committed(database_url)
            assert_lagging(before[1])
            assert ledger.verify().ok
            assert as_committed(database_url) == before
            ledger.project()
        head = as_committed(database_url)[1]
        assert head.projected_seq == head.seq
        assert ledger.verify().ok


def test_verify_inside_a_transaction_is_refused_rather_than_audit_uncommitted_work(
    ledger: Ledger,
) -> None:
    """An audit reads what is committed; inside `transact` it would read, and project into,
    work that may yet roll back."""

    def work(transaction: Transaction) -> tuple[None, bool]:
        ledger.verify()
        return None, False

    with pytest.raises(RuntimeError, match="not inside transact"):
        ledger.transact(work)
