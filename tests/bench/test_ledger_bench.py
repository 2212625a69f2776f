"""The ledger benchmark at a tiny scale: every reported figure is there and numeric, and every
ledger it wrote verifies. Wall-clock figures are never asserted."""

from __future__ import annotations

from typing import Any

import pytest

from carbonex.bench import SUITES
from tests.conftest import POSTGRES_URL

TINY_SCALE = 0.001
POSTGRES_FIELDS = (
    "pg_ops_per_s_batched",
    "pg_ops_per_s_single_4_clients",
    "pg_ops_per_s_single_4_clients_direct",
    "pg_failed_commands",
    "pg_batched_verified",
    "pg_single_4_clients_verified",
    "pg_single_4_clients_direct_verified",
)
REQUIRED_NUMERIC = (
    "sqlite_ops_per_s_batched",
    "sqlite_ops_per_s_single",
    "sqlite_raw_sql_ops_per_s",
    "sqlite_ratio_to_raw_sql",
    "pg_ops_per_s_batched",
    "pg_ops_per_s_single_4_clients",
    "pg_failed_commands",
    "verify_seconds_1m_blocks",
    "verify_seconds_1m_blocks_repeated",
    "chain_verify_entries_per_s",
    "redecide_entries_per_s",
    "peak_rss_mb",
    "memory_10e9_issuance_blocks",
    "memory_10e9_after_half_moved_blocks",
    "commands",
    "single_commands",
    "accounts",
    "blocks",
    "journal_entries",
    "machine_cpu_count",
    "machine_python_reference_ms",
)
VERIFIED_FLAGS = (
    "sqlite_batched_verified",
    "sqlite_single_verified",
    "pg_batched_verified",
    "pg_single_4_clients_verified",
    "pg_single_4_clients_direct_verified",
    "memory_10e9_verified",
    "blocks_verified",
    "chain_verify_ok",
    "chain_verify_large_entries_ok",
    "redecide_ok",
    "memory_10e9_ok",
    "all_verified",
)


@pytest.fixture(scope="module")
def results(postgres_available: bool) -> dict[str, Any]:
    """One tiny run for the module; without a server the PostgreSQL phases are skipped."""
    postgres_url = POSTGRES_URL if postgres_available else None
    return SUITES["ledger"](scale=TINY_SCALE, postgres_url=postgres_url)


def _expected(results: dict[str, Any], names: tuple[str, ...]) -> list[str]:
    """The names a run must report: PostgreSQL's only when it ran."""
    if "pg_skipped" not in results:
        return list(names)
    return [name for name in names if name not in POSTGRES_FIELDS]


def test_every_required_figure_is_reported_as_a_number(results: dict[str, Any]) -> None:
    for name in _expected(results, REQUIRED_NUMERIC):
        value = results[name]
        assert isinstance(value, int | float) and not isinstance(value, bool), (name, value)
    assert isinstance(results["machine"], str) and results["machine"]
    assert isinstance(results["machine_cpu_model"], str) and results["machine_cpu_model"]
    assert results["machine_python_reference_ms"] > 0


def test_every_ledger_the_benchmark_wrote_verifies(results: dict[str, Any]) -> None:
    for name in _expected(results, VERIFIED_FLAGS):
        assert results[name] is True, (name, results)


def test_no_command_failed_and_the_huge_issuance_stays_two_blocks(
    results: dict[str, Any],
) -> None:
    if "pg_skipped" not in results:
        assert results["pg_failed_commands"] == 0, results["pg_batched_first_failure"]
    assert results["sqlite_batched_failed_commands"] == 0
    assert results["sqlite_single_failed_commands"] == 0
    assert results["memory_10e9_issuance_blocks"] == 1
    assert results["memory_10e9_after_half_moved_blocks"] == 2


def test_every_command_of_the_batched_journal_was_decided_again(results: dict[str, Any]) -> None:
    assert results["redecide_entries"] == results["chain_verify_entries"] > 0


def test_the_blocks_phase_reached_its_target(results: dict[str, Any]) -> None:
    assert results["blocks"] >= 1_000
    assert results["chain_verify_large_entries_entries"] == results["journal_entries"]


def test_both_ways_of_four_clients_accepted_commands(results: dict[str, Any]) -> None:
    """Through the writer process and each client on its own: neither phase sat idle."""
    if "pg_skipped" in results:
        pytest.skip("PostgreSQL unreachable (CI requires it)")
    assert results["pg_single_4_clients_accepted"] > 0
    assert results["pg_single_4_clients_direct_accepted"] > 0
