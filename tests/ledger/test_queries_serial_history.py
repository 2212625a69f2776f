"""A serial's history in pages: every entry that moved it, once and in order, however many there
are; and the movement that made it final, whichever page it is on."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from carbonex.ledger import Ledger, Retire, Selection, Transfer, queries
from carbonex.ledger.history import SERIAL_BUCKET_BITS_MIN
from carbonex.ledger.limits import SERIAL_HISTORY_PAGE_SIZE_MAX
from tests.ledger.support import VCU_SPACE, accept, accept_all, issue, open_accounts, ranges

BENEFICIARY = "Oslo Kommune"
PURPOSE = "Municipal climate budget 2026"


def _back_and_forth(moves: int) -> list[Transfer]:
    """Transfers of serial 1 from A to B and back: it ends in A when `moves` is even."""
    selection = Selection("VCU", serial_ranges=ranges((1, 1)))
    pairs = [("A", "B"), ("B", "A")]
    return [Transfer(f"move-{number}", *pairs[number % 2], selection) for number in range(moves)]


def _transfer(ledger: Ledger, command_id: str, source: str, target: str, serial: int) -> int:
    selection = Selection("VCU", serial_ranges=ranges((serial, serial)))
    seq = accept(ledger, Transfer(command_id, source, target, selection)).seq
    ledger.holdings(source)  # a read: projects the entry into a posting row of its own
    return seq


def _retire_serial_one(ledger: Ledger) -> int:
    retire = Retire(
        "retire-1",
        "A",
        Selection("VCU", serial_ranges=ranges((1, 1))),
        BENEFICIARY,
        PURPOSE,
        dt.date(2026, 1, 1),
        dt.date(2026, 12, 31),
    )
    return accept(ledger, retire).seq


def _moved_then_retired(ledger: Ledger, moves: int) -> list[int]:
    """The entries that moved serial 1: its issuance, `moves` transfers, its retirement."""
    open_accounts(ledger, "A", "B")
    issued = issue(ledger, "A", 2).seq
    moved = [accepted.seq for accepted in accept_all(ledger, _back_and_forth(moves))]
    return [issued, *moved, _retire_serial_one(ledger)]


def _every_page(ledger: Ledger, limit: int) -> list[dict[str, Any]]:
    pages: list[dict[str, Any]] = []
    after_seq: int | None = 0
    while after_seq is not None:
        page = ledger.provenance(VCU_SPACE, 1, after_seq, limit)
        assert page is not None
        pages.append(page)
        after_seq = page["next_after_seq"]
    return pages


def test_a_serial_moved_more_than_a_page_of_times_then_retired_shows_its_retirement(
    ledger: Ledger,
) -> None:
    # Changed: the history held the first 1,000 entries only, and the retirement was not there.
    entries = _moved_then_retired(ledger, SERIAL_HISTORY_PAGE_SIZE_MAX + 2)
    first = ledger.provenance(VCU_SPACE, 1)
    assert first is not None
    assert first["current"]["state"] == "retired"
    assert [line["seq"] for line in first["history"]] == entries[:SERIAL_HISTORY_PAGE_SIZE_MAX]
    assert first["history_complete"] is False
    assert first["next_after_seq"] == entries[SERIAL_HISTORY_PAGE_SIZE_MAX - 1]
    final = first["final"]
    assert (final["seq"], final["action"]) == (entries[-1], "retire")
    assert final["details"] == {
        "beneficiary": BENEFICIARY,
        "purpose": PURPOSE,
        "claim_period_start": "2026-01-01",
        "claim_period_end": "2026-12-31",
    }
    assert (first["origin"]["seq"], first["origin"]["action"]) == (entries[0], "issue")
    rest = ledger.provenance(VCU_SPACE, 1, first["next_after_seq"])
    assert rest is not None
    assert [line["seq"] for line in rest["history"]] == entries[SERIAL_HISTORY_PAGE_SIZE_MAX:]
    assert rest["history"][-1] == final
    assert rest["next_after_seq"] is None


def test_paging_with_the_cursor_gives_every_entry_once_and_in_order(ledger: Ledger) -> None:
    entries = _moved_then_retired(ledger, 250)
    pages = _every_page(ledger, 40)
    assert [line["seq"] for page in pages for line in page["history"]] == entries
    assert [len(page["history"]) for page in pages] == [40] * 6 + [12]
    assert all(page["final"]["seq"] == entries[-1] for page in pages)


def test_a_page_holds_at_most_the_maximum_whatever_the_limit_asked(ledger: Ledger) -> None:
    _moved_then_retired(ledger, SERIAL_HISTORY_PAGE_SIZE_MAX)
    page = ledger.provenance(VCU_SPACE, 1, 0, SERIAL_HISTORY_PAGE_SIZE_MAX * 10)
    assert page is not None
    assert len(page["history"]) == SERIAL_HISTORY_PAGE_SIZE_MAX


WIDE_RANGE = (1, 2**SERIAL_BUCKET_BITS_MIN + 1)
"""Serials whose moves are filed a level above the moves of serial 1 or 2 alone."""


def _moved_among_moves_of_serial_two(ledger: Ledger) -> list[int]:
    """The entries that moved serial 1, each transfer projected on its own into a posting row
    of its own: two wide ones first, then one of every three naming serial 2 only."""
    open_accounts(ledger, "A", "B")
    entries = [issue(ledger, "A", WIDE_RANGE[1]).seq]
    for source, target in (("A", "B"), ("B", "A")):
        wide = Selection("VCU", serial_ranges=ranges(WIDE_RANGE))
        entries.append(accept(ledger, Transfer(f"wide-{source}", source, target, wide)).seq)
        ledger.holdings(source)
    for number in range(6):
        holder, other = ("A", "B") if number % 2 == 0 else ("B", "A")
        _transfer(ledger, f"two-out-{number}", "A", "B", 2)
        entries.append(_transfer(ledger, f"one-{number}", holder, other, 1))
        _transfer(ledger, f"two-back-{number}", "B", "A", 2)
    return [*entries, _retire_serial_one(ledger)]


def _read_three_rows_per_bucket(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queries, "HISTORY_ROWS_READ_MAX", 3)
    monkeypatch.setattr(queries, "HISTORY_ROWS_PER_QUERY", 2)


def test_pages_end_where_the_posting_rows_read_end_and_lose_no_entry(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = _moved_among_moves_of_serial_two(ledger)
    _read_three_rows_per_bucket(monkeypatch)
    pages = _every_page(ledger, SERIAL_HISTORY_PAGE_SIZE_MAX)
    assert [line["seq"] for page in pages for line in page["history"]] == entries
    assert len(pages) > 1
    assert all(page["final"]["details"]["beneficiary"] == BENEFICIARY for page in pages)


def test_a_final_movement_past_the_rows_read_is_not_named_rather_than_an_earlier_one(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    entries = _moved_among_moves_of_serial_two(ledger)
    # four rows after the retirement's, naming serial 2 only: the wide moves are the last the
    # rows read name, and would be taken for the last were the rows left unread forgotten
    for number in range(4):
        source, target = ("A", "B") if number % 2 == 0 else ("B", "A")
        _transfer(ledger, f"two-later-{number}", source, target, 2)
    _read_three_rows_per_bucket(monkeypatch)
    pages = _every_page(ledger, SERIAL_HISTORY_PAGE_SIZE_MAX)
    assert [line["seq"] for page in pages for line in page["history"]] == entries
    assert all(page["final"] is None for page in pages)
    monkeypatch.undo()
    found = ledger.provenance(VCU_SPACE, 1)
    assert found is not None
    assert found["final"]["seq"] == entries[-1]


def test_an_active_serial_has_no_final_movement_and_its_issuance_as_origin(
    ledger: Ledger,
) -> None:
    open_accounts(ledger, "A", "B")
    issued = issue(ledger, "A", 2).seq
    accept_all(ledger, _back_and_forth(3))
    found = ledger.provenance(VCU_SPACE, 1)
    assert found is not None
    assert found["final"] is None
    assert found["origin"] == found["history"][0]
    assert (found["origin"]["seq"], found["origin"]["to_account"]) == (issued, "A")
    assert (found["history_complete"], found["next_after_seq"]) == (True, None)


def test_without_its_history_a_serial_still_shows_how_it_began_and_ended(ledger: Ledger) -> None:
    """The public view shows the issuance and final lines only: no page of history is read."""
    entries = _moved_then_retired(ledger, 4)
    whole = ledger.provenance(VCU_SPACE, 1)
    bare = ledger.provenance(VCU_SPACE, 1, with_history=False)
    assert whole is not None and bare is not None
    assert [line["seq"] for line in whole["history"]] == entries
    assert (bare["history"], bare["next_after_seq"]) == ([], None)
    assert bare["origin"] == whole["origin"] and bare["origin"]["seq"] == entries[0]
    assert bare["final"] == whole["final"] and bare["final"]["seq"] == entries[-1]
    assert bare["final"]["details"]["beneficiary"] == BENEFICIARY
