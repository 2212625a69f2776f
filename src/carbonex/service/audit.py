"""The audit log: every accepted write, with its actor, in the same transaction as the write."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from carbonex.service.identity import Principal
from carbonex.store import SqlStore

AUDIT_PAGE_SIZE_MAX = 1_000
AUDIT_COLUMNS = ("audit_seq", "at", "actor", "via", "action", "target", "detail")


def record(
    store: SqlStore,
    now: dt.datetime,
    principal: Principal,
    action: str,
    target: str,
    detail: dict[str, Any],
) -> None:
    head = store.query_one("SELECT MAX(audit_seq) FROM audit_log")
    audit_seq = int(head[0]) + 1 if head and head[0] is not None else 1
    store.execute(
        "INSERT INTO audit_log (audit_seq, at, actor, via, action, target, detail) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            audit_seq,
            now.isoformat(),
            principal.user_id,
            principal.via,
            action,
            target[:500],
            orjson.dumps(detail, option=orjson.OPT_SORT_KEYS),
        ),
    )


def entries(store: SqlStore, limit: int, after_seq: int) -> list[dict[str, Any]]:
    rows = store.query(
        f"SELECT {', '.join(AUDIT_COLUMNS)} FROM audit_log WHERE audit_seq > ? "
        "ORDER BY audit_seq LIMIT ?",
        (after_seq, max(1, min(limit, AUDIT_PAGE_SIZE_MAX))),
    )
    result = []
    for row in rows:
        entry = dict(zip(AUDIT_COLUMNS, row, strict=True))
        entry["detail"] = orjson.loads(bytes(entry["detail"]))
        result.append(entry)
    return result
