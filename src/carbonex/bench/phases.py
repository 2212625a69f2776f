"""Pieces the ledger suite's phases share: timed transfers on a fresh ledger, verification with a
progress bar, the hash-chain check, and results as flat fields."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from carbonex.bench.common import Deadline, progress_bar, rate_per_s
from carbonex.bench.tally import Tally, submit_counted
from carbonex.bench.workload import (
    TransferSpec,
    setup_commands,
    submit_all_accepted,
    transfer_commands,
)
from carbonex.ledger import Ledger, VerifyReport, redecide_ledger
from carbonex.ledger.journal import verify_chain

Fields = dict[str, Any]
PHASE_SECONDS_MAX = 600.0
"""Wall-clock cap of each phase: a phase stops early, and says so, rather than run on."""
BYTES_PER_MB = 1_000_000


def tally_fields(prefix: str, tally: Tally) -> Fields:
    return {
        f"{prefix}_commands": tally.commands,
        f"{prefix}_accepted": tally.accepted,
        f"{prefix}_business_refusals": tally.business_refused,
        f"{prefix}_failed_commands": tally.failed,
        f"{prefix}_seconds": round(tally.seconds, 3),
        f"{prefix}_first_failure": tally.first_failure,
    }


def timed_verify(ledger: Ledger, label: str) -> tuple[VerifyReport, float]:
    """`Ledger.verify()` with a progress bar over the journal; the report and its seconds."""
    with progress_bar(f"{label}: verify", None) as bar:
        started = time.perf_counter()
        report = ledger.verify(bar.update)
        return report, time.perf_counter() - started


def verified(ledger: Ledger, prefix: str) -> Fields:
    report, seconds = timed_verify(ledger, prefix)
    fields: Fields = {
        f"{prefix}_verified": report.ok,
        f"{prefix}_verify_seconds": round(seconds, 3),
    }
    if not report.ok:
        fields[f"{prefix}_verify_problem"] = report.problems[0].message
    return fields


def transfers_phase(
    url: str, accounts: int, specs: Sequence[TransferSpec], prefix: str, per_commit: int
) -> tuple[Fields, Tally]:
    """Set up the accounts on a fresh ledger at `url`, time the transfers, then verify."""
    with Ledger.open(url) as ledger:
        submit_all_accepted(ledger, setup_commands(accounts))
        commands = transfer_commands(specs, prefix)
        with progress_bar(f"{prefix}: transfers", len(commands)) as bar:
            tally = submit_counted(ledger, commands, per_commit, Deadline(PHASE_SECONDS_MAX), bar)
        fields = tally_fields(prefix, tally) | verified(ledger, prefix)
    return fields, tally


@dataclass(frozen=True, slots=True)
class ChainCheck:
    entries: int
    payload_bytes: int
    seconds: float
    problem: str | None

    def fields(self, prefix: str) -> Fields:
        return {
            f"{prefix}_entries": self.entries,
            f"{prefix}_seconds": round(self.seconds, 3),
            f"{prefix}_entries_per_s": rate_per_s(self.entries, self.seconds),
            f"{prefix}_payload_mb_per_s": round(self.payload_bytes / BYTES_PER_MB / self.seconds, 1)
            if self.seconds
            else 0.0,
            f"{prefix}_ok": self.problem is None,
        }


def chain_check(ledger: Ledger) -> ChainCheck:
    """Time `verify_chain` over every journal row, streamed from the store."""
    row = ledger.store.query_one("SELECT SUM(LENGTH(payload)) FROM journal")
    payload_bytes = int(row[0]) if row and row[0] is not None else 0
    started = time.perf_counter()
    entries, problem = verify_chain(
        ledger.store.stream(
            "SELECT seq, payload, previous_hash, entry_hash FROM journal ORDER BY seq"
        )
    )
    return ChainCheck(entries, payload_bytes, time.perf_counter() - started, problem)


def redecided(ledger: Ledger, prefix: str) -> Fields:
    """Time `redecide_ledger`: every command of the journal decided again on a scratch ledger."""
    with progress_bar(f"{prefix}: decide every command again", None) as bar:
        started = time.perf_counter()
        report = redecide_ledger(ledger, bar.update)
        seconds = time.perf_counter() - started
    return {
        f"{prefix}_entries": report.entries,
        f"{prefix}_seconds": round(seconds, 3),
        f"{prefix}_entries_per_s": rate_per_s(report.entries, seconds),
        f"{prefix}_ok": report.ok,
    }
