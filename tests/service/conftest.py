"""Fixtures of the service tests: the demo database on each store, and clients signed in as
any demo user (cookie session with its CSRF token, or an API key)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from carbonex.ledger import Ledger
from carbonex.service.app import create_app
from carbonex.service.demo import DEMO_PASSWORD, load_demo

BASE_URL = "https://testserver"  # Secure cookies travel over https only


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
