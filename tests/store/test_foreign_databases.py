"""A database that holds another program's tables and no Carbonex ledger is refused by writers
as by readers, and left as it is: Carbonex makes its schema only in a new or empty database."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg
import pytest

from carbonex.ledger import Ledger
from carbonex.store import StoreError, open_store
from carbonex.store.database import SCHEMA_HEAD, schema_revision

NO_LEDGER = "holds no Carbonex ledger: it holds other tables"


def foreign_sqlite_file(path: Path) -> bytes:
    """A file in rollback-journal mode holding one table of its own; its bytes."""
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x INTEGER)")
        connection.execute("INSERT INTO t VALUES (1)")
    connection.close()
    return path.read_bytes()


def add_foreign_table(database_url: str) -> None:
    """A table of another program where the ledger would go (a file, or a PostgreSQL schema)."""
    if database_url.startswith("postgresql"):
        with psycopg.connect(database_url, autocommit=True) as connection:
            connection.execute("CREATE TABLE t (x INTEGER)")
    else:
        foreign_sqlite_file(Path(database_url))


def table_names(database_url: str) -> set[str]:
    store = open_store(database_url, migrate=False)
    try:
        return store.table_names()
    finally:
        store.close()


@pytest.mark.parametrize(
    "opening",
    [
        {"migrate": True},
        {"migrate": True, "must_exist": True},
        {"migrate": False, "must_exist": True, "any_revision": True},
    ],
    ids=["writer", "reader", "upgrade or backup"],
)
def test_a_database_of_another_programs_tables_is_refused_and_left_as_it_is(
    database_url: str, opening: dict[str, bool]
) -> None:
    add_foreign_table(database_url)
    with pytest.raises(StoreError, match=NO_LEDGER):
        open_store(database_url, **opening)
    assert table_names(database_url) == {"t"}


def test_a_ledger_is_never_made_in_a_foreign_sqlite_file_whose_bytes_stay_the_same(
    tmp_path: Path,
) -> None:
    path = tmp_path / "foreign.db"
    before = foreign_sqlite_file(path)
    with pytest.raises(StoreError, match=NO_LEDGER):
        Ledger.open(str(path))
    assert path.read_bytes() == before
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["foreign.db"]


def test_a_writer_makes_its_ledger_in_an_empty_database(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        Path(database_url).touch()  # an empty file, as `touch` leaves it
    with Ledger.open(database_url) as ledger:
        assert schema_revision(ledger.store) == SCHEMA_HEAD
