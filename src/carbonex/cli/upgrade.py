"""`carbonex upgrade`: bring an existing ledger's schema up to this version of Carbonex.

Commands that write upgrade a ledger as they open it; commands that only read refuse an older
one and point here, so that a verify or a query never changes the database it reads. Exit codes:
0 upgraded or already current, 2 no ledger there (nothing is created), or one written by a newer
Carbonex, or a migration that failed: all of them run in one transaction with the revision's
bump, on SQLite as on PostgreSQL, so the ledger is left at the revision and schema it had.
Concurrent upgrades take turns: one upgrades, the others find it done.
"""

from __future__ import annotations

from typing import Any

from carbonex.cli import render
from carbonex.cli.exits import usage_error
from carbonex.cli.options import DatabaseOption, JsonOption
from carbonex.cli.session import open_store_or_exit, without_password
from carbonex.store.database import (
    SCHEMA_HEAD,
    redacted,
    resolve_database,
    upgrade_schema,
)


def upgrade(database: DatabaseOption = None, as_json: JsonOption = False) -> None:
    """Upgrade a ledger's schema to this version of Carbonex (back it up first)."""
    target = resolve_database(database)
    store = open_store_or_exit(target, migrate=False, any_revision=True)
    try:
        before = upgrade_schema(store)  # read under the write lock: concurrent upgraders wait
    except Exception as error:  # Alembic's and the drivers' own types, reported at the edge
        usage_error(
            f"cannot upgrade {redacted(target)}: {without_password(str(error), target)} "
            "(rolled back: the ledger is left as it was)"
        )
    finally:
        store.close()
    record: dict[str, Any] = {
        "database": redacted(target),
        "from_revision": before,
        "to_revision": SCHEMA_HEAD,
        "upgraded": before != SCHEMA_HEAD,
    }
    if as_json:
        render.json_document(record)
    elif record["upgraded"]:
        render.line(
            f"Upgraded {record['database']} from schema revision {before} to {SCHEMA_HEAD}",
            style="green bold",
        )
    else:
        render.line(f"{record['database']} is at schema revision {SCHEMA_HEAD} already")
