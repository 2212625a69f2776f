"""Signed heads: a statement verifies only unchanged and only against the key that signed it."""

from __future__ import annotations

import base64
import datetime as dt
import os
import stat
from pathlib import Path
from typing import Any

import orjson
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from carbonex.ledger.signed_heads import (
    SIGNED_HEAD_KIND,
    KeyFileError,
    SignedHead,
    load_private_key,
    load_public_key,
    new_key_pair,
    read_signed_head,
    sign_head,
)

KEY = Ed25519PrivateKey.generate()
OTHER_KEY = Ed25519PrivateKey.generate()
ENTRY_HASH = "ab" * 32
SIGNED_AT = dt.datetime(2026, 12, 7, 12, 0, tzinfo=dt.UTC)
RECORDED_AT = "2026-12-07T11:59:00+00:00"


def signed() -> SignedHead:
    return sign_head(KEY, 42, ENTRY_HASH, RECORDED_AT, SIGNED_AT)


def test_a_signed_head_verifies_against_the_key_that_signed_it() -> None:
    statement = signed()
    assert read_signed_head(statement.to_bytes(), KEY.public_key()) == statement
    assert statement.kind == SIGNED_HEAD_KIND
    assert (statement.seq, statement.entry_hash, statement.signed_at) == (
        42,
        ENTRY_HASH,
        "2026-12-07T12:00:00+00:00",
    )


def test_a_head_signed_by_another_key_is_refused_whatever_key_it_names() -> None:
    statement = signed().to_bytes()
    assert "another key" in str(read_signed_head(statement, OTHER_KEY.public_key()))
    forged = sign_head(OTHER_KEY, 42, ENTRY_HASH, RECORDED_AT, SIGNED_AT).to_record()
    forged["public_key"] = signed().public_key  # names the registry's key, signed by another
    problem = read_signed_head(orjson.dumps(forged), KEY.public_key())
    assert "signature does not verify" in str(problem)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("seq", 43),
        ("entry_hash", "cd" * 32),
        ("recorded_at", "2026-12-07T11:58:00+00:00"),
        ("signed_at", "2026-12-08T12:00:00+00:00"),
    ],
)
def test_a_statement_changed_in_any_field_no_longer_verifies(field: str, value: Any) -> None:
    record = signed().to_record() | {field: value}
    problem = read_signed_head(orjson.dumps(record), KEY.public_key())
    assert isinstance(problem, str)
    assert "signature does not verify" in problem


@pytest.mark.parametrize(
    ("change", "named"),
    [
        ({"seq": 0}, "seq"),
        ({"seq": 2**63}, "seq"),
        ({"seq": "42"}, "seq"),
        ({"seq": True}, "seq"),
        ({"entry_hash": "AB" * 32}, "entry_hash"),
        ({"entry_hash": "ab"}, "entry_hash"),
        ({"recorded_at": "2026-12-07T11:59:00"}, "recorded_at"),
        ({"signed_at": 5}, "signed_at"),
        ({"public_key": "not base64!"}, "public_key"),
        ({"signature": base64.b64encode(b"x" * 63).decode()}, "signature"),
        ({"kind": "carbonex-signed-head/2"}, "kind"),
        ({"extra": 1}, "fields"),
    ],
)
def test_a_malformed_statement_is_named_not_raised(change: dict[str, Any], named: str) -> None:
    record = signed().to_record() | change
    problem = read_signed_head(orjson.dumps(record), KEY.public_key())
    assert isinstance(problem, str)
    assert named in problem


@given(st.binary(max_size=600))
def test_any_bytes_are_a_statement_or_a_problem_never_an_exception(data: bytes) -> None:
    assert isinstance(read_signed_head(data, KEY.public_key()), (SignedHead, str))


@given(st.dictionaries(st.sampled_from([*signed().to_record(), "other"]), st.from_type(object)))
def test_any_json_record_is_a_statement_or_a_problem(record: dict[str, Any]) -> None:
    try:
        data = orjson.dumps(record)
    except TypeError:
        return  # not JSON at all
    assert isinstance(read_signed_head(data, KEY.public_key()), (SignedHead, str))


def test_an_empty_journal_or_a_malformed_hash_cannot_be_signed() -> None:
    for seq, entry_hash in ((0, ENTRY_HASH), (1, "zz" * 32)):
        with pytest.raises(ValueError):
            sign_head(KEY, seq, entry_hash, RECORDED_AT, SIGNED_AT)


def test_a_new_key_pair_is_written_to_new_files_the_private_one_for_its_owner_only(
    tmp_path: Path,
) -> None:
    private, public = tmp_path / "registry.key", tmp_path / "registry.key.pub"
    key = new_key_pair(private, public)
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    assert load_public_key(public) == key
    statement = sign_head(load_private_key(private), 1, ENTRY_HASH, RECORDED_AT, SIGNED_AT)
    assert read_signed_head(statement.to_bytes(), load_public_key(public)) == statement
    with pytest.raises(FileExistsError):
        new_key_pair(private, tmp_path / "other.pub")
    assert not (tmp_path / "other.pub").exists()


def test_a_private_key_others_may_read_is_refused(tmp_path: Path) -> None:
    private = tmp_path / "registry.key"
    new_key_pair(private, tmp_path / "registry.pub")
    os.chmod(private, 0o640)
    with pytest.raises(KeyFileError, match="owner only"):
        load_private_key(private)


def test_key_files_that_are_not_ed25519_keys_are_refused(tmp_path: Path) -> None:
    ecdsa = generate_private_key(SECP256R1())
    pem = ecdsa.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = ecdsa.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    files = {
        "ecdsa.key": pem,
        "ecdsa.pub": public_pem,
        "garbage": b"\x00" * 40,
        "huge": b"a" * 20_000,
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        os.chmod(tmp_path / name, 0o600)
    for name in ("ecdsa.key", "garbage", "huge", "missing"):
        with pytest.raises(KeyFileError):
            load_private_key(tmp_path / name)
    for name in ("ecdsa.pub", "garbage", "huge", "missing", "ecdsa.key"):
        with pytest.raises(KeyFileError):
            load_public_key(tmp_path / name)
