"""Fixtures of the service tests: the demo database on each store, and clients signed in as
any demo user (cookie session with its CSRF token, or an API key)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carbonex.ledger import Ledger, Transaction
from carbonex.service import identity
from carbonex.service.app import create_app
from carbonex.service.demo import DEMO_PASSWORD, load_demo

BASE_URL = "https://testserver"  # Secure cookies travel over https only


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id at its lowest cost: the demo hashes a dozen passwords, and at the production
    cost (about 150 ms each) that would dominate every test. Hashes still verify the same way."""
    quick = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    monkeypatch.setattr(identity, "_HASHER", quick)
    monkeypatch.setattr(identity, "_DUMMY_HASH", quick.hash("carbonex-timing-equalizer"))


@pytest.fixture
def demo_database(database_url: str) -> str:
    with Ledger.open(database_url) as ledger:
        assert load_demo(ledger)
    return database_url


@pytest.fixture
def app(demo_database: str) -> Iterator[FastAPI]:
    yield create_app(demo_database)


@pytest.fixture
def public(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, base_url=BASE_URL) as client:
        yield client


SignIn = Callable[[str], TestClient]


@pytest.fixture
def signed_in(app: FastAPI) -> Iterator[SignIn]:
    """signed_in("merlion") -> a client with merlion's session cookie and CSRF header."""
    clients: list[TestClient] = []

    def sign_in(user_id: str) -> TestClient:
        client = TestClient(app, base_url=BASE_URL)
        client.__enter__()
        clients.append(client)
        answer = client.post(
            "/api/v1/session", json={"user_id": user_id, "password": DEMO_PASSWORD}
        )
        assert answer.status_code == 201, answer.text
        client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        return client

    yield sign_in
    for client in clients:
        client.__exit__(None, None, None)


WithKey = Callable[[str], TestClient]


def new_api_key(database: str, user_id: str) -> str:
    """A new API key of the user's, made directly in the database."""

    def work(tx: Transaction) -> tuple[str, bool]:
        _key_id, key = identity.create_api_key(tx.store, user_id, "tests", tx.now)
        return key, True

    with Ledger.open(database) as ledger:
        return ledger.transact(work)


@pytest.fixture
def with_key(app: FastAPI, demo_database: str) -> Iterator[WithKey]:
    """with_key("admin") -> a client that sends a new API key of admin's (no cookie, no CSRF)."""
    clients: list[TestClient] = []

    def client_of(user_id: str) -> TestClient:
        client = TestClient(app, base_url=BASE_URL)
        client.__enter__()
        clients.append(client)
        client.headers["Authorization"] = f"Bearer {new_api_key(demo_database, user_id)}"
        return client

    yield client_of
    for client in clients:
        client.__exit__(None, None, None)
