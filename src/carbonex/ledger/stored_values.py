"""Invariant 0 of `verify`: the tables hold only values the ledger writes.

SQLite stores any value in any column (a column's declared type is only an affinity: text that
looks like a number becomes one, anything else stays what it was), so a row altered by hand can
hold a text where a serial belongs, or a number where a payload belongs; PostgreSQL refuses those
itself. On both, a serial can be set outside the range the ledger issues (1..SERIAL_MAX), where
the sums of the conservation checks overflow. The other checks read values as the ledger writes
them, so these are looked for when they fail, or find a problem (never on the healthy path: on a
million blocks this takes about half a second).
"""

from __future__ import annotations

from carbonex.ledger.limits import SERIAL_MAX
from carbonex.store import SqlStore
from carbonex.store.sqlite import SqliteStore

TABLE_KEYS = {
    "journal": "seq",
    "blocks": "block_id",
    "issuances": "issuance_id",
    "accounts": "account_id",
    "holds": "hold_id",
    "unit_attributes": "attributes_id",
    "account_history": "account_id, last_seq",
    "serial_history": "serial_space, level, bucket, last_seq",
    "ledger_meta": "name",
    "catalogs": "digest",
}
"""The tables verify reads, each with the columns that name a row in a message."""
PROBLEM_ROWS_MAX = 20
"""Rows named per table and check: a table may hold millions."""
SERIAL_TABLES = ("blocks", "issuances")
"""Tables with a serial range (first_serial, last_serial)."""


def value_problems(store: SqlStore) -> list[str]:
    """Values the ledger never writes, at most PROBLEM_ROWS_MAX rows per table and check: a type
    the column does not take (first: the range check compares numbers), a serial out of range."""
    problems = type_problems(store)
    if problems:
        return problems
    for table in SERIAL_TABLES:
        rows = store.query(
            f"SELECT {TABLE_KEYS[table]}, first_serial, last_serial FROM {table} "
            "WHERE first_serial < 1 OR first_serial > ? OR last_serial < 1 OR last_serial > ? "
            "LIMIT ?",
            (SERIAL_MAX, SERIAL_MAX, PROBLEM_ROWS_MAX),
        )
        problems += [
            f"{table} row {row[0]}: serials {row[1]}-{row[2]} lie outside 1-{SERIAL_MAX}"
            for row in rows
        ]
    return problems


def storage_classes(declared_type: str, nullable: bool) -> tuple[str, ...]:
    """What `typeof` may give in a column of this declared type (SQLite's affinity rules: a type
    naming INT is integer, CHAR, CLOB or TEXT text, BLOB or none blob)."""
    declared = declared_type.upper()
    if "INT" in declared:
        classes: tuple[str, ...] = ("integer",)
    elif any(name in declared for name in ("CHAR", "CLOB", "TEXT")):
        classes = ("text",)
    elif "BLOB" in declared or not declared:
        classes = ("blob",)
    else:
        raise ValueError(f"no column of the ledger is declared {declared_type!r}")
    return (*classes, "null") if nullable else classes


def type_problems(store: SqlStore) -> list[str]:
    """Each value whose storage class its column's declared type does not allow; [] when all
    agree (always, on PostgreSQL)."""
    if not isinstance(store, SqliteStore):
        return []
    problems: list[str] = []
    for table, keys in TABLE_KEYS.items():
        problems += _table_type_problems(store, table, keys)
    return problems


def _table_type_problems(store: SqlStore, table: str, keys: str) -> list[str]:
    columns = [
        (str(name), storage_classes(str(declared), not_null == 0))
        for name, declared, not_null in store.query(
            'SELECT name, type, "notnull" FROM pragma_table_info(?)', (table,)
        )
    ]
    if not columns:
        return [f"table {table} is missing"]
    mistyped = " OR ".join(
        f"typeof({name}) NOT IN ({', '.join(repr(c) for c in classes)})"
        for name, classes in columns
    )
    types = ", ".join(f"typeof({name})" for name, _ in columns)
    key_count = keys.count(",") + 1
    rows = store.query(
        f"SELECT {keys}, {types} FROM {table} WHERE {mistyped} LIMIT ?", (PROBLEM_ROWS_MAX,)
    )
    return [
        f"{table} row {', '.join(repr(value) for value in row[:key_count])}: {name} holds "
        f"a {stored} value, where the column takes {' or '.join(classes)}"
        for row in rows
        for (name, classes), stored in zip(columns, row[key_count:], strict=True)
        if stored not in classes
    ]
