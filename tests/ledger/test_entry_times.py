"""Entry times: an entry is never recorded before the one ahead of it in the journal, whatever a
writer's clock says, so that no retirement or surrender can be dated into a past the journal has
already left (deciding a command again happens at its recorded time)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from carbonex.ledger import Issue, Ledger, Selection, Transfer
from carbonex.ledger.journal_export import check_export, export_lines
from tests.conftest import FixedClock
from tests.ledger.support import VCU, accept, execute_raw, open_accounts
from tests.ledger.test_redecide import rewrite_entry

MARCH = dt.datetime(2026, 3, 2, 11, 0, tzinfo=dt.UTC)
JANUARY = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)


def recorded_times(ledger: Ledger) -> list[str]:
    return [str(row[0]) for row in ledger.store.query("SELECT recorded_at FROM journal")]


def test_a_clock_set_back_records_the_entry_at_the_time_of_the_one_before(
    ledger: Ledger, clock: FixedClock
) -> None:
    clock.now = MARCH
    open_accounts(ledger, "A", "B")
    accept(ledger, Issue("issue", "A", 100, VCU))
    clock.now = JANUARY
    accepted = accept(ledger, Transfer("back", "A", "B", Selection("VCU", quantity=10)))
    times = recorded_times(ledger)
    assert times == sorted(times) and times[-1] == MARCH.isoformat()
    assert accepted.seq == len(times)
    clock.now = MARCH + dt.timedelta(days=1)
    accept(ledger, Transfer("forward", "A", "B", Selection("VCU", quantity=10)))
    assert recorded_times(ledger)[-1] == clock.now.isoformat()
    assert ledger.verify().ok


def test_a_writer_whose_clock_is_behind_another_writers_entries_records_after_them(
    database_url: str,
) -> None:
    ahead, behind = FixedClock(MARCH), FixedClock(JANUARY)
    with Ledger.open(database_url, clock=ahead) as first:
        open_accounts(first, "A", "B")
        accept(first, Issue("issue", "A", 100, VCU))
        with Ledger.open(database_url, clock=behind) as second:
            # The second ledger loads the head, then catches up with the first one's entry.
            accept(second, Transfer("late-1", "A", "B", Selection("VCU", quantity=10)))
            accept(first, Transfer("ahead", "A", "B", Selection("VCU", quantity=10)))
            ahead.now = MARCH + dt.timedelta(hours=1)
            accept(first, Transfer("later", "A", "B", Selection("VCU", quantity=10)))
            accept(second, Transfer("late-2", "A", "B", Selection("VCU", quantity=10)))
        times = recorded_times(first)
        assert times == sorted(times)
        assert times[-1] == ahead.now.isoformat()
        assert first.verify().ok


def test_an_entry_dated_before_the_one_ahead_of_it_is_named_by_verify_and_the_export_check(
    ledger: Ledger, clock: FixedClock
) -> None:
    # A forger backdates the last entry (a retirement before a deadline, say) and recomputes
    # every hash: the chain is whole, the replay equal, but the times run backwards.
    clock.now = MARCH
    open_accounts(ledger, "A", "B")
    accept(ledger, Issue("issue", "A", 100, VCU))
    accept(ledger, Transfer("last", "A", "B", Selection("VCU", quantity=10)))
    last_seq = len(recorded_times(ledger))
    backdated = JANUARY.isoformat()

    def backdate(record: dict[str, Any]) -> None:
        record["recorded_at"] = backdated

    rewrite_entry(ledger, last_seq, backdate)
    execute_raw(ledger, "UPDATE journal SET recorded_at = ? WHERE seq = ?", (backdated, last_seq))
    report = ledger.verify()
    assert [p.invariant for p in report.problems] == ["journal"]
    assert f"entry {last_seq} was recorded at {backdated}, before entry {last_seq - 1}" in (
        report.problems[0].message
    )
    checked = check_export(ledger.read(lambda store: list(export_lines(store)), False))
    assert any(f"entry {last_seq} was recorded at" in problem for problem in checked.problems)
