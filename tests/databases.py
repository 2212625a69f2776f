"""Databases and table dumps shared by the tests.

Stateful machines mix in `OnSqlite` (a copy of one migrated, empty SQLite file: migrating every
example would dominate) or `OnPostgres` (a new schema per example). `every_table` and
`ledger_rows` dump every table, for "a refusal changes nothing" comparisons."""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import tempfile

import sqlalchemy
from alembic import command
from alembic.config import Config

from carbonex.ledger import Ledger
from carbonex.store import SqlStore
from carbonex.store.database import MIGRATIONS_DIR
from tests.conftest import drop_postgres_schema, new_postgres_schema

Rows = dict[str, list[str]]


@functools.cache
def migrated_sqlite_template() -> str:
    directory = tempfile.mkdtemp(prefix="carbonex-template-")
    atexit.register(shutil.rmtree, directory, True)
    path = os.path.join(directory, "template.db")
    with Ledger.open(path) as ledger:
        ledger.store.connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # type: ignore[attr-defined]
    return path


def engine_url(url: str) -> str:
    """SQLAlchemy's URL for a database the tests name by path or by postgresql:// URL."""
    if url.startswith("postgresql"):
        return url.replace("postgresql://", "postgresql+psycopg://", 1)
    return url if url.startswith("sqlite:///") else f"sqlite:///{url}"


def migrate_schema(url: str, revision: str, downgrade: bool = False) -> None:
    """Move a ledger's schema to `revision` with Alembic, as an older or newer Carbonex would."""
    engine = sqlalchemy.create_engine(engine_url(url))
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if downgrade else command.upgrade)(config, revision)
    engine.dispose()


class OnSqlite:
    def new_database(self) -> str:
        self.directory = tempfile.mkdtemp(prefix="carbonex-stateful-")
        path = os.path.join(self.directory, "ledger.db")
        shutil.copyfile(migrated_sqlite_template(), path)
        return path

    def drop_database(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


class OnPostgres:
    def new_database(self) -> str:
        self.schema, url = new_postgres_schema()
        return url

    def drop_database(self) -> None:
        drop_postgres_schema(self.schema)


def store_rows(store: SqlStore, ignoring: frozenset[str] = frozenset()) -> Rows:
    """Every row of every table (but Alembic's and `ignoring`), sorted, as seen by `store`."""
    names = sorted(store.table_names() - {"alembic_version"} - ignoring)
    return {name: sorted(map(repr, store.query(f"SELECT * FROM {name}"))) for name in names}


def ledger_rows(ledger: Ledger, ignoring: frozenset[str] = frozenset()) -> Rows:
    """The same once the read models show every committed entry (they are projected from the
    journal in bulk: a comparison must not mistake a projection for a change)."""
    ledger.project()
    return store_rows(ledger.store, ignoring)


def every_table(database: str, ignoring: frozenset[str] = frozenset()) -> Rows:
    """The same over a connection of its own: what is committed, not what another holds."""
    with Ledger.open(database) as ledger:
        return ledger_rows(ledger, ignoring)
