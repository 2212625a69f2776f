"""The crash test: a writer killed with SIGKILL at random moments loses no acknowledged command,
never leaves a batch half applied, and always leaves a ledger that verifies."""

from __future__ import annotations

import pytest

from carbonex.bench import SUITES
from tests.conftest import POSTGRES_URL

ITERATIONS = 5


def _assert_survived(results: dict[str, object]) -> None:
    assert results["iterations"] == ITERATIONS
    assert results["lost_commands"] == 0, results["first_problem"]
    assert results["partial_batches"] == 0, results["first_problem"]
    assert results["verify_failures"] == 0, results["first_problem"]
    assert results["writer_failures"] == 0, results["first_problem"]


def test_sqlite_writer_killed_at_random_loses_nothing_acknowledged() -> None:
    _assert_survived(SUITES["crash"](iterations=ITERATIONS))


def test_postgres_writer_killed_at_random_loses_nothing_acknowledged(
    postgres_available: bool,
) -> None:
    if not postgres_available:
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL} (CI requires it)")
    _assert_survived(SUITES["crash"](iterations=ITERATIONS, postgres_url=POSTGRES_URL))
