"""Fixtures shared by the whole suite: a fresh database on each store, a ledger, a fixed clock.

Every test that takes `database_url` (or `ledger`) runs twice: on a new SQLite file and on a new
PostgreSQL schema. PostgreSQL comes from CARBONEX_TEST_POSTGRES_URL (default: the local server's
`test` database). When CARBONEX_REQUIRE_POSTGRES=1 (CI sets it) an unreachable server fails the
run instead of skipping the PostgreSQL half.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator
from urllib.parse import quote

import psycopg
import pytest
from hypothesis import HealthCheck, settings

from carbonex.ledger import Ledger

# Tests check correctness, never time: no per-example deadline, no too-slow health check (CI
# machines are shared and slow at times). Modules that need more examples set their own settings.
settings.register_profile(
    "carbonex-default",
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.load_profile("carbonex-default")

POSTGRES_URL = os.environ.get(
    "CARBONEX_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REQUIRE_POSTGRES = os.environ.get("CARBONEX_REQUIRE_POSTGRES") == "1"
START = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


class FixedClock:
    """A clock tests move by hand."""

    def __init__(self, now: dt.datetime = START) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


def _postgres_available() -> bool:
    try:
        with psycopg.connect(POSTGRES_URL, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def postgres_available() -> bool:
    available = _postgres_available()
    if not available and REQUIRE_POSTGRES:
        pytest.fail(f"PostgreSQL is required but unreachable at {POSTGRES_URL}")
    return available


@pytest.fixture(autouse=True)
def _skip_postgres_machines_when_unreachable(request: pytest.FixtureRequest) -> None:
    """Hypothesis state machines on PostgreSQL (test classes named ...OnPostgres) take no
    `database_url`; they are skipped here when the server is unreachable (failed in CI)."""
    if "Postgres" in request.node.nodeid and not request.getfixturevalue("postgres_available"):
        pytest.skip("PostgreSQL unreachable (CI requires it)")


def new_postgres_schema() -> tuple[str, str]:
    """A new empty schema and a URL whose connections use it."""
    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    separator = "&" if "?" in POSTGRES_URL else "?"
    return schema, f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"


def drop_postgres_schema(schema: str) -> None:
    with psycopg.connect(POSTGRES_URL, autocommit=True) as connection:
        connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: os.PathLike[str], postgres_available: bool
) -> Iterator[str]:
    if request.param == "sqlite":
        yield os.path.join(tmp_path, "carbonex.db")
        return
    if not postgres_available:
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL} (CI requires it)")
    schema, url = new_postgres_schema()
    try:
        yield url
    finally:
        drop_postgres_schema(schema)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


@pytest.fixture
def ledger(database_url: str, clock: FixedClock) -> Iterator[Ledger]:
    with Ledger.open(database_url, clock=clock) as opened:
        yield opened
