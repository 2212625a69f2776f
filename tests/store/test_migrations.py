"""Migrations with data or indexes worth checking move a written ledger to the present schema and
back: the history postings (a ledger of revision 0005, with a movements table, moves to the present
schema with every movement filed) and the covering serial index (0007). Opening a ledger to write
upgrades it; opening it to read refuses an older schema and changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
import sqlalchemy

from carbonex.ledger import Ledger, Selection, Transfer
from carbonex.ledger.live_checks import live_history
from carbonex.store import StoreError, open_store
from carbonex.store.database import SCHEMA_HEAD, schema_revision
from tests.conftest import FixedClock
from tests.databases import engine_url, migrate_schema
from tests.ledger.support import accept_all, raw_table_rows
from tests.ledger.test_verify import realistic


def _history(ledger: Ledger) -> tuple[Any, Any]:
    """The postings joined per account and per bucket, however they were filed in rows."""
    postings, problems = ledger.read(live_history)
    assert not problems
    return postings.accounts, postings.serials


def test_movements_become_postings_and_back(database_url: str, clock: FixedClock) -> None:
    with Ledger.open(database_url, clock=clock) as ledger:
        realistic(ledger)
        blocks = raw_table_rows(ledger, "blocks")
        filed = _history(ledger)
    migrate_schema(database_url, "0005", downgrade=True)
    with Ledger.open(database_url, clock=clock) as ledger:  # opening upgrades it again
        assert "movements" not in ledger.store.table_names()
        assert raw_table_rows(ledger, "blocks") == blocks
        assert _history(ledger) == filed
        assert ledger.verify().ok
        assert ledger.statement("B", limit=1000)


def _serial_index_columns(url: str) -> list[str]:
    engine = sqlalchemy.create_engine(engine_url(url))
    try:
        indexes = sqlalchemy.inspect(engine).get_indexes("blocks")
    finally:
        engine.dispose()
    return next(index["column_names"] for index in indexes if index["name"] == "blocks_by_serial")


def test_the_serial_index_covers_last_serial_and_back(database_url: str, clock: FixedClock) -> None:
    with Ledger.open(database_url, clock=clock) as ledger:
        realistic(ledger)
        blocks = raw_table_rows(ledger, "blocks")
    covering = ["serial_space", "first_serial", "last_serial"]
    assert _serial_index_columns(database_url) == covering
    migrate_schema(database_url, "0006", downgrade=True)
    assert _serial_index_columns(database_url) == ["serial_space", "first_serial"]
    with Ledger.open(database_url, clock=clock) as ledger:  # opening to write upgrades it again
        assert _serial_index_columns(database_url) == covering
        assert raw_table_rows(ledger, "blocks") == blocks
        assert ledger.verify().ok


def test_a_reader_refuses_an_older_ledger_and_leaves_it_as_it_was(
    database_url: str, clock: FixedClock
) -> None:
    with Ledger.open(database_url, clock=clock) as ledger:
        realistic(ledger)
    migrate_schema(database_url, "0006", downgrade=True)
    with pytest.raises(StoreError, match=rf"schema revision 0006; .* reads revision {SCHEMA_HEAD}"):
        Ledger.open(database_url, clock=clock, must_exist=True)
    assert _serial_index_columns(database_url) == ["serial_space", "first_serial"]
    store = open_store(database_url, migrate=False, must_exist=True, any_revision=True)
    try:
        assert schema_revision(store) == "0006"
    finally:
        store.close()


def _meta(url: str) -> dict[str, int]:
    store = open_store(url, migrate=False)
    try:
        return {
            str(name): int(value)
            for name, value in store.query("SELECT name, value FROM ledger_meta")
        }
    finally:
        store.close()


def test_the_head_moves_into_the_journals_last_entry_and_back(
    database_url: str, clock: FixedClock
) -> None:
    with Ledger.open(database_url, clock=clock) as ledger:
        realistic(ledger)
        head = ledger.store.load_head()
    assert set(_meta(database_url)) == {"projected_seq"}
    migrate_schema(database_url, "0007", downgrade=True)
    assert _meta(database_url) == {
        "projected_seq": head.seq,
        "head_seq": head.seq,
        "next_block_id": head.next_block_id,
        "next_issuance_id": head.next_issuance_id,
    }
    with Ledger.open(database_url, clock=clock) as ledger:  # opening to write upgrades it again
        assert ledger.store.load_head() == head
        assert set(_meta(database_url)) == {"projected_seq"}
        assert ledger.verify().ok
        accept_all(ledger, [Transfer("after", "A", "C", Selection("VCU", quantity=1))])
        assert ledger.verify().ok
