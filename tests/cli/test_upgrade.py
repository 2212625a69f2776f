"""A ledger written by an older Carbonex: commands that only read refuse it and change nothing,
`carbonex upgrade` brings it to the present schema, and a backup copies it as it is. A database
of another program's tables is refused by every command and left as it was; a password in a URL
is never printed."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import alembic
import pytest

from carbonex.ledger import Ledger
from carbonex.store import open_store
from carbonex.store.database import SCHEMA_HEAD, schema_revision
from carbonex.store.sql import JOURNAL_COLUMNS
from tests.cli.helpers import (
    EXIT_USAGE,
    OPEN_ACME,
    invoke,
    invoke_json,
    seed_as_before_catalogs_were_named,
)
from tests.conftest import POSTGRES_URL
from tests.databases import Rows, migrate_schema, store_rows

OLDER_REVISION = "0006"
READING_COMMANDS = [
    ("verify",),
    ("summary",),
    ("holdings", "DEV"),
    ("journal",),
    ("account", "list"),
    ("report", "double-issuance"),
]


def older_ledger(database_url: str) -> str:
    """A ledger as an older Carbonex left it: its entries name no catalog (they did from schema
    revision 0009 on), its schema is OLDER_REVISION."""
    seed_as_before_catalogs_were_named(database_url)
    migrate_schema(database_url, OLDER_REVISION, downgrade=True)
    return database_url


def revision_and_rows(database_url: str) -> tuple[str | None, Rows]:
    """The schema revision and every row, read without upgrading anything."""
    store = open_store(database_url, migrate=False, must_exist=True, any_revision=True)
    try:
        return schema_revision(store), store_rows(store)
    finally:
        store.close()


@pytest.mark.parametrize("command", READING_COMMANDS, ids=" ".join)
def test_a_command_that_only_reads_refuses_an_older_ledger_and_leaves_it_as_it_was(
    database_url: str, command: tuple[str, ...]
) -> None:
    before = revision_and_rows(older_ledger(database_url))
    on_sqlite = not database_url.startswith("postgresql")
    file_before = Path(database_url).read_bytes() if on_sqlite else b""
    result = invoke(*command, "--db", database_url)
    assert result.exit_code == EXIT_USAGE, result.output
    assert f"schema revision {OLDER_REVISION}" in result.stderr
    assert "carbonex upgrade" in result.stderr
    assert revision_and_rows(database_url) == before
    if on_sqlite:
        assert Path(database_url).read_bytes() == file_before


def entries_and_units(database_url: str) -> tuple[Rows, Any]:
    """The journal's entries as hashed, and every table of units and accounts: what an upgrade
    keeps (the head moved from `ledger_meta` into the journal in 0008)."""
    store = open_store(database_url, migrate=False, must_exist=True, any_revision=True)
    try:
        entries = store.query(f"SELECT {JOURNAL_COLUMNS} FROM journal ORDER BY seq")
        return store_rows(store, frozenset({"journal", "ledger_meta"})), entries
    finally:
        store.close()


def test_upgrade_brings_an_older_ledger_to_the_present_schema_keeping_every_entry_and_unit(
    database_url: str,
) -> None:
    before = entries_and_units(older_ledger(database_url))
    record = invoke_json("upgrade", "--db", database_url)
    assert record["from_revision"] == OLDER_REVISION
    assert record["to_revision"] == SCHEMA_HEAD and record["upgraded"] is True
    revision, rows = revision_and_rows(database_url)
    assert revision == SCHEMA_HEAD and entries_and_units(database_url) == before
    assert rows["catalogs"] == []
    assert invoke("verify", "--db", database_url, "--redecide").exit_code == 0
    opened = invoke(
        "account", "open", "NEW", "--kind", "trading", "--holder", "New", "--db", database_url
    )
    assert opened.exit_code == 0, opened.output
    with Ledger.open(database_url) as ledger:
        kept = ledger.store.query("SELECT digest, first_seq FROM catalogs")
        assert [tuple(row) for row in kept] == [(ledger.catalog.digest, 5)]
    assert invoke("verify", "--db", database_url, "--redecide").exit_code == 0
    again = invoke_json("upgrade", "--db", database_url)
    assert again["from_revision"] == SCHEMA_HEAD and again["upgraded"] is False


def test_upgrade_says_what_it_did_in_words(tmp_path: Path) -> None:
    path = older_ledger(str(tmp_path / "ledger.db"))
    result = invoke("upgrade", "--db", path)
    assert result.exit_code == 0, result.output
    assert f"from schema revision {OLDER_REVISION} to {SCHEMA_HEAD}" in result.stdout
    assert "already" in invoke("upgrade", "--db", path).stdout


def test_upgrade_creates_no_ledger(database_url: str) -> None:
    on_sqlite = not database_url.startswith("postgresql")
    if on_sqlite:
        missing = invoke("upgrade", "--db", database_url)
        assert missing.exit_code == EXIT_USAGE and "does not exist" in missing.stderr
        assert not Path(database_url).exists()
        Path(database_url).touch()
    result = invoke("upgrade", "--db", database_url)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "holds no Carbonex ledger" in result.stderr
    store = open_store(database_url, migrate=False)
    try:
        assert store.table_names() == set()
    finally:
        store.close()


def test_upgrade_refuses_a_ledger_from_a_newer_carbonex(tmp_path: Path) -> None:
    path = tmp_path / "newer.db"
    assert invoke(*OPEN_ACME, "--db", str(path)).exit_code == 0
    with sqlite3.connect(path) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.close()
    result = invoke("upgrade", "--db", str(path))
    assert result.exit_code == EXIT_USAGE
    assert "newer Carbonex" in result.stderr


def test_an_older_ledger_is_backed_up_as_it_is_before_an_upgrade(tmp_path: Path) -> None:
    source = older_ledger(str(tmp_path / "ledger.db"))
    before = revision_and_rows(source)
    copy = str(tmp_path / "copy.db")
    record = invoke_json("backup", copy, "--db", source)
    assert record["schema_revision"] == OLDER_REVISION and record["verified"] is None
    assert "journal_seq" not in record
    assert revision_and_rows(copy) == revision_and_rows(source) == before
    words = invoke("backup", str(tmp_path / "second.db"), "--db", source)
    assert words.exit_code == 0 and "not verified" in words.stdout


FOREIGN_COMMANDS = [
    OPEN_ACME,
    ("upgrade",),
    ("verify",),
    ("summary",),
    ("backup", "copy.db"),
]


@pytest.mark.parametrize("command", FOREIGN_COMMANDS, ids=" ".join)
def test_every_command_refuses_a_file_of_another_programs_tables_and_leaves_it_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: tuple[str, ...]
) -> None:
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "foreign.db"
    with sqlite3.connect(path) as connection:
        connection.execute("CREATE TABLE t (x INTEGER)")
    connection.close()
    before = path.read_bytes()
    result = invoke(*command, "--db", str(path))
    assert result.exit_code == EXIT_USAGE, result.output
    assert f"database file {path} holds no Carbonex ledger: it holds other tables" in result.stderr
    assert path.read_bytes() == before
    assert sorted(entry.name for entry in tmp_path.iterdir()) == ["foreign.db"]


def test_a_password_given_in_the_urls_query_is_not_printed(postgres_available: bool) -> None:
    if not postgres_available:
        pytest.skip("PostgreSQL unreachable (CI requires it)")
    url = f"{POSTGRES_URL.split('?')[0].rsplit('/', 1)[0]}/carbonex_no_such_database"
    for command in (("upgrade",), ("summary",), OPEN_ACME):
        result = invoke(*command, "--db", f"{url}?password=hunter2&sslpassword=hunter3")
        assert result.exit_code == EXIT_USAGE, result.output
        assert "hunter" not in result.output
        assert "password=***&sslpassword=***" in result.stderr


def test_an_upgrade_that_fails_partway_says_so_and_leaves_the_ledger_for_the_next_one(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = revision_and_rows(older_ledger(database_url))

    def failing(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk is full")

    monkeypatch.setattr(alembic.op, "add_column", failing)  # 0008, after 0007 ran
    result = invoke("upgrade", "--db", database_url)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "disk is full (rolled back: the ledger is left as it was)" in result.stderr
    assert revision_and_rows(database_url) == before
    monkeypatch.undo()
    record = invoke_json("upgrade", "--db", database_url)
    assert record["from_revision"] == OLDER_REVISION and record["upgraded"] is True


def test_a_backup_stays_in_rollback_journal_mode_and_reading_it_changes_no_byte(
    tmp_path: Path,
) -> None:
    """Verifying a backup (the backup's own check, or `verify` later) switched it to WAL mode:
    a reader leaves the journal mode as it is, so the copy stays one self-contained file."""
    source, copy = tmp_path / "ledger.db", tmp_path / "copy.db"
    assert invoke(*OPEN_ACME, "--db", str(source)).exit_code == 0
    assert invoke("backup", str(copy), "--db", str(source)).exit_code == 0
    before = copy.read_bytes()
    for command in (("verify",), ("summary",), ("backup", str(tmp_path / "again.db"))):
        result = invoke(*command, "--db", str(copy))
        assert result.exit_code == 0, result.output
    assert copy.read_bytes() == before
    with sqlite3.connect(f"{copy.as_uri()}?mode=ro", uri=True) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone() == ("delete",)
    connection.close()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["again.db", "copy.db", "ledger.db"]
