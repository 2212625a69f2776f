"""`carbonex bench SUITE`: dispatch to `carbonex.bench.SUITES` (replaced here by a fake)."""

from __future__ import annotations

import json
import sys
import types
from typing import Any

import pytest

from tests.cli.helpers import EXIT_USAGE, invoke

calls: list[dict[str, Any]] = []


def fake_ledger_suite(
    *, scale: float = 1.0, iterations: int | None = None, postgres_url: str | None = None
) -> dict[str, Any]:
    calls.append({"scale": scale, "iterations": iterations, "postgres_url": postgres_url})
    return {"suite": "ledger", "scale": scale, "sqlite": {"commands_per_second": 1234.5}}


def fake_crash_suite(*, scale: float = 1.0) -> dict[str, Any]:
    return {"suite": "crash", "scale": scale}


@pytest.fixture
def fake_bench(monkeypatch: pytest.MonkeyPatch) -> None:
    module = types.ModuleType("carbonex.bench")
    module.SUITES = {"ledger": fake_ledger_suite, "crash": fake_crash_suite}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "carbonex.bench", module)
    calls.clear()


@pytest.mark.usefixtures("fake_bench")
def test_bench_with_json_prints_the_suites_results_as_one_object() -> None:
    result = invoke(
        "bench",
        "ledger",
        "--json",
        "--scale",
        "0.5",
        "--iterations",
        "3",
        "--postgres-url",
        "postgresql://x/y",
    )
    assert result.exit_code == 0
    assert json.loads(result.stdout)["sqlite"] == {"commands_per_second": 1234.5}
    assert calls == [{"scale": 0.5, "iterations": 3, "postgres_url": "postgresql://x/y"}]


@pytest.mark.usefixtures("fake_bench")
def test_bench_without_json_prints_a_table_of_the_same_fields() -> None:
    result = invoke("bench", "ledger")
    assert result.exit_code == 0
    assert "sqlite.commands_per_second" in result.stdout
    assert calls == [{"scale": 1.0, "iterations": None, "postgres_url": None}]


@pytest.mark.usefixtures("fake_bench")
def test_bench_of_an_unknown_suite_exits_two_naming_the_known_ones() -> None:
    result = invoke("bench", "nonsense")
    assert result.exit_code == EXIT_USAGE
    assert "crash, ledger" in result.stderr


@pytest.mark.usefixtures("fake_bench")
def test_bench_option_a_suite_does_not_take_exits_two() -> None:
    result = invoke("bench", "crash", "--iterations", "2")
    assert result.exit_code == EXIT_USAGE
    assert "--iterations" in result.stderr


def test_bench_without_the_bench_package_exits_two(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "carbonex.bench", None)
    result = invoke("bench", "ledger", "--json")
    assert result.exit_code == EXIT_USAGE
    assert "benchmarks are not installed" in result.stderr
