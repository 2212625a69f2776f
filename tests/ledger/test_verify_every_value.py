"""Any single value of the ledger's tables changed by hand: `verify` names a broken invariant,
and never raises. On SQLite, whose columns hold any type, also a text, a blob or a huge number
where the ledger writes something else; on PostgreSQL, which refuses those, a value of the
column's own type, in the first row of each table (each verify there takes a round trip per
table)."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
import pytest

from carbonex.ledger import Ledger
from carbonex.ledger.stored_values import TABLE_KEYS
from tests.ledger.support import execute_raw
from tests.ledger.test_verify import realistic

INTEGER_EXTREMES = (2**63 - 1, -(2**63))
"""Integers either store holds, where sums and differences overflow."""
SQLITE_ONLY_VALUES = ("x", b"\xff", -1)
"""Values SQLite stores in any column, whatever its declared type."""
REFUSED_BY_THE_DATABASE = (
    sqlite3.IntegrityError,
    psycopg.errors.IntegrityError,
    psycopg.errors.DataError,
)
"""A constraint or a column's range refused the alteration: nothing was altered."""
ALTERATIONS_MIN = 100
"""Fewer applied alterations would mean the test no longer reaches the tables it should."""


def same_type_alterations(value: Any) -> list[Any]:
    """Another value of the same type, as a careful hand would write it (same length for text,
    which PostgreSQL's VARCHAR limits and the hashes' lengths would otherwise give away)."""
    if isinstance(value, bool) or value is None:
        return []
    if isinstance(value, int):
        return [value + 1, *INTEGER_EXTREMES]
    if isinstance(value, str):
        return [value[:-1] + ("y" if value[-1:] != "y" else "z")] if value else ["x"]
    if isinstance(value, bytes | memoryview):
        data = bytes(value)
        return [data[:-1] + bytes([data[-1] ^ 1])] if data else [b"\x00"]
    raise TypeError(f"no alteration for {value!r}")


def rows_of(connection: Any, table: str, limit: int | None) -> tuple[list[str], list[Any]]:
    cursor = connection.execute(
        f"SELECT * FROM {table} ORDER BY {TABLE_KEYS[table]}" + (f" LIMIT {limit}" if limit else "")
    )
    return [column[0] for column in cursor.description], cursor.fetchall()


@dataclass(frozen=True)
class Alteration:
    table: str
    column: str
    value: Any
    original: Any
    keys: dict[str, Any]
    """The row's key columns and their values before the alteration."""

    def statement(self, value: Any, keys: dict[str, Any]) -> tuple[str, tuple[Any, ...]]:
        where = " AND ".join(f"{key} = ?" for key in keys)
        return f"UPDATE {self.table} SET {self.column} = ? WHERE {where}", (value, *keys.values())

    def apply(self) -> tuple[str, tuple[Any, ...]]:
        return self.statement(self.value, self.keys)

    def undo(self) -> tuple[str, tuple[Any, ...]]:
        keys = self.keys | ({self.column: self.value} if self.column in self.keys else {})
        return self.statement(self.original, keys)

    def __str__(self) -> str:
        return f"{self.table}.{self.column} of {tuple(self.keys.values())} set to {self.value!r}"


def alterations(table: str, columns: list[str], row: Any, any_type: bool) -> Iterator[Alteration]:
    """Each alteration of one value of `row`."""
    values = dict(zip(columns, row, strict=True))
    keys = {key.strip(): values[key.strip()] for key in TABLE_KEYS[table].split(",")}
    for column, value in values.items():
        others = same_type_alterations(value)
        if any_type:
            others += [other for other in (None, *SQLITE_ONLY_VALUES) if other not in others]
        others = [other for other in others if other != value]
        for other in others:
            yield Alteration(table, column, other, value, keys)


@pytest.fixture(scope="module")
def realistic_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("every-value") / "base.db"
    with Ledger.open(str(path)) as ledger:
        realistic(ledger)
        assert ledger.verify().ok
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


def put_back(ledger: Ledger, statement: str, parameters: tuple[Any, ...]) -> None:
    """Undo an alteration as it was made: behind the ledger's back, without projecting first
    (which would read the altered rows)."""
    store = ledger.store
    store.connection.execute(store.sql(statement), parameters)  # type: ignore[attr-defined]


def verify_finds_it(database: str, what: str) -> str | None:
    """Why the alteration `what` is not caught as it should be; None when it is."""
    try:
        with Ledger.open(database) as ledger:
            report = ledger.verify()
    except Exception as error:  # the point of the test: name the alteration that raises
        return f"{what}: verify raised {type(error).__name__}: {error}"
    return None if not report.ok else f"{what}: verify found nothing"


@pytest.mark.parametrize("table", TABLE_KEYS)
def test_any_value_of_any_row_altered_on_sqlite_is_named_never_raised(
    realistic_sqlite_file: Path, tmp_path: Path, table: str
) -> None:
    copy = tmp_path / "altered.db"
    with sqlite3.connect(realistic_sqlite_file) as connection:
        columns, rows = rows_of(connection, table, None)
    missed, applied = [], 0
    for row in rows:
        for alteration in alterations(table, columns, row, any_type=True):
            shutil.copy(realistic_sqlite_file, copy)
            with sqlite3.connect(copy) as connection:
                try:
                    connection.execute(*alteration.apply())
                except sqlite3.IntegrityError:  # NOT NULL, a key taken: nothing was altered
                    continue
            applied += 1
            problem = verify_finds_it(str(copy), str(alteration))
            if problem is not None:
                missed.append(problem)
    assert not missed, missed
    assert applied >= min(ALTERATIONS_MIN, len(rows)), applied


def test_any_value_of_each_tables_first_row_altered_is_named(ledger: Ledger) -> None:
    """Same-type alterations, one at a time, each put back before the next."""
    realistic(ledger)
    missed, applied = [], 0
    for table in TABLE_KEYS:
        # The store's connection, as it is now (a failed verify may have opened another).
        columns, rows = rows_of(ledger.store.connection, table, 1)  # type: ignore[attr-defined]
        for alteration in alterations(table, columns, rows[0], any_type=False):
            try:
                execute_raw(ledger, *alteration.apply())
            except REFUSED_BY_THE_DATABASE:  # a key already taken (the next seq), a SMALLINT
                continue
            applied += 1
            if ledger.verify().ok:
                missed.append(str(alteration))
            put_back(ledger, *alteration.undo())
    assert not missed, missed
    assert applied >= len(TABLE_KEYS), applied
    assert ledger.verify().ok
