"""The ledger suite's PostgreSQL phases: group commit on one writer, then several client processes
submitting single commands at once. Each runs on a fresh schema, dropped afterwards."""

from __future__ import annotations

from collections.abc import Sequence

from carbonex.bench.common import progress_bar, rate_per_s
from carbonex.bench.pg_clients import ClientResults, ClientRun, run_clients
from carbonex.bench.phases import (
    PHASE_SECONDS_MAX,
    Fields,
    tally_fields,
    transfers_phase,
    verified,
)
from carbonex.bench.postgres import fresh_schema
from carbonex.bench.workload import TransferSpec, setup_commands, submit_all_accepted
from carbonex.ledger import Ledger

PG_CLIENTS = 4
TARGET_FIELDS = ("pg_ops_per_s_batched", "pg_ops_per_s_single_4_clients", "pg_failed_commands")


def postgres_phases(
    server_url: str,
    accounts: int,
    specs: Sequence[TransferSpec],
    per_commit: int,
    client_seconds: float,
) -> Fields:
    with fresh_schema(server_url) as url:
        batched, tally = transfers_phase(url, accounts, specs, "pg_batched", per_commit)
    with fresh_schema(server_url) as url:
        clients, client_results = _clients_phase(url, accounts, client_seconds)
    client_tally = client_results.tally
    return (
        batched
        | clients
        | {
            "pg_ops_per_s_batched": rate_per_s(tally.accepted, tally.seconds),
            "pg_ops_per_s_single_4_clients": rate_per_s(
                client_tally.accepted, client_tally.seconds
            ),
            "pg_failed_commands": tally.failed + client_tally.failed,
            "pg_client_peak_rss_mb": client_results.peak_rss_mb,
        }
    )


def _clients_phase(url: str, accounts: int, seconds: float) -> tuple[Fields, ClientResults]:
    with Ledger.open(url) as ledger:
        submit_all_accepted(ledger, setup_commands(accounts))
    seconds = min(seconds, PHASE_SECONDS_MAX)
    with progress_bar(f"{PG_CLIENTS} PostgreSQL client processes, {seconds:.0f} s", None):
        results = run_clients(ClientRun(url, PG_CLIENTS, accounts, seconds))
    with Ledger.open(url) as ledger:
        fields = tally_fields("pg_single_4_clients", results.tally) | verified(
            ledger, "pg_single_4_clients"
        )
    return fields, results


def postgres_skipped(reason: str) -> Fields:
    return dict.fromkeys(TARGET_FIELDS) | {"pg_skipped": reason}
