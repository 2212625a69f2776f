"""Migrations with data or indexes worth checking move a written ledger to the present schema and
back: the history postings (a ledger of revision 0005, with a movements table, moves to the present
schema with every movement filed) and the covering serial index (0007). Opening a ledger to write
upgrades it; opening it to read refuses an older schema and changes nothing. An upgrade is all or
nothing, and upgraders of one database at once take turns."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import alembic
import pytest
import sqlalchemy

from carbonex.ledger import Ledger, Selection, Transfer
from carbonex.ledger.live_checks import live_history
from carbonex.store import StoreError, open_store
from carbonex.store.database import SCHEMA_HEAD, schema_revision, upgrade_schema
from tests.conftest import FixedClock
from tests.databases import engine_url, migrate_schema, store_rows
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


UPGRADERS = 6


def _schema_and_rows(url: str) -> tuple[Any, ...]:
    """Every table's columns and indexes, the schema revision and every row: all an upgrade may
    change."""
    engine = sqlalchemy.create_engine(engine_url(url))
    try:
        inspector = sqlalchemy.inspect(engine)
        schema = {
            table: (
                [(column["name"], str(column["type"])) for column in inspector.get_columns(table)],
                sorted(
                    (index["name"] or "", tuple(index["column_names"]))
                    for index in inspector.get_indexes(table)
                ),
            )
            for table in sorted(inspector.get_table_names())
        }
    finally:
        engine.dispose()
    store = open_store(url, migrate=False)
    try:
        return schema, schema_revision(store), store_rows(store)
    finally:
        store.close()


def _ledger_at_0005(database_url: str, clock: FixedClock) -> None:
    with Ledger.open(database_url, clock=clock) as ledger:
        realistic(ledger)
    migrate_schema(database_url, "0005", downgrade=True)


def test_a_migration_failing_partway_leaves_the_schema_and_its_revision_as_they_were(
    database_url: str, clock: FixedClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0006 and 0007 ran (tables made, rows filed, a table and an index dropped) when 0008
    fails: all of it is undone, and a later upgrade finds the ledger it started from."""
    _ledger_at_0005(database_url, clock)
    before = _schema_and_rows(database_url)

    def failing(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(alembic.op, "add_column", failing)
    store = open_store(database_url, migrate=False, must_exist=True, any_revision=True)
    try:
        with pytest.raises(RuntimeError, match="the disk is full"):
            upgrade_schema(store)
    finally:
        store.close()
    assert _schema_and_rows(database_url) == before
    assert before[1] == "0005"
    monkeypatch.undo()
    with Ledger.open(database_url, clock=clock) as ledger:  # opening to write upgrades it
        assert schema_revision(ledger.store) == SCHEMA_HEAD
        assert ledger.verify().ok


def _open_at_once(database_url: str, opening: Callable[[], None]) -> list[BaseException]:
    start = threading.Barrier(UPGRADERS)
    errors: list[BaseException] = []

    def upgrader() -> None:
        try:
            start.wait()
            opening()
        except BaseException as error:
            errors.append(error)

    threads = [threading.Thread(target=upgrader) for _ in range(UPGRADERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_writers_opening_a_new_database_at_once_all_open_it(database_url: str) -> None:
    errors = _open_at_once(database_url, lambda: open_store(database_url).close())
    assert errors == []
    store = open_store(database_url, migrate=False, must_exist=True)
    try:
        assert schema_revision(store) == SCHEMA_HEAD
    finally:
        store.close()


def test_upgrades_of_one_older_ledger_at_once_all_succeed_and_upgrade_it_once(
    database_url: str, clock: FixedClock
) -> None:
    _ledger_at_0005(database_url, clock)
    found: list[str | None] = []

    def upgrade() -> None:
        store = open_store(database_url, migrate=False, must_exist=True, any_revision=True)
        try:
            found.append(upgrade_schema(store))
        finally:
            store.close()

    assert _open_at_once(database_url, upgrade) == []
    assert sorted(found, key=str) == ["0005"] + [SCHEMA_HEAD] * (UPGRADERS - 1)
    with Ledger.open(database_url, clock=clock, must_exist=True) as ledger:
        assert ledger.verify().ok
