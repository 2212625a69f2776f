"""Large ledgers verify with a second process replaying the journal; the verdict is the same."""

from __future__ import annotations

import pytest

from carbonex.ledger import Ledger
from carbonex.ledger import verify as verify_module
from tests.ledger.support import execute_raw, invariants_of
from tests.ledger.test_verify import realistic, rewrite_last_entry


@pytest.fixture
def always_parallel(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify_module, "PARALLEL_VERIFY_BLOCKS_MIN", 0)


@pytest.mark.usefixtures("always_parallel")
def test_the_worker_passes_an_untouched_ledger(ledger: Ledger) -> None:
    realistic(ledger)
    report = ledger.verify()
    assert report.ok, report.problems
    assert report.blocks > 0


@pytest.mark.usefixtures("always_parallel")
def test_the_worker_digest_catches_a_block_moved_by_hand_and_names_it(ledger: Ledger) -> None:
    realistic(ledger)
    row = ledger.store.query_one("SELECT block_id FROM blocks ORDER BY block_id LIMIT 1")
    assert row is not None
    execute_raw(ledger, "UPDATE blocks SET account_id = 'THIEF' WHERE block_id = ?", (row[0],))
    report = ledger.verify()
    assert {"replay", "references"} <= invariants_of(ledger)
    assert any(f"block {row[0]} " in problem.message for problem in report.problems)


@pytest.mark.usefixtures("always_parallel")
def test_the_worker_digest_catches_a_history_rewritten_by_hand(ledger: Ledger) -> None:
    realistic(ledger)
    execute_raw(
        ledger, "UPDATE account_history SET account_id = 'ELSEWHERE' WHERE account_id = 'C'"
    )
    assert "replay" in invariants_of(ledger)


@pytest.mark.usefixtures("always_parallel")
def test_the_worker_reports_what_the_replay_finds(ledger: Ledger) -> None:
    """The replay runs in the worker: its problems must reach the report."""
    realistic(ledger)
    rewrite_last_entry(ledger, lambda payload: b"{" + payload)
    report = ledger.verify()
    assert any("payload is not a valid journal entry" in p.message for p in report.problems)


@pytest.mark.usefixtures("always_parallel")
def test_a_worker_that_saw_another_head_is_not_believed(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer committed between the two read transactions: the replay is redone here."""
    realistic(ledger)
    stale = verify_module.ReplaySummary(
        head_seq=1,
        issuances=0,
        block_id_made_max=0,
        issuance_id_max=0,
        block_digest="stale",
        account_history_digest="stale",
        serial_history_digest="stale",
        problems=[],
    )
    monkeypatch.setattr(verify_module.ReplayWorker, "result", lambda self: stale)
    report = ledger.verify()
    assert report.ok, report.problems
    assert report.issuances == 4
