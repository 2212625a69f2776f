"""The ledger suite's PostgreSQL phases: group commit on one writer, then several client processes
submitting single commands at once. Each runs on a fresh schema, dropped afterwards."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence

from carbonex.bench.common import progress_bar, rate_per_s
from carbonex.bench.pg_clients import ClientResults, ClientRun, run_clients, writer_process
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
        direct, direct_results = _clients_phase(url, accounts, client_seconds, through_writer=False)
    with fresh_schema(server_url) as url:
        clients, client_results = _clients_phase(url, accounts, client_seconds, through_writer=True)
    client_tally = client_results.tally
    direct_tally = direct_results.tally
    return (
        batched
        | direct
        | clients
        | {
            "pg_ops_per_s_batched": rate_per_s(tally.accepted, tally.seconds),
            "pg_ops_per_s_single_4_clients": rate_per_s(
                client_tally.accepted, client_tally.seconds
            ),
            "pg_ops_per_s_single_4_clients_direct": rate_per_s(
                direct_tally.accepted, direct_tally.seconds
            ),
            "pg_failed_commands": tally.failed + client_tally.failed + direct_tally.failed,
            "pg_client_peak_rss_mb": client_results.peak_rss_mb,
        }
    )


def _clients_phase(
    url: str, accounts: int, seconds: float, through_writer: bool
) -> tuple[Fields, ClientResults]:
    """Client processes submitting single commands: each committing its own (direct), or all
    through one writer process (`carbonex writer`) that group-commits them."""
    with Ledger.open(url) as ledger:
        submit_all_accepted(ledger, setup_commands(accounts))
    seconds = min(seconds, PHASE_SECONDS_MAX)
    how = "through a writer process" if through_writer else "each committing its own"
    prefix = "pg_single_4_clients" if through_writer else "pg_single_4_clients_direct"
    with (
        progress_bar(f"{PG_CLIENTS} PostgreSQL clients {how}, {seconds:.0f} s", None),
        tempfile.TemporaryDirectory(prefix="carbonex-writer-") as directory,
    ):
        if through_writer:
            socket_path = os.path.join(directory, "writer.sock")
            with writer_process(url, socket_path):
                results = run_clients(ClientRun(url, PG_CLIENTS, accounts, seconds, socket_path))
        else:
            results = run_clients(ClientRun(url, PG_CLIENTS, accounts, seconds))
    with Ledger.open(url) as ledger:
        fields = tally_fields(prefix, results.tally) | verified(ledger, prefix)
    return fields, results


def postgres_skipped(reason: str) -> Fields:
    return dict.fromkeys(TARGET_FIELDS) | {"pg_skipped": reason}
