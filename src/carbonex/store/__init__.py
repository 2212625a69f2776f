"""Persistence: SQLite by default, PostgreSQL by URL, with Alembic migrations."""

from carbonex.store.database import (
    DEFAULT_DATABASE,
    StoreError,
    open_store,
    resolve_database,
)
from carbonex.store.sql import SqlStore

__all__ = ["DEFAULT_DATABASE", "SqlStore", "StoreError", "open_store", "resolve_database"]
