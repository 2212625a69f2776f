"""Helpers of the API tests: the database's every row, problem+json answers, demo roles."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
from fastapi.testclient import TestClient

from carbonex.ledger import Issue, Ledger, Transaction
from carbonex.service import approvals, identity
from carbonex.service.identity import Principal, Role
from carbonex.service.problems import MEDIA_TYPE
from carbonex.service.routes.imports import FILE_NAME_LENGTH_MAX
from tests.databases import Rows, every_table
from tests.ledger.support import VCU

API = "/api/v1"

# The demo's users by what they are (src/carbonex/service/demo.py).
ADMINS = ("admin", "admin2")
HOLDERS = ("merlion", "merlion2", "skyways", "amelia", "rhein")
OTHER_ROLES = ("vera", "stan", "stan2", "audrey", "nadia")
EVERYONE = ADMINS + HOLDERS + OTHER_ROLES
READERS_OF_EVERYTHING = ("admin", "admin2", "audrey", "nadia")

# Tables that only sign-in touches (a session row; the failure counter and lockout of a user).
SIGN_IN_TABLES = frozenset({"sessions", "users"})

MULTIPART_BOUNDARY = "carbonex-test-boundary"
# Uploaded file names that name no real file, with the words their refusal gives: a control
# character (NUL, ESC, TAB, DEL, and NEL U+0085 in UTF-8), a bidirectional control (RIGHT-TO-LEFT
# OVERRIDE) or a Unicode format character that can disguise the name (ZERO WIDTH SPACE, BYTE
# ORDER MARK), or a length past FILE_NAME_LENGTH_MAX (by one character, and by 4,000: the
# multipart parser answers 400 to a part whose headers pass 4 KiB before any route sees the name).
REFUSED_FILE_NAMES = (
    *((name, "control character") for name in (b"a\x00b.csv", b"a\x1b[31mb.csv", b"a\tb.csv",
                                              b"a\x7fb.csv", "a\u0085b.csv".encode())),
    ("evil\u202efdp.exe".encode(), "bidirectional control (U+202E)"),
    ("a\u200bb.csv".encode(), "format character (U+200B)"),
    ("\ufeffa.csv".encode(), "format character (U+FEFF)"),
    (b"a" * (FILE_NAME_LENGTH_MAX - 3) + b".csv", f"at most {FILE_NAME_LENGTH_MAX}"),
    (b"a" * 4_000 + b".csv", f"at most {FILE_NAME_LENGTH_MAX}"),
)  # fmt: skip


def changed_tables(before: Rows, after: Rows) -> list[str]:
    names = sorted(before.keys() | after.keys())
    return [name for name in names if before.get(name) != after.get(name)]


@contextmanager
def nothing_changes(database: str, ignoring: frozenset[str] = frozenset()) -> Iterator[None]:
    """Asserts that the block commits nothing: every table has the same rows after it."""
    before = every_table(database, ignoring)
    yield
    changed = changed_tables(before, every_table(database, ignoring))
    assert not changed, f"tables changed: {changed}"


def problem(answer: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The answer is an RFC 9457 problem with this status and code; its body."""
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == MEDIA_TYPE
    body: dict[str, Any] = answer.json()
    assert body["code"] == code, body
    assert body["status"] == status
    assert body["title"] == code
    assert body["type"].endswith(f"/{code}")
    assert body["instance"] == answer.request.url.path
    assert isinstance(body["detail"], str) and isinstance(body["failures"], list)
    return body


def ok(answer: httpx.Response, status: int = 200) -> Any:
    assert answer.status_code == status, answer.text
    return answer.json() if answer.content else None


def key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


def holding(holdings: list[dict[str, Any]], project_id: str, state: str = "active") -> int:
    """Units of a project in a state, from GET /accounts/{id}/holdings."""
    return sum(
        entry["quantity"]
        for entry in holdings
        if entry["project_id"] == project_id and entry["state"] == state and not entry["on_hold"]
    )


def audit_log(database: str) -> list[tuple[str, str, str, str]]:
    """(actor, via, action, target) of every audit entry, in order."""
    with Ledger.open(database) as ledger:
        rows = ledger.store.query(
            "SELECT actor, via, action, target FROM audit_log ORDER BY audit_seq"
        )
    return [(str(a), str(v), str(c), str(t)) for a, v, c, t in rows]


def journal_entries(database: str, command_id: str) -> int:
    with Ledger.open(database) as ledger:
        row = ledger.store.query_one(
            "SELECT COUNT(*) FROM journal WHERE command_id = ?", (command_id,)
        )
    return int(row[0]) if row else 0


def queue_issuances(database: str, count: int, prefix: str = "a") -> None:
    """`count` pending direct issuances into VERRA-ISSUANCE requested by admin, with ids
    `{prefix}0000`, `{prefix}0001`…: written straight into the store (hundreds through the API
    would take seconds), as the API writes them. Only registry administrators see them."""
    admin = Principal("admin", frozenset({Role.REGISTRY_ADMINISTRATOR}), frozenset(), "api_key")

    def work(tx: Transaction) -> tuple[None, bool]:
        for number in range(count):
            command = Issue(f"{prefix}{number:04d}", "VERRA-ISSUANCE", 100, VCU)
            request = approvals.PendingRequest(
                command.command_id, approvals.LEDGER_COMMAND, command.to_record(),
                approvals.summary_of(command), command.account_id,
            )  # fmt: skip
            approvals.submit(tx.store, request, admin, tx.now)
        return None, True

    with Ledger.open(database) as ledger:
        ledger.transact(work)


def raw_multipart(file_name: bytes, content: bytes, **fields: str) -> tuple[bytes, str]:
    """A multipart/form-data body with `fields` and an upload named `file_name` byte for byte
    (httpx escapes control characters in file names; a client need not), and its content type."""
    separator = f"--{MULTIPART_BOUNDARY}\r\nContent-Disposition: form-data; ".encode()
    parts = [
        separator + f'name="{name}"\r\n\r\n{value}\r\n'.encode() for name, value in fields.items()
    ]
    parts.append(
        separator
        + b'name="file"; filename="'
        + file_name
        + b'"\r\nContent-Type: text/csv\r\n\r\n'
        + content
        + f"\r\n--{MULTIPART_BOUNDARY}--\r\n".encode()
    )
    return b"".join(parts), f"multipart/form-data; boundary={MULTIPART_BOUNDARY}"


def add_user(database: str, user_id: str, name: str, password: str, roles: frozenset[Role]) -> None:
    """A user added to the ledger's database as `carbonex user add` would."""

    def work(tx: Transaction) -> tuple[None, bool]:
        identity.add_user(tx.store, user_id, name, password, roles, tx.now)
        return None, True

    with Ledger.open(database) as ledger:
        ledger.transact(work)


def waiting_counts(client: TestClient) -> tuple[str, str]:
    """The dashboard's two approval counters: (waiting for your approval, your requests)."""
    page = client.get("/").text
    shown = [re.search(rf'data-testid="{name}".*?class="stat-value">([^<]*)<', page)
             for name in ("waiting-to-decide", "waiting-requested")]  # fmt: skip
    assert shown[0] and shown[1], page
    return shown[0].group(1), shown[1].group(1)
