"""Benchmark suites: `SUITES[name](scale=..., iterations=..., postgres_url=...)` returns one flat
dict of results (the CLI prints it as one JSON object; progress goes to stderr)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from carbonex.bench.api import run_api
from carbonex.bench.crash import run_crash
from carbonex.bench.ledger import run_ledger
from carbonex.bench.projects import run_import, run_issuance
from carbonex.bench.writer_crash import run_writer_crash

Suite = Callable[..., dict[str, Any]]

SUITES: dict[str, Suite] = {
    "ledger": run_ledger,
    "crash": run_crash,
    "import": run_import,
    "issuance": run_issuance,
    "api": run_api,
    "writer-crash": run_writer_crash,
}

__all__ = [
    "SUITES",
    "Suite",
    "run_api",
    "run_crash",
    "run_import",
    "run_issuance",
    "run_ledger",
    "run_writer_crash",
]
