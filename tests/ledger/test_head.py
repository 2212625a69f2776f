"""The head (`ledger_meta`: the last entry and the id counters) altered by hand: verify names it,
and no command writes on it, since a next block id that is already taken would put a new block
over someone's holdings and seal that in the hash chain."""

from __future__ import annotations

import pytest

from carbonex.ledger import DamagedLedgerError, Ledger, Selection, Transfer
from carbonex.ledger.ports import Head
from tests.databases import Rows, store_rows
from tests.ledger.support import VCU, accept_all, execute_raw, invariants_of, issue, open_accounts
from tests.ledger.test_verify import realistic

DAMAGED_HEADS = {
    "next block id taken": ("next_block_id", "(SELECT MAX(block_id) FROM blocks)"),
    "next block id far back": ("next_block_id", "1"),
    "next issuance id taken": ("next_issuance_id", "(SELECT MAX(issuance_id) FROM issuances)"),
    "head before the journal's end": ("head_seq", "(SELECT MAX(seq) - 3 FROM journal)"),
    "head beyond the journal's end": ("head_seq", "(SELECT MAX(seq) + 5 FROM journal)"),
}


def damage_head(ledger: Ledger, name: str, value_sql: str) -> None:
    execute_raw(ledger, f"UPDATE ledger_meta SET value = {value_sql} WHERE name = '{name}'")


@pytest.mark.parametrize("damage", DAMAGED_HEADS.values(), ids=DAMAGED_HEADS.keys())
def test_a_head_altered_by_hand_is_named_by_verify(
    database_url: str, damage: tuple[str, str]
) -> None:
    with Ledger.open(database_url) as ledger:
        realistic(ledger)
        damage_head(ledger, *damage)
    with Ledger.open(database_url) as reopened:
        assert "head" in invariants_of(reopened)


@pytest.mark.parametrize("damage", DAMAGED_HEADS.values(), ids=DAMAGED_HEADS.keys())
def test_no_command_writes_on_a_damaged_head_and_nothing_changes(
    database_url: str, damage: tuple[str, str]
) -> None:
    with Ledger.open(database_url) as ledger:
        realistic(ledger)
        damage_head(ledger, *damage)
        before = ledger_rows_without_projecting(ledger)
    with Ledger.open(database_url) as writer:
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
    assert [problem.invariant for problem in report.problems] == ["head"]
    assert "block ids up to 3 are taken" in report.problems[0].message


def test_a_consistent_head_has_no_problems() -> None:
    head = Head(
        seq=7,
        next_block_id=10,
        next_issuance_id=3,
        projected_seq=7,
        journal_seq=7,
        block_id_max=9,
        issuance_id_max=2,
    )
    assert head.problems() == []


def test_an_empty_ledger_has_a_consistent_head(database_url: str) -> None:
    with Ledger.open(database_url) as ledger:
        head = ledger.read(lambda store: store.load_head(), read_models=False)
        assert head.problems() == []
        assert (head.journal_seq, head.block_id_max, head.issuance_id_max) == (0, 0, 0)
