"""Choosing and opening a database, and bringing its schema up to date."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from carbonex.store.sql import SqlStore
from carbonex.text import shortened

DEFAULT_DATABASE = "carbonex.db"
ENVIRONMENT_VARIABLE = "CARBONEX_DATABASE_URL"
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
# Revisions are numbered files (`0002_projects.py` has revision "0002", down_revision "0001"), so
# the head is the highest number: no Alembic import on the common path of an up-to-date database.
SCHEMA_REVISIONS = frozenset(
    path.name.split("_", 1)[0] for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py")
)
SCHEMA_HEAD = max(SCHEMA_REVISIONS)
MIGRATION_LOCK_KEY = 0x43524259
URL_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
"""The scheme of a database URL (RFC 3986's syntax): text starting so is a URL, not a path."""
SUPPORTED_SCHEMES = frozenset({"sqlite", "postgresql", "postgres", "postgresql+psycopg"})
SUPPORTED_TEXT = "a SQLite file path, sqlite:///PATH, postgresql://…"
VERSION_TABLE = "alembic_version"
"""Alembic's record of the schema revision: a database without it holds no Carbonex ledger."""


class StoreError(RuntimeError):
    """The database cannot be opened or migrated (an edge error, reported to the user)."""


def resolve_database(database: str | None) -> str:
    """`--db` if given (even empty: `open_store` refuses that rather than guess), else
    CARBONEX_DATABASE_URL, else the default SQLite file."""
    if database is not None:
        return database
    return os.environ.get(ENVIRONMENT_VARIABLE) or DEFAULT_DATABASE


def target_problem(target: str) -> str | None:
    """Why `target` names no database this Carbonex opens, or None: empty text (SQLite would make
    a temporary database that vanishes on closing), or a URL of a scheme it does not know (it
    would be taken for a file path)."""
    if not target.strip():
        return "the database is empty: name a SQLite file or a postgresql:// URL"
    scheme = URL_SCHEME.match(target)
    if scheme is not None and scheme.group(1).lower() not in SUPPORTED_SCHEMES:
        shown = shortened(scheme.group(1))
        return f"unknown database URL scheme {shown!r}: supported are {SUPPORTED_TEXT}"
    return None


def redacted(target: str) -> str:
    """The database URL with any password replaced, fit for messages and logs."""
    parts = urlsplit(target)
    if parts.password is None:
        return target
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def is_postgres_url(target: str) -> bool:
    """Whether `target` names a PostgreSQL database (anything else is a SQLite file)."""
    return target.startswith(("postgresql://", "postgres://", "postgresql+psycopg://"))


def _sqlite_path(target: str) -> str:
    return target.removeprefix("sqlite:///") if target.startswith("sqlite:///") else target


def open_store(
    database: str | None = None,
    migrate: bool = True,
    must_exist: bool = False,
    any_revision: bool = False,
) -> SqlStore:
    """Open the store named by `database` (a file path, a sqlite:/// URL or a postgresql:// URL).

    `must_exist` is for readers (verify, queries, reports): the database must already hold a
    Carbonex ledger, of this version's schema unless `any_revision`. Opening a SQLite file that is
    not there, or a database without the schema, would make an empty ledger (a mistyped path would
    then verify as "OK"), and opening an older ledger would upgrade it: a reader changes neither."""
    target = resolve_database(database)
    problem = target_problem(target)
    if problem is not None:
        raise StoreError(problem)
    store: SqlStore
    try:
        if is_postgres_url(target):
            from carbonex.store.postgres import PostgresStore

            store = PostgresStore(target.replace("postgresql+psycopg://", "postgresql://"))
            if must_exist:
                _require_ledger(store, redacted(target), any_revision)
        else:
            from carbonex.store.sqlite import SqliteStore

            path = _sqlite_path(target)
            if path != ":memory:" and not Path(path).parent.exists():
                raise StoreError(f"directory of database file {path} does not exist")
            if must_exist and path != ":memory:":
                _refuse_unless_ledger(_file_revision(Path(path)), f"file {path}", any_revision)
            store = SqliteStore(path)
    except StoreError:
        raise
    except Exception as error:  # the driver's own errors, reported at the edge
        message = str(error).replace(target, redacted(target))
        raise StoreError(f"cannot open database {redacted(target)}: {message}") from error
    if migrate:
        try:
            upgrade_schema(store)
        except BaseException:
            store.close()
            raise
    return store


def _file_revision(path: Path) -> str | None:
    """The schema revision of the ledger in a SQLite file, read through a read-only connection:
    the store's own connection writes as it opens (WAL mode, an empty file's header), which would
    change a missing, empty, foreign or older file."""
    if not path.is_file():
        raise StoreError(f"database file {path} does not exist (nothing was created)")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        found = connection.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (VERSION_TABLE,)
        ).fetchone()
        row = (
            connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
            if found
            else None
        )
    finally:
        connection.close()
    return None if row is None else str(row[0])


def _require_ledger(store: SqlStore, shown: str, any_revision: bool) -> None:
    """Refuse (and close) a server database that holds no ledger of a readable revision (a SQLite
    file is checked before the store opens it: `_file_revision`)."""
    try:
        _refuse_unless_ledger(schema_revision(store), shown, any_revision)
    except BaseException:
        store.close()
        raise


def _refuse_unless_ledger(revision: str | None, shown: str, any_revision: bool) -> None:
    if revision is None:
        raise StoreError(f"database {shown} holds no Carbonex ledger")
    if revision not in SCHEMA_REVISIONS:
        raise StoreError(_newer_schema(revision))
    if revision != SCHEMA_HEAD and not any_revision:
        raise StoreError(
            f"database {shown} holds a ledger of schema revision {revision}; this version of "
            f"Carbonex reads revision {SCHEMA_HEAD}. A reading command leaves it as it is: "
            "`carbonex upgrade` upgrades it (back it up first)"
        )


def _newer_schema(revision: str) -> str:
    return (
        f"database schema is at revision {revision}, which this version of Carbonex does not "
        f"know (it knows up to {SCHEMA_HEAD}): the database was written by a newer Carbonex"
    )


def schema_revision(store: SqlStore) -> str | None:
    """The revision of the store's schema; None where no Carbonex schema was made."""
    if VERSION_TABLE not in store.table_names():
        return None
    row = store.query_one(f"SELECT version_num FROM {VERSION_TABLE}")
    return str(row[0]) if row else None


def upgrade_schema(store: SqlStore) -> None:
    """Run Alembic's migrations up to head, unless the schema is already there."""
    current = schema_revision(store)
    if current == SCHEMA_HEAD:
        return
    if current is not None and current not in SCHEMA_REVISIONS:
        raise StoreError(_newer_schema(current))
    import sqlalchemy
    from alembic import command
    from alembic.config import Config

    if store.url.startswith("sqlite"):
        engine = sqlalchemy.create_engine(store.url)
    else:
        engine = sqlalchemy.create_engine(
            store.url.replace("postgresql://", "postgresql+psycopg://", 1)
        )
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Two processes opening a new database at once must not both create the tables.
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    engine.dispose()
