"""Who is asking: users, roles, representatives of accounts, sessions and API keys.

Secrets are never stored: passwords as argon2id hashes, session tokens and API key secrets as
SHA-256 digests (they are long random values, so a fast hash is enough to make a stolen table
useless). Every function takes the store and runs inside the caller's transaction.
"""

from __future__ import annotations

import datetime as dt
import enum
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from carbonex.ledger.failures import Code
from carbonex.service.policy import ServicePolicy
from carbonex.store import SqlStore
from carbonex.text import refused_character

USER_ID_LENGTH_MAX = 64
USER_ID_PATTERN = re.compile(rf"^[a-z0-9][a-z0-9._-]{{0,{USER_ID_LENGTH_MAX - 1}}}$")
PASSWORD_LENGTH_MIN = 12
PASSWORD_LENGTH_MAX = 256
TOKEN_BYTES = 32
API_KEY_PREFIX = "cbx"
API_KEYS_PER_USER_MAX = 20
REPRESENTED_ACCOUNTS_MAX = 1_000
_HASHER = PasswordHasher()
SIGN_IN_FAILED = "unknown user, wrong password, or too many failed sign-ins (try again later)"
"""The one answer to every refused sign-in: it names no cause that would tell users apart."""
# Verifying against this keeps a sign-in for an unknown user as slow as for a known one.
_DUMMY_HASH = _HASHER.hash("carbonex-timing-equalizer")


class Role(enum.StrEnum):
    REGISTRY_ADMINISTRATOR = "registry_administrator"
    ACCOUNT_HOLDER = "account_holder"
    VERIFICATION_BODY = "validation_verification_body"
    STANDARD_ADMINISTRATOR = "standard_administrator"
    NATIONAL_AUTHORITY = "national_authority"
    EXCHANGE_MEMBER = "exchange_member"
    AUDITOR = "auditor"


READ_EVERYTHING = frozenset({Role.REGISTRY_ADMINISTRATOR, Role.AUDITOR, Role.NATIONAL_AUTHORITY})


@dataclass(frozen=True, slots=True)
class Principal:
    """The person behind a request (or the public), with what they may act for."""

    user_id: str
    roles: frozenset[Role]
    accounts: frozenset[str]
    via: str  # session | api_key | public
    csrf_token: str = ""
    api_key_id: str = ""
    """The key the request was sent with (via api_key): the one key it may revoke by itself."""

    @property
    def is_public(self) -> bool:
        return self.via == "public"

    def has(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)

    def may_read_account(self, account_id: str) -> bool:
        return self.has(*READ_EVERYTHING) or account_id in self.accounts

    def represents(self, account_id: str) -> bool:
        """May give instructions for the account (transfer, retire, approve its transfers)."""
        return account_id in self.accounts and self.has(Role.ACCOUNT_HOLDER, Role.EXCHANGE_MEMBER)


PUBLIC = Principal("public", frozenset(), frozenset(), "public")


class IdentityError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _iso(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()


def parse_roles(text: str) -> frozenset[Role]:
    return frozenset(Role(name) for name in text.split(",") if name)


def check_new_user(user_id: str, password: str, roles: frozenset[Role]) -> None:
    if not USER_ID_PATTERN.fullmatch(user_id):
        raise IdentityError("E_USER_ID_INVALID", "user ids: lower-case letters, digits, . _ -")
    if not PASSWORD_LENGTH_MIN <= len(password) <= PASSWORD_LENGTH_MAX:
        raise IdentityError(
            "E_PASSWORD_TOO_SHORT", f"passwords have {PASSWORD_LENGTH_MIN} or more characters"
        )
    if not roles:
        raise IdentityError("E_ROLES_MISSING", "a user has at least one role")


def check_free_text(field: str, value: str) -> None:
    """Raise IdentityError unless `value` holds only characters free text may hold
    (`carbonex.text.REFUSED_IN_TEXT`): a display name and a key's label are shown in pages, the
    audit log and on administrators' terminals."""
    refused = refused_character(value)
    if refused is not None:
        raise IdentityError(Code.E_TEXT_CHARACTER_NOT_ALLOWED.value, refused.describe(field))


def add_user(
    store: SqlStore,
    user_id: str,
    display_name: str,
    password: str,
    roles: frozenset[Role],
    now: dt.datetime,
) -> None:
    check_new_user(user_id, password, roles)
    check_free_text("display name", display_name)
    if store.query_one("SELECT 1 FROM users WHERE user_id = ?", (user_id,)):
        raise IdentityError("E_USER_EXISTS", f"user '{user_id}' exists")
    store.execute(
        "INSERT INTO users (user_id, display_name, password_hash, roles, status, "
        "failed_sign_ins, locked_until, created_at) VALUES (?, ?, ?, ?, 'active', 0, NULL, ?)",
        (user_id, display_name, _HASHER.hash(password), ",".join(sorted(roles)), _iso(now)),
    )


def add_representative(store: SqlStore, user_id: str, account_id: str) -> None:
    if not store.query_one("SELECT 1 FROM users WHERE user_id = ?", (user_id,)):
        raise IdentityError("E_USER_UNKNOWN", f"no user '{user_id}'")
    if not store.query_one("SELECT 1 FROM accounts WHERE account_id = ?", (account_id,)):
        raise IdentityError("E_ACCOUNT_UNKNOWN", f"no account '{account_id}'")
    if not store.query_one(
        "SELECT 1 FROM account_representatives WHERE user_id = ? AND account_id = ?",
        (user_id, account_id),
    ):
        store.execute(
            "INSERT INTO account_representatives (user_id, account_id) VALUES (?, ?)",
            (user_id, account_id),
        )


def principal_of(
    store: SqlStore, user_id: str, via: str, csrf_token: str = "", api_key_id: str = ""
) -> Principal | None:
    row = store.query_one("SELECT roles, status FROM users WHERE user_id = ?", (user_id,))
    if row is None or row[1] != "active":
        return None
    accounts = store.query(
        "SELECT account_id FROM account_representatives WHERE user_id = ? LIMIT ?",
        (user_id, REPRESENTED_ACCOUNTS_MAX),
    )
    represented = frozenset(account[0] for account in accounts)
    return Principal(user_id, parse_roles(row[0]), represented, via, csrf_token, api_key_id)


def check_password(
    store: SqlStore, user_id: str, password: str, now: dt.datetime, policy: ServicePolicy
) -> None:
    """Raise IdentityError E_SIGN_IN_FAILED unless the password is right and the user is not
    locked out. Failures count towards a lockout, which the caller must commit even on refusal.
    A locked-out user is refused exactly as an unknown user is (same answer, and as slow: the
    password is checked against a dummy hash): answering them otherwise would tell anyone who
    fails often enough whether the name they tried is a user's."""
    row = _sign_in_row(store, user_id)
    locked = row is not None and row[3] is not None and dt.datetime.fromisoformat(row[3]) > now
    if row is None or row[1] != "active" or locked:
        _verify(_DUMMY_HASH, password)
        raise IdentityError("E_SIGN_IN_FAILED", SIGN_IN_FAILED)
    if _verify(row[0], password):
        store.execute(
            "UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE user_id = ?",
            (user_id,),
        )
        return
    failures = int(row[2]) + 1
    until = None
    if failures >= policy.sign_in_failures_max:
        failures, until = 0, _iso(now + dt.timedelta(minutes=policy.sign_in_lockout_minutes))
    store.execute(
        "UPDATE users SET failed_sign_ins = ?, locked_until = ? WHERE user_id = ?",
        (failures, until, user_id),
    )
    raise IdentityError("E_SIGN_IN_FAILED", SIGN_IN_FAILED)


def _sign_in_row(store: SqlStore, user_id: str) -> tuple[Any, ...] | None:
    """The user's password hash, status, failures and lockout, or None. No user has an id
    outside the pattern, and one holding NUL (a multipart form passes the service's NUL check)
    would fail in PostgreSQL's text columns instead of as a failed sign-in."""
    if USER_ID_PATTERN.fullmatch(user_id) is None:
        return None
    return store.query_one(
        "SELECT password_hash, status, failed_sign_ins, locked_until FROM users WHERE user_id = ?",
        (user_id,),
    )


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def open_session(
    store: SqlStore, user_id: str, now: dt.datetime, policy: ServicePolicy
) -> tuple[str, str]:
    """A new session: (token for the cookie, CSRF token for forms)."""
    token, csrf_token = secrets.token_urlsafe(TOKEN_BYTES), secrets.token_urlsafe(TOKEN_BYTES)
    expires = now + dt.timedelta(minutes=policy.session_lifetime_minutes)
    store.execute("DELETE FROM sessions WHERE expires_at < ?", (_iso(now),))
    store.execute(
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (digest(token), user_id, csrf_token, _iso(now), _iso(expires)),
    )
    return token, csrf_token


def close_session(store: SqlStore, token: str) -> None:
    store.execute("DELETE FROM sessions WHERE token_hash = ?", (digest(token),))


def session_principal(store: SqlStore, token: str, now: dt.datetime) -> Principal | None:
    row = store.query_one(
        "SELECT user_id, csrf_token, expires_at FROM sessions WHERE token_hash = ?",
        (digest(token),),
    )
    if row is None or dt.datetime.fromisoformat(row[2]) <= now:
        return None
    return principal_of(store, row[0], "session", row[1])


def create_api_key(store: SqlStore, user_id: str, label: str, now: dt.datetime) -> tuple[str, str]:
    """A new key: (key id, the whole key to show once: cbx_<key id>_<secret>)."""
    check_free_text("label", label)
    count = store.query_one(
        "SELECT COUNT(*) FROM api_keys WHERE user_id = ? AND revoked_at IS NULL", (user_id,)
    )
    if count and count[0] >= API_KEYS_PER_USER_MAX:
        raise IdentityError("E_API_KEYS_TOO_MANY", f"at most {API_KEYS_PER_USER_MAX} live keys")
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(TOKEN_BYTES)
    store.execute(
        "INSERT INTO api_keys (key_id, user_id, secret_hash, label, created_at, revoked_at) "
        "VALUES (?, ?, ?, ?, ?, NULL)",
        (key_id, user_id, digest(secret), label[:200], _iso(now)),
    )
    return key_id, f"{API_KEY_PREFIX}_{key_id}_{secret}"


def revoke_api_key(store: SqlStore, user_id: str, key_id: str, now: dt.datetime) -> bool:
    row = store.query_one(
        "SELECT 1 FROM api_keys WHERE key_id = ? AND user_id = ? AND revoked_at IS NULL",
        (key_id, user_id),
    )
    if row is None:
        return False
    store.execute("UPDATE api_keys SET revoked_at = ? WHERE key_id = ?", (_iso(now), key_id))
    return True


def api_key_principal(store: SqlStore, key: str) -> Principal | None:
    prefix, _, rest = key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != API_KEY_PREFIX or not key_id or not secret:
        return None
    row = store.query_one(
        "SELECT user_id, secret_hash FROM api_keys WHERE key_id = ? AND revoked_at IS NULL",
        (key_id,),
    )
    if row is None or not hmac.compare_digest(row[1], digest(secret)):
        return None
    return principal_of(store, row[0], "api_key", api_key_id=key_id)
