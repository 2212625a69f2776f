"""Health: a load balancer learns whether a worker can read its database, without signing in."""

from __future__ import annotations

import sqlite3

import pytest
from fastapi.testclient import TestClient

from carbonex.ledger import Ledger
from carbonex.store.database import SCHEMA_HEAD
from tests.service.support import API, ok, problem


def test_a_healthy_worker_answers_with_its_journal_head(public: TestClient) -> None:
    answer = public.get(f"{API}/health")
    assert answer.headers["cache-control"] == "no-store"
    health = ok(answer)
    assert health["status"] == "ok"
    assert health["store"] in ("sqlite", "postgresql")
    assert health["schema_revision"] == SCHEMA_HEAD
    assert health["journal_seq"] > 0 and len(health["journal_head_hash"]) == 64


def test_a_worker_that_cannot_read_its_database_answers_503(
    public: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(self: Ledger) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(Ledger, "head", unreadable)
    problem(public.get(f"{API}/health"), 503, "E_STORE_UNAVAILABLE")
