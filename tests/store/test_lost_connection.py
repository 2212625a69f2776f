"""When the PostgreSQL server drops a ledger's connection (a restart, a failover, an
administrator's terminate), the next read or command runs on a new connection instead of
failing for as long as the process lives; a command is applied once."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from carbonex.ledger import Accepted, Ledger, Selection, Transfer
from tests.conftest import POSTGRES_URL, drop_postgres_schema, new_postgres_schema
from tests.ledger.support import held, issue, open_accounts


@pytest.fixture
def postgres_ledger(postgres_available: bool) -> Iterator[Ledger]:
    if not postgres_available:
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL} (CI requires it)")
    schema, url = new_postgres_schema()
    ledger = Ledger.open(url)
    try:
        open_accounts(ledger, "A", "B")
        issue(ledger, "A", 100)
        yield ledger
    finally:
        ledger.close()
        drop_postgres_schema(schema)


def _drop_connection(ledger: Ledger) -> None:
    backend = ledger.store.connection.info.backend_pid  # type: ignore[attr-defined]
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (backend,))


def test_a_read_after_the_server_dropped_the_connection_is_answered(
    postgres_ledger: Ledger,
) -> None:
    _drop_connection(postgres_ledger)
    assert held(postgres_ledger, "A") == 100
    assert postgres_ledger.store.connection.info.backend_pid  # type: ignore[attr-defined]


def test_a_command_after_the_server_dropped_the_connection_is_applied_once(
    postgres_ledger: Ledger,
) -> None:
    _drop_connection(postgres_ledger)
    outcome = postgres_ledger.submit(Transfer("t", "A", "B", Selection("VCU", quantity=30)))
    assert isinstance(outcome, Accepted) and not outcome.duplicate
    assert (held(postgres_ledger, "A"), held(postgres_ledger, "B")) == (70, 30)
    _drop_connection(postgres_ledger)
    again = postgres_ledger.submit(Transfer("t", "A", "B", Selection("VCU", quantity=30)))
    assert isinstance(again, Accepted) and again.duplicate and again.seq == outcome.seq
    assert postgres_ledger.verify().ok


def test_a_connection_lost_at_commit_rises_and_resubmitting_tells_the_outcome(
    postgres_ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = postgres_ledger.store
    committed = store.write_and_commit

    def dropped_first(pending: Any) -> None:
        monkeypatch.setattr(store, "write_and_commit", committed)
        _drop_connection(postgres_ledger)
        committed(pending)

    monkeypatch.setattr(store, "write_and_commit", dropped_first)
    command = Transfer("t", "A", "B", Selection("VCU", quantity=30))
    with pytest.raises(psycopg.OperationalError):  # unknown outcome: never retried blindly
        postgres_ledger.submit(command)
    outcome = postgres_ledger.submit(command)
    assert isinstance(outcome, Accepted) and not outcome.duplicate  # it had not committed
    assert (held(postgres_ledger, "A"), held(postgres_ledger, "B")) == (70, 30)
