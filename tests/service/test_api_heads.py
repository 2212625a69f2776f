"""Signed heads over the API: anyone may fetch the journal's head signed with the registry's key,
and the statement checks out against its public key and the journal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from carbonex.ledger import Ledger
from carbonex.ledger.signed_heads import (
    SignedHead,
    load_private_key,
    new_key_pair,
    read_signed_head,
)
from carbonex.service.app import HEAD_KEY_VARIABLE, app_from_environment, create_app
from tests.service.conftest import BASE_URL
from tests.service.support import API, ok, problem

KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def signing(demo_database: str) -> Iterator[TestClient]:
    with TestClient(create_app(demo_database, head_key=KEY), base_url=BASE_URL) as client:
        yield client


def test_anyone_may_fetch_the_head_signed_and_it_names_the_journals_last_entry(
    signing: TestClient,
) -> None:
    answer = signing.get(f"{API}/heads/signed")
    assert answer.headers["cache-control"] == "no-store"
    signed = read_signed_head(orjson.dumps(ok(answer)), KEY.public_key())
    assert isinstance(signed, SignedHead), signed
    health = ok(signing.get(f"{API}/health"))
    assert (signed.seq, signed.entry_hash) == (health["journal_seq"], health["journal_head_hash"])


def test_a_registry_without_a_key_says_it_does_not_sign(public: TestClient) -> None:
    problem(public.get(f"{API}/heads/signed"), 404, "E_HEADS_NOT_SIGNED")


def test_an_empty_journal_has_no_head_to_sign(database_url: str) -> None:
    with Ledger.open(database_url):
        pass
    app = create_app(database_url, head_key=KEY)
    with TestClient(app, base_url=BASE_URL) as client:
        problem(client.get(f"{API}/heads/signed"), 404, "E_JOURNAL_EMPTY")


def test_a_worker_signs_with_the_key_file_serve_names(
    demo_database: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    new_key_pair(tmp_path / "registry.key", tmp_path / "registry.pub")
    monkeypatch.setenv("CARBONEX_DATABASE_URL", demo_database)
    monkeypatch.setenv(HEAD_KEY_VARIABLE, str(tmp_path / "registry.key"))
    with TestClient(app_from_environment(), base_url=BASE_URL) as client:
        record = ok(client.get(f"{API}/heads/signed"))
    key = load_private_key(tmp_path / "registry.key")
    assert isinstance(read_signed_head(orjson.dumps(record), key.public_key()), SignedHead)
