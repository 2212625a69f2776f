"""The API suite at a tiny scale: a real server and load process, every transfer accepted and in
the journal, the ledger verified. Correctness only: its speed is measured, never asserted."""

from __future__ import annotations

from carbonex.bench import SUITES
from carbonex.bench.api_load import percentile_ms

FIELDS = (
    "api_transfers_per_s",
    "api_latency_ms_p50",
    "api_latency_ms_p99",
    "api_requests",
    "api_errors",
    "api_workers",
    "api_clients",
    "api_ledger_verified",
    "peak_rss_mb",
    "machine",
)


def test_the_api_suite_accepts_every_transfer_and_leaves_a_verified_ledger() -> None:
    results = SUITES["api"](scale=0.1, clients=2)
    assert set(FIELDS) <= set(results)
    assert results["api_errors"] == 0, results["api_error_statuses"]
    assert results["api_requests"] > 0 and results["api_requests"] == results["api_accepted"]
    assert results["api_ledger_verified"]
    assert results["api_workers"] == 2 and results["api_clients"] == 2


def test_percentiles_are_nearest_rank_in_milliseconds() -> None:
    latencies_s = [n / 1000 for n in range(1, 101)]
    assert percentile_ms(latencies_s, 0.5) == 50.0
    assert percentile_ms(latencies_s, 0.99) == 99.0
    assert percentile_ms(latencies_s, 1.0) == 100.0
    assert percentile_ms([], 0.5) is None
