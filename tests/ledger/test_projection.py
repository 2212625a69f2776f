"""The read models (blocks, history) are projected from the journal in bulk, behind the commits:
nobody may ever see the lag, whoever wrote the entries and however the writer stopped."""

from __future__ import annotations

import orjson
import pytest

from carbonex.ledger import Ledger, Selection, Transfer
from carbonex.ledger.journal import chain_hash
from tests.conftest import FixedClock
from tests.ledger.support import (
    accept,
    codes_of,
    held,
    issue,
    open_accounts,
    raw_table_rows,
)

READ_MODELS = ("blocks", "account_history", "serial_history")


def projected_seq(ledger: Ledger) -> int:
    return ledger.store.load_head().projected_seq


def head_seq(ledger: Ledger) -> int:
    return ledger.store.load_head().seq


def a_transfer(ledger: Ledger) -> None:
    """Accounts A and B, 100 units issued to A, 10 of them moved to B (entry "t-1")."""
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    move(ledger, "t-1", 10)


def move(ledger: Ledger, command_id: str, quantity: int, source: str = "A") -> None:
    target = "B" if source == "A" else "A"
    accept(ledger, Transfer(command_id, source, target, Selection("VCU", quantity=quantity)))


def test_commits_leave_the_read_models_behind_until_a_read(ledger: Ledger) -> None:
    a_transfer(ledger)
    assert projected_seq(ledger) < head_seq(ledger)
    assert held(ledger, "B") == 10  # the read projects first
    assert projected_seq(ledger) == head_seq(ledger)


def test_a_reader_sees_what_another_writer_has_not_projected(
    database_url: str, clock: FixedClock
) -> None:
    with (
        Ledger.open(database_url, clock=clock) as writer,
        Ledger.open(database_url, clock=clock) as reader,
    ):
        a_transfer(writer)
        assert held(reader, "B") == 10
        assert reader.statement("B")[-1]["command_id"] == "t-1"
        provenance = reader.provenance("VERRA/VCU", 5)
        assert provenance is not None
        assert [line["action"] for line in provenance["history"]] == ["issue", "transfer"]
        move(writer, "t-2", 5)  # the writer's cache learns that its entries were projected
        assert held(writer, "B") == 15
        assert writer.verify().ok


def test_entries_a_stopped_process_never_projected_are_projected_by_the_next(
    database_url: str, clock: FixedClock
) -> None:
    crashed = Ledger.open(database_url, clock=clock)
    open_accounts(crashed, "A", "B")
    issue(crashed, "A", 100)
    move(crashed, "t-1", 30)
    crashed.close(project=False)  # as if killed: its unprojected entries are only in the journal
    with Ledger.open(database_url, clock=clock) as survivor:
        assert projected_seq(survivor) < head_seq(survivor)
        assert held(survivor, "A") == 70
        assert survivor.verify().ok
        move(survivor, "t-2", 10, source="B")
        assert held(survivor, "A") == 80


def test_the_lag_bound_projects_at_the_commit_that_reaches_it(
    database_url: str, clock: FixedClock
) -> None:
    with Ledger.open(database_url, clock=clock, projection_lag_entries=4) as ledger:
        open_accounts(ledger, "A", "B")  # entries 1-2, one commit
        issue(ledger, "A", 100)  # 3
        assert projected_seq(ledger) == 0
        move(ledger, "t-1", 1)  # 4: the bound is reached
        assert projected_seq(ledger) == head_seq(ledger) == 4
        move(ledger, "t-2", 1)
        assert projected_seq(ledger) == 4


def test_a_lag_of_zero_projects_at_every_commit(database_url: str, clock: FixedClock) -> None:
    with Ledger.open(database_url, clock=clock, projection_lag_entries=0) as ledger:
        open_accounts(ledger, "A", "B")
        issue(ledger, "A", 100)
        for number in range(3):
            move(ledger, f"t-{number}", 1)
            assert projected_seq(ledger) == head_seq(ledger)


def test_closing_projects_what_this_process_committed(database_url: str, clock: FixedClock) -> None:
    with Ledger.open(database_url, clock=clock) as ledger:
        a_transfer(ledger)
    with Ledger.open(database_url, clock=clock) as reopened:
        assert projected_seq(reopened) == head_seq(reopened)


def test_a_refusal_leaves_the_read_models_as_they_were_even_where_it_projected(
    database_url: str, clock: FixedClock
) -> None:
    """The refused command's transaction projected another writer's entries (it had to read
    them); it rolls back with the refusal, and the next accepted command projects them."""
    with (
        Ledger.open(database_url, clock=clock) as writer,
        Ledger.open(database_url, clock=clock) as other,
    ):
        a_transfer(writer)
        before = {table: raw_table_rows(other, table) for table in READ_MODELS}
        meta_before = raw_table_rows(other, "ledger_meta")
        refused = other.submit(Transfer("too-much", "A", "B", Selection("VCU", quantity=1000)))
        assert codes_of(refused)
        assert {table: raw_table_rows(other, table) for table in READ_MODELS} == before
        assert raw_table_rows(other, "ledger_meta") == meta_before
        move(other, "t-2", 5)
        assert held(writer, "B") == 15
        assert other.verify().ok


def test_a_damaged_entry_that_cannot_be_projected_is_reported_by_verify(
    database_url: str, clock: FixedClock
) -> None:
    with Ledger.open(database_url, clock=clock) as ledger:
        a_transfer(ledger)
        row = ledger.store.query_one(
            "SELECT seq, payload, previous_hash FROM journal ORDER BY seq DESC LIMIT 1"
        )
        assert row is not None
        entry = orjson.loads(bytes(row[1]))
        entry["effects"] = [["move", "transfer", "VERRA/VCU", "one", "two", "A", "B"]]
        payload = orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)
        ledger.store.connection.execute(  # type: ignore[attr-defined]
            ledger.store.sql("UPDATE journal SET payload = ?, entry_hash = ? WHERE seq = ?"),
            (payload, chain_hash(row[2], payload), row[0]),
        )
        ledger.state.reset()  # as another process would start: only the journal to go by
        report = ledger.verify()
        assert "projection" in {problem.invariant for problem in report.problems}
        with pytest.raises(Exception):  # noqa: B017 - any read must refuse to run on it
            ledger.holdings("B")
        ledger.close(project=False)
