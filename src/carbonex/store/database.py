"""Choosing and opening a database, and bringing its schema up to date."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote_plus, urlsplit, urlunsplit

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
MIGRATION_BUSY_TIMEOUT_S = 30.0
"""How long a SQLite upgrade waits for another connection's write lock (another upgrader's)."""
SECRET_PARAMETER = re.compile(r"password|passwd|secret|token", re.IGNORECASE)
"""Query parameters of a database URL whose values `redacted` hides (`password`, `sslpassword`;
`passfile` names a file and is shown)."""


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
    """The database URL with any password replaced, fit for messages and logs: the one in
    `user:password@` and the values of query parameters that name a secret (`?password=`,
    `&sslpassword=`, however their names are percent-encoded)."""
    parts = urlsplit(target)
    netloc, query = parts.netloc, parts.query
    if parts.password is not None:
        netloc = netloc.replace(f":{parts.password}@", ":***@", 1)
    if query:
        query = "&".join(_redacted_parameter(parameter) for parameter in query.split("&"))
    if (netloc, query) == (parts.netloc, parts.query):
        return target
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def _redacted_parameter(parameter: str) -> str:
    name, equals, _value = parameter.partition("=")
    if equals and SECRET_PARAMETER.search(unquote_plus(name)) is not None:
        return f"{name}=***"
    return parameter


def is_postgres_url(target: str) -> bool:
    """Whether `target` names a PostgreSQL database (anything else is a SQLite file)."""
    return target.startswith(("postgresql://", "postgres://", "postgresql+psycopg://"))


def sqlite_path(target: str) -> str:
    """The file a SQLite target (a path or a sqlite:/// URL) names."""
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
    then verify as "OK"), and opening an older ledger would upgrade it: a reader changes neither.
    `migrate` makes the schema in a new or empty database and refuses one that holds tables but
    no Carbonex ledger (another program's: it is left as it is)."""
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

            path = sqlite_path(target)
            if path != ":memory:":
                _check_file(Path(path), migrate, must_exist, any_revision)
            store = SqliteStore(path, reading=must_exist)
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


class _Contents(NamedTuple):
    revision: str | None
    """The ledger's schema revision; None where there is no Carbonex schema."""
    empty: bool
    """No table, index, view or trigger: a database Carbonex may make its schema in."""


def _check_file(path: Path, migrate: bool, must_exist: bool, any_revision: bool) -> None:
    """Refuse, before the store's connection writes anything (WAL mode, a new file's header): a
    missing file or one without a readable ledger to a reader, another program's database to a
    writer. A missing or empty file is one a writer makes its ledger in."""
    if not path.parent.exists():
        raise StoreError(f"directory of database file {path} does not exist")
    if not path.exists():
        if must_exist:
            raise StoreError(f"database file {path} does not exist (nothing was created)")
        return
    if must_exist:
        contents = _file_contents(path)
        _refuse_unless_ledger(contents, f"file {path}", any_revision)
    elif migrate:
        contents = _file_contents(path)
        if contents.revision is None and not contents.empty:
            raise StoreError(_no_ledger(f"file {path}", empty=False))


def _file_contents(path: Path) -> _Contents:
    """The schema revision of the ledger in a SQLite file, and whether the file holds anything,
    read through a read-only connection: the store's own connection writes as it opens (WAL
    mode, an empty file's header), which would change a missing, empty, foreign or older file."""
    if not path.is_file():
        raise StoreError(f"database file {path} is not a file")
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        empty = connection.execute("SELECT 1 FROM sqlite_master LIMIT 1").fetchone() is None
        revision = sqlite_schema_revision(connection)
    except sqlite3.OperationalError as error:
        if "readonly" not in str(error):
            raise
        raise StoreError(_unreadable_wal_file(path)) from error
    finally:
        connection.close()
    return _Contents(revision, empty)


def sqlite_schema_revision(connection: sqlite3.Connection) -> str | None:
    """The schema revision of the ledger a SQLite connection reads, None where there is none
    (an empty or foreign file), read with plain SQL: for readers that must not open a store
    (whose connection writes as it opens)."""
    tables = connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    if VERSION_TABLE not in {row[0] for row in tables}:
        return None
    row = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
    return None if row is None else str(row[0])


def _unreadable_wal_file(path: Path) -> str:
    return (
        f"cannot read database file {path}: it is in WAL mode, and SQLite reads such a file only "
        f"where it can make {path.name}-shm beside it (this user cannot write in {path.parent}); "
        "read it as a user who can, or read a copy (a backup is in rollback-journal mode and "
        "reads anywhere)"
    )


def _require_ledger(store: SqlStore, shown: str, any_revision: bool) -> None:
    """Refuse (and close) a server database that holds no ledger of a readable revision (a SQLite
    file is checked before the store opens it: `_check_file`)."""
    try:
        contents = _Contents(schema_revision(store), empty=not store.table_names())
        _refuse_unless_ledger(contents, shown, any_revision)
    except BaseException:
        store.close()
        raise


def _refuse_unless_ledger(contents: _Contents, shown: str, any_revision: bool) -> None:
    revision = contents.revision
    if revision is None:
        raise StoreError(_no_ledger(shown, contents.empty))
    if revision not in SCHEMA_REVISIONS:
        raise StoreError(_newer_schema(revision))
    if revision != SCHEMA_HEAD and not any_revision:
        raise StoreError(
            f"database {shown} holds a ledger of schema revision {revision}; this version of "
            f"Carbonex reads revision {SCHEMA_HEAD}. A reading command leaves it as it is: "
            "`carbonex upgrade` upgrades it (back it up first)"
        )


def _no_ledger(shown: str, empty: bool) -> str:
    if empty:
        return f"database {shown} holds no Carbonex ledger"
    return (
        f"database {shown} holds no Carbonex ledger: it holds other tables, and Carbonex makes "
        "a new ledger only in an empty database (it was left as it is)"
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


def upgrade_schema(store: SqlStore) -> str | None:
    """Run Alembic's migrations up to head, unless the schema is already there; the revision
    the database was at (None: it was empty).

    All of them run in one transaction, with the version bump: a migration that fails (an error,
    a full disk, a killed process) leaves the schema and its revision as they were. It holds the
    database's write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock) before reading
    the revision, so concurrent upgraders take turns and the later ones find the work done.
    A database holding other tables but no Carbonex schema is refused, unchanged."""
    current = schema_revision(store)
    if current == SCHEMA_HEAD:
        return current
    if current is not None and current not in SCHEMA_REVISIONS:
        raise StoreError(_newer_schema(current))
    from alembic import command
    from alembic.config import Config

    engine = _migration_engine(store.url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    try:
        with engine.begin() as connection:
            if engine.dialect.name == "postgresql":
                connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK_KEY})")
            current = _locked_revision(connection, redacted(store.url))
            if current != SCHEMA_HEAD:
                config.attributes["connection"] = connection
                command.upgrade(config, "head")
    finally:
        engine.dispose()
    return current


def _migration_engine(url: str) -> Any:
    """SQLAlchemy's engine for the migrations. On SQLite, Python's driver would commit each
    CREATE or ALTER as it runs (it opens a transaction only before INSERT, UPDATE and DELETE):
    it is told to open none itself, and every transaction starts with BEGIN IMMEDIATE, which
    takes the write lock (waiting for another upgrader's) and makes DDL part of it."""
    import sqlalchemy
    from sqlalchemy import event
    from sqlalchemy.pool import NullPool

    if not url.startswith("sqlite"):
        return sqlalchemy.create_engine(
            url.replace("postgresql://", "postgresql+psycopg://", 1), poolclass=NullPool
        )
    engine = sqlalchemy.create_engine(
        url, poolclass=NullPool, connect_args={"timeout": MIGRATION_BUSY_TIMEOUT_S}
    )

    @event.listens_for(engine, "connect")
    def _no_implicit_transactions(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None

    @event.listens_for(engine, "begin")
    def _begin_immediate(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def _locked_revision(connection: Any, shown: str) -> str | None:
    """The schema revision, read in the migration's transaction: None for an empty database
    (PostgreSQL: the connection's schema); one with other tables but no Carbonex schema, or of a
    revision this Carbonex does not know, is refused."""
    import sqlalchemy

    names = set(sqlalchemy.inspect(connection).get_table_names())
    if VERSION_TABLE not in names:
        if names:
            raise StoreError(_no_ledger(shown, empty=False))
        return None
    row = connection.exec_driver_sql(f"SELECT version_num FROM {VERSION_TABLE}").first()
    revision = None if row is None else str(row[0])
    if revision is not None and revision not in SCHEMA_REVISIONS:
        raise StoreError(_newer_schema(revision))
    return revision
