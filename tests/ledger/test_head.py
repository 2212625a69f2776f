"""The head (the id counters the journal's last entry carries) altered by hand: verify names it,
and no command writes on it, since a next block id that is already taken would put a new block
over someone's holdings and seal that in the hash chain."""

from __future__ import annotations

from dataclasses import replace

import pytest

from carbonex.ledger import DamagedLedgerError, Ledger, Selection, Transfer
from carbonex.ledger.ports import COUNTER_MISSING, Head, IdEnds, head_problems
from tests.databases import Rows, store_rows
from tests.ledger.support import VCU, accept_all, execute_raw, invariants_of, issue, open_accounts
from tests.ledger.test_verify import realistic

DAMAGED_HEADS = {
    "next block id taken": ("next_block_id", "(SELECT MAX(block_id) FROM blocks)"),
    "next block id far back": ("next_block_id", "1"),
    "next issuance id taken": ("next_issuance_id", "(SELECT MAX(issuance_id) FROM issuances)"),
    "block counter removed": ("next_block_id", "NULL"),
    "issuance counter removed": ("next_issuance_id", "NULL"),
}


def damage_head(ledger: Ledger, counter: str, value_sql: str) -> None:
    execute_raw(
        ledger,
        f"UPDATE journal SET {counter} = {value_sql} WHERE seq = (SELECT MAX(seq) FROM journal)",
    )


@pytest.fixture(params=DAMAGED_HEADS.values(), ids=DAMAGED_HEADS.keys())
def damaged_database(database_url: str, request: pytest.FixtureRequest) -> str:
    """A realistic ledger whose head was then altered one way."""
    with Ledger.open(database_url) as ledger:
        realistic(ledger)
        damage_head(ledger, *request.param)
    return database_url


def test_a_head_altered_by_hand_is_named_by_verify(damaged_database: str) -> None:
    with Ledger.open(damaged_database) as reopened:
        assert "head" in invariants_of(reopened)


def test_no_command_writes_on_a_damaged_head_and_nothing_changes(damaged_database: str) -> None:
    with Ledger.open(damaged_database) as writer:
        before = ledger_rows_without_projecting(writer)
        with pytest.raises(DamagedLedgerError, match="head is damaged"):
            writer.submit(Transfer("after-damage", "A", "C", Selection("VCU", quantity=5)))
        assert ledger_rows_without_projecting(writer) == before


def ledger_rows_without_projecting(ledger: Ledger) -> Rows:
    """Every row as stored (`ledger_rows` would project first, which is a write)."""
    return ledger.read(store_rows, read_models=False)


def test_a_next_block_id_of_a_block_merged_away_is_named_by_verify(ledger: Ledger) -> None:
    """Block 3 (the second transfer's units) merged into block 2 at once: the tables never held
    it, and only the journal shows that its id was taken."""
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100, VCU)
    accept_all(ledger, [Transfer("first", "A", "B", Selection("VCU", quantity=50))])
    accept_all(ledger, [Transfer("second", "A", "B", Selection("VCU", quantity=10))])
    ledger.project()
    stored = [tuple(row) for row in ledger.store.query("SELECT block_id FROM blocks")]
    assert sorted(stored) == [(1,), (2,)]
    damage_head(ledger, "next_block_id", "3")
    report = ledger.verify()
    assert {problem.invariant for problem in report.problems} == {"head"}
    messages = [problem.message for problem in report.problems]
    assert any("block ids up to 3 are taken" in message for message in messages)
    assert any(
        "carries the id counters (3, 2), but the entries up to it leave (4, 2)" in m
        for m in messages
    )


def test_a_consistent_head_has_no_problems() -> None:
    head = Head(seq=7, next_block_id=10, next_issuance_id=3, projected_seq=7)
    assert head_problems(head, IdEnds(block_id_max=9, issuance_id_max=2)) == []
    assert head_problems(replace(head, next_issuance_id=COUNTER_MISSING), IdEnds(9, 2)) == [
        "the journal's last entry (7) carries no id counters"
    ]


def test_an_empty_ledger_has_a_consistent_head(database_url: str) -> None:
    with Ledger.open(database_url) as ledger:
        head = ledger.read(lambda store: store.load_head(), read_models=False)
        assert head == Head(seq=0, next_block_id=1, next_issuance_id=1, projected_seq=0)
        taken = ledger.read(lambda store: store.load_id_ends(), read_models=False)
        assert taken == (0, 0) and head_problems(head, taken) == []


def test_counters_altered_behind_a_running_writer_stop_it(ledger: Ledger) -> None:
    """A process whose cache is current takes the counters from the journal's last entry and
    checks them against the ones it committed."""
    realistic(ledger)
    damage_head(ledger, "next_block_id", "next_block_id + 100")
    before = ledger_rows_without_projecting(ledger)
    with pytest.raises(DamagedLedgerError, match=r"not .* as committed"):
        ledger.submit(Transfer("after-damage", "A", "C", Selection("VCU", quantity=5)))
    assert ledger_rows_without_projecting(ledger) == before
