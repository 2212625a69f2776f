"""Group commits longer than one flush: the cache hands accepted entries to the store every
`PENDING_ENTRIES_FLUSH` commands inside the same transaction (PostgreSQL applies them while the
next commands are decided). A call stays one unit: ids repeated across a flush are still
recognised, and a refused batch leaves nothing of what was already flushed."""

from __future__ import annotations

from carbonex.ledger import Accepted, Command, Ledger, Selection, Transaction, Transfer
from carbonex.ledger.failures import Code
from carbonex.ledger.limits import PENDING_ENTRIES_FLUSH
from tests.ledger.support import (
    accept,
    assert_unchanged,
    codes_of,
    held,
    issue,
    open_accounts,
)

MORE_THAN_A_FLUSH = PENDING_ENTRIES_FLUSH + PENDING_ENTRIES_FLUSH // 2


def one_unit_transfers(count: int, prefix: str = "t") -> list[Command]:
    return [Transfer(f"{prefix}-{n}", "A", "B", Selection("VCU", quantity=1)) for n in range(count)]


def funded(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 10 * MORE_THAN_A_FLUSH)


def test_a_group_commit_longer_than_a_flush_is_accepted_whole(ledger: Ledger) -> None:
    funded(ledger)
    outcomes = ledger.submit_many(one_unit_transfers(MORE_THAN_A_FLUSH))
    assert all(outcome.accepted for outcome in outcomes)
    assert held(ledger, "B") == MORE_THAN_A_FLUSH
    assert ledger.verify().ok


def test_an_id_repeated_after_a_flush_in_one_call_applies_once(ledger: Ledger) -> None:
    funded(ledger)
    transfers = one_unit_transfers(MORE_THAN_A_FLUSH)
    outcomes = ledger.submit_many([*transfers, transfers[0]])
    first, again = outcomes[0], outcomes[-1]
    assert isinstance(first, Accepted) and isinstance(again, Accepted)
    assert again.duplicate and (again.seq, again.entry_hash) == (first.seq, first.entry_hash)
    assert held(ledger, "B") == MORE_THAN_A_FLUSH
    assert ledger.verify().ok


def test_a_long_call_keeps_in_memory_only_the_rows_not_yet_written(ledger: Ledger) -> None:
    """An import is one call of any length: its written rows are found again in the store."""
    funded(ledger)

    def work(tx: Transaction) -> tuple[tuple[int, int], bool]:
        outcome = tx.submit_batch(one_unit_transfers(MORE_THAN_A_FLUSH))
        assert isinstance(outcome, list)
        state = ledger.state
        return (len(state.pending_commands), len(state.written_command_ids)), True

    queued, written = ledger.transact(work)
    assert queued < PENDING_ENTRIES_FLUSH and queued + written == MORE_THAN_A_FLUSH


def test_a_long_call_projects_as_it_goes_within_the_lag(database_url: str) -> None:
    """What waits to be projected is kept in memory: the lag holds inside one transaction."""
    lag = 2 * PENDING_ENTRIES_FLUSH
    commands = 4 * lag + PENDING_ENTRIES_FLUSH // 2
    with Ledger.open(database_url, projection_lag_entries=lag) as ledger:
        funded(ledger)

        def work(tx: Transaction) -> tuple[tuple[int, int], bool]:
            assert isinstance(tx.submit_batch(one_unit_transfers(commands)), list)
            behind = ledger.state.seq - ledger.store.load_head().projected_seq
            return (behind, len(ledger.state.unprojected)), True

        behind, unprojected = ledger.transact(work)
        assert behind == unprojected < lag + PENDING_ENTRIES_FLUSH
        assert held(ledger, "B") == commands
        assert ledger.verify().ok


def test_an_id_reused_with_other_content_after_a_flush_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    transfers = one_unit_transfers(MORE_THAN_A_FLUSH)
    reused = Transfer("t-0", "A", "B", Selection("VCU", quantity=2))
    outcomes = ledger.submit_many([*transfers, reused])
    assert codes_of(outcomes[-1]) == [Code.E_COMMAND_ID_REUSED]
    assert held(ledger, "B") == MORE_THAN_A_FLUSH


def test_a_batch_refused_after_a_flush_changes_nothing(ledger: Ledger) -> None:
    funded(ledger)
    accept(ledger, Transfer("before", "A", "B", Selection("VCU", quantity=1)))
    too_much = Transfer("too-much", "A", "B", Selection("VCU", quantity=100 * MORE_THAN_A_FLUSH))
    batch = [*one_unit_transfers(MORE_THAN_A_FLUSH), too_much]
    refused = assert_unchanged(
        ledger,
        lambda: ledger.submit_batch(batch),
        Code.E_BATCH_COMMAND_REFUSED,
        Code.E_UNITS_NOT_HELD,
        exact=False,
    )
    assert refused.failures
    assert held(ledger, "B") == 1
    assert ledger.submit_many(one_unit_transfers(3, "after"))[0].accepted


def test_an_earlier_id_inside_the_first_flush_answers_with_its_first_result(
    ledger: Ledger,
) -> None:
    """Without a journal lookup per command, the earlier id fails the journal's unique index
    in the first flush, an error PostgreSQL reports only later in the pipeline: the call is
    redone with lookups and still answers every command."""
    funded(ledger)
    earlier = Transfer("earlier", "A", "B", Selection("VCU", quantity=1))
    first = accept(ledger, earlier)
    transfers = one_unit_transfers(MORE_THAN_A_FLUSH)
    middle = PENDING_ENTRIES_FLUSH // 2
    outcomes = ledger.submit_many([*transfers[:middle], earlier, *transfers[middle:]])
    again = outcomes[middle]
    assert isinstance(again, Accepted) and again.duplicate and again.seq == first.seq
    assert all(outcome.accepted for outcome in outcomes)
    assert held(ledger, "B") == MORE_THAN_A_FLUSH + 1
    assert ledger.verify().ok
