"""Signed heads: the registry's signed statement that entry SEQ of its journal has hash H.

A head read off a web page lets anyone hold the registry to its history from then on (`verify`
and `journal-check` with `--head-hash` and `--anchor`), but it proves nothing to a third party:
a registry that rewrote its history could deny ever having shown the older head. A signed head
is that statement signed with the registry's Ed25519 key (RFC 8032): whoever keeps one can show
anyone what the registry said its journal was at that entry, and a journal that contradicts it
is proof of a rewritten history. `verify` and `journal-check` take signed heads as anchors
(`--signed-head FILE --public-key FILE`), checking each signature against the key the auditor
pinned, never against the key a statement names.

The statement is one JSON object: `kind`, `seq`, `entry_hash`, `recorded_at` (the entry's
time), `signed_at`, `public_key` (the 32 raw bytes, base64) and `signature` (64 bytes, base64)
over the canonical JSON (sorted keys, no spaces) of every other field. Keys are PEM files:
the private key PKCS #8, unencrypted, readable by its owner only (a key file others may read is
refused, as ssh refuses one); the public key SubjectPublicKeyInfo, which `openssl pkey -pubin`
reads too. Keeping the private key safe (an HSM, a separate signing host) is the registry's
business: this module signs with whatever key file it is given.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import os
import stat
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

SIGNED_HEAD_KIND = "carbonex-signed-head/1"
SIGNED_HEAD_BYTES_MAX = 4_096
"""Largest signed-head file read (a statement is ~400 bytes)."""
KEY_FILE_BYTES_MAX = 16_384
"""Largest key file read (an Ed25519 PEM key is ~120 bytes)."""
PUBLIC_KEY_BYTES = 32
SIGNATURE_BYTES = 64
ENTRY_HASH_HEX_DIGITS = frozenset("0123456789abcdef")
SEQ_MAX = 2**63 - 1
KEY_FILE_MODE = 0o600
KEY_FILE_OTHERS_MASK = 0o077
"""Permission bits a private key file must not have: any access by group or others."""
STATEMENT_FIELDS = ("kind", "seq", "entry_hash", "recorded_at", "signed_at", "public_key")

if TYPE_CHECKING:
    from carbonex.store import SqlStore


class KeyFileError(ValueError):
    """A key file that cannot be used: missing, unreadable, too open, or not an Ed25519 key."""


@dataclass(frozen=True, slots=True)
class SignedHead:
    """A verified (or freshly signed) statement of the journal's entry `seq`."""

    seq: int
    entry_hash: str
    recorded_at: str
    signed_at: str
    public_key: str
    signature: str
    kind: str = SIGNED_HEAD_KIND

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    def to_bytes(self) -> bytes:
        """The file a registry publishes: the record as sorted JSON and a newline."""
        return orjson.dumps(self.to_record(), option=orjson.OPT_SORT_KEYS) + b"\n"


def statement_bytes(fields: dict[str, Any]) -> bytes:
    """What the signature covers: every field but the signature, as canonical JSON."""
    return orjson.dumps(
        {name: fields[name] for name in STATEMENT_FIELDS}, option=orjson.OPT_SORT_KEYS
    )


def sign_head(
    private_key: Ed25519PrivateKey,
    seq: int,
    entry_hash: str,
    recorded_at: str,
    signed_at: dt.datetime,
) -> SignedHead:
    """Sign the statement that entry `seq` has hash `entry_hash`, recorded at `recorded_at`."""
    if not 0 < seq <= SEQ_MAX or not _is_entry_hash(entry_hash):
        raise ValueError(f"not an entry to sign: seq {seq}, hash {entry_hash!r}")
    fields: dict[str, Any] = {
        "kind": SIGNED_HEAD_KIND,
        "seq": seq,
        "entry_hash": entry_hash,
        "recorded_at": recorded_at,
        "signed_at": signed_at.isoformat(),
        "public_key": _b64(public_key_bytes(private_key.public_key())),
    }
    signature = private_key.sign(statement_bytes(fields))
    return SignedHead(
        seq, entry_hash, recorded_at, fields["signed_at"], fields["public_key"], _b64(signature)
    )


def sign_journal_head(
    store: SqlStore, private_key: Ed25519PrivateKey, now: dt.datetime
) -> SignedHead | None:
    """The signed statement of the journal's last entry, read in the caller's transaction;
    None for an empty journal (there is nothing to vouch for)."""
    seq = store.load_head().seq
    if seq == 0:
        return None
    row = store.query_one("SELECT entry_hash, recorded_at FROM journal WHERE seq = ?", (seq,))
    if row is None:
        raise RuntimeError(f"the head names entry {seq}, which the journal does not hold")
    return sign_head(private_key, seq, str(row[0]), str(row[1]), now)


def read_signed_head(data: bytes, pinned_key: Ed25519PublicKey) -> SignedHead | str:
    """The statement `data` holds, if it is one signed by `pinned_key`; else why not."""
    if len(data) > SIGNED_HEAD_BYTES_MAX:
        return f"longer than {SIGNED_HEAD_BYTES_MAX} bytes: not a signed head"
    try:
        record = orjson.loads(data)
    except orjson.JSONDecodeError:
        return "not JSON: not a signed head"
    problem = _record_problem(record)
    if problem is not None:
        return problem
    if record["public_key"] != _b64(public_key_bytes(pinned_key)):
        return "signed by another key than the one given (--public-key)"
    try:
        pinned_key.verify(base64.b64decode(record["signature"]), statement_bytes(record))
    except InvalidSignature:
        return "the signature does not verify: the statement was changed or not signed by this key"
    return SignedHead(**record)


def _record_problem(record: Any) -> str | None:
    """Why `record` is not a well-formed statement (its signature unchecked), or None."""
    expected = {*STATEMENT_FIELDS, "signature"}
    if not isinstance(record, dict) or set(record) != expected:
        return f"not a signed head: expected exactly the fields {sorted(expected)}"
    if record["kind"] != SIGNED_HEAD_KIND:
        return f"kind {str(record['kind'])[:40]!r} is not {SIGNED_HEAD_KIND!r}"
    seq = record["seq"]
    if type(seq) is not int or not 0 < seq <= SEQ_MAX:
        return "seq must be a positive 64-bit integer"
    if not isinstance(record["entry_hash"], str) or not _is_entry_hash(record["entry_hash"]):
        return "entry_hash must be 64 lowercase hexadecimal characters"
    for name in ("recorded_at", "signed_at"):
        if not _is_aware_time(record[name]):
            return f"{name} must be an ISO 8601 time with its offset"
    for name, size in (("public_key", PUBLIC_KEY_BYTES), ("signature", SIGNATURE_BYTES)):
        decoded = _unb64(record[name]) if isinstance(record[name], str) else None
        if decoded is None or len(decoded) != size:
            return f"{name} must be {size} bytes in base64"
    return None


def _is_entry_hash(text: str) -> bool:
    return len(text) == 64 and set(text) <= ENTRY_HASH_HEX_DIGITS


def _is_aware_time(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        return dt.datetime.fromisoformat(value).utcoffset() is not None
    except ValueError:
        return False


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes | None:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None


def public_key_bytes(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def new_key_pair(private_path: Path, public_path: Path) -> Ed25519PublicKey:
    """Make a key pair: the private key in a new file readable by its owner only (never
    replacing a file: FileExistsError), the public key beside it."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    _write_new(private_path, pem, KEY_FILE_MODE)
    try:
        _write_new(public_path, public_key_pem(key.public_key()), 0o644)
    except BaseException:
        private_path.unlink()  # a private key without its public half is of no use
        raise
    return key.public_key()


def _write_new(path: Path, data: bytes, mode: int) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW
    descriptor = os.open(path, flags, mode)
    with os.fdopen(descriptor, "wb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())


def load_private_key(path: Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in `path`; KeyFileError if others may read the file or it holds
    anything else."""
    data = _read_key_file(path)
    mode = os.stat(path).st_mode
    if stat.S_IMODE(mode) & KEY_FILE_OTHERS_MASK:
        raise KeyFileError(
            f"{path}: a private key must be readable by its owner only "
            f"(mode {stat.S_IMODE(mode):03o}; chmod 600)"
        )
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise KeyFileError(f"{path}: not an unencrypted PEM private key ({error})") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyFileError(f"{path}: not an Ed25519 key")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    """The Ed25519 public key in `path` (PEM); KeyFileError otherwise."""
    data = _read_key_file(path)
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as error:
        raise KeyFileError(f"{path}: not a PEM public key ({error})") from None
    if not isinstance(key, Ed25519PublicKey):
        raise KeyFileError(f"{path}: not an Ed25519 public key")
    return key


def _read_key_file(path: Path) -> bytes:
    try:
        with open(path, "rb") as file:
            data = file.read(KEY_FILE_BYTES_MAX + 1)
    except OSError as error:
        raise KeyFileError(f"{path}: {error.strerror}") from None
    if len(data) > KEY_FILE_BYTES_MAX:
        raise KeyFileError(f"{path}: longer than {KEY_FILE_BYTES_MAX} bytes, not a key")
    return data
