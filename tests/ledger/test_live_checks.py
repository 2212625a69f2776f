"""Joining the live history postings: rows of a key in order are joined; rows out of order, torn
or apart are named, and never more than PROBLEM_ROWS_MAX of them."""

from __future__ import annotations

from carbonex.ledger.history import MOVE, SEQ, pack_moves, pack_seqs
from carbonex.ledger.live_checks import PROBLEM_ROWS_MAX, join_postings


def test_rows_of_a_key_in_order_are_joined_into_one_list() -> None:
    rows = [
        ("A", 2, pack_seqs([1, 2])),
        ("A", 5, pack_seqs([4, 5])),
        ("B", 3, pack_seqs([3])),
    ]
    joined = join_postings(rows, SEQ.size, strictly=True)
    assert joined.problems == []
    assert {key: b"".join(parts) for key, parts in joined.joined.items()} == {
        "A": pack_seqs([1, 2, 4, 5]),
        "B": pack_seqs([3]),
    }


def test_a_serial_bucket_may_list_moves_of_one_entry_across_two_rows() -> None:
    key = ("S", 20, 0)
    rows = [(*key, 4, pack_moves([3, 1, 1, 4, 2, 2])), (*key, 4, pack_moves([4, 3, 3]))]
    assert join_postings(rows, MOVE.size, strictly=False).problems == []
    assert join_postings(rows, MOVE.size, strictly=True).problems != []


def test_a_row_that_starts_before_the_previous_one_ended_is_out_of_order() -> None:
    rows = [("A", 5, pack_seqs([4, 5])), ("A", 6, pack_seqs([5, 6]))]
    joined = join_postings(rows, SEQ.size, strictly=True)
    assert joined.problems == [("history", "history of A is out of order")]


def test_a_row_whose_last_entry_is_not_its_key_is_out_of_order() -> None:
    joined = join_postings([("A", 9, pack_seqs([4, 5]))], SEQ.size, strictly=True)
    assert joined.problems == [("history", "history of A is out of order")]


def test_rows_of_a_key_that_are_not_together_are_named() -> None:
    rows = [("A", 1, pack_seqs([1])), ("B", 2, pack_seqs([2])), ("A", 3, pack_seqs([3]))]
    joined = join_postings(rows, SEQ.size, strictly=True)
    assert joined.problems == [("history", "history of A: its rows are not together")]
    assert joined.joined["A"] == [pack_seqs([1]), pack_seqs([3])]


def test_torn_rows_are_named_and_left_out() -> None:
    rows = [("A", 1, pack_seqs([1])[:-1]), ("B", 2, b""), ("C", 3, pack_seqs([3]))]
    joined = join_postings(rows, SEQ.size, strictly=True)
    assert [message for _, message in joined.problems] == [
        "history of A: a row is not a packed list",
        "history of B: a row is not a packed list",
    ]
    assert list(joined.joined) == ["C"]


def test_no_more_problems_are_kept_than_the_limit() -> None:
    rows = [(f"K{number:04d}", 1, b"torn") for number in range(PROBLEM_ROWS_MAX * 3)]
    assert len(join_postings(rows, SEQ.size, strictly=True).problems) == PROBLEM_ROWS_MAX
