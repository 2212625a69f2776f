"""Naming a database: an empty name or a URL of an unknown scheme is refused, never taken for a
file (an empty name would be a temporary database that vanishes, `mysql://x` a path). A URL is
shown in messages without its passwords, in `user:password@` or in the query."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from carbonex.store import StoreError, open_store, resolve_database
from carbonex.store.database import redacted


def test_an_empty_database_given_is_kept_empty_not_replaced_by_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("CARBONEX_DATABASE_URL", raising=False)
    assert resolve_database("") == ""
    assert resolve_database(None) == "carbonex.db"


@pytest.mark.parametrize(
    ("database", "said"),
    [
        ("", "the database is empty"),
        (" ", "the database is empty"),
        ("mysql://registry/carbon", "unknown database URL scheme 'mysql'"),
        ("oracle+cx://x", "unknown database URL scheme 'oracle+cx'"),
    ],
)
def test_a_database_no_store_opens_is_refused_and_nothing_is_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database: str, said: str
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match=re.escape(said)):
        open_store(database)
    assert list(tmp_path.iterdir()) == []


def test_a_sqlite_url_and_a_plain_path_still_open(tmp_path: Path) -> None:
    for database in (f"sqlite:///{tmp_path / 'a.db'}", str(tmp_path / "b.db")):
        open_store(database).close()
    assert sorted(path.name for path in tmp_path.glob("*.db")) == ["a.db", "b.db"]


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://carbon:hunter2@db:5432/reg", "postgresql://carbon:***@db:5432/reg"),
        ("postgresql://db/reg?password=hunter2", "postgresql://db/reg?password=***"),
        (
            "postgresql://db/reg?sslmode=require&sslpassword=hunter2&passfile=/run/pgpass",
            "postgresql://db/reg?sslmode=require&sslpassword=***&passfile=/run/pgpass",
        ),
        ("postgresql://db/reg?PASS%57ORD=hunter2", "postgresql://db/reg?PASS%57ORD=***"),
        ("postgresql://u:pw@db/reg?password=hunter2", "postgresql://u:***@db/reg?password=***"),
        (
            "postgresql://db/reg?options=-csearch_path%3Dx",
            "postgresql://db/reg?options=-csearch_path%3Dx",
        ),
        ("ledgers/carbonex.db", "ledgers/carbonex.db"),
    ],
)
def test_a_database_url_is_shown_without_its_passwords(url: str, shown: str) -> None:
    assert redacted(url) == shown
