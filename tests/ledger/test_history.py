"""History postings: where a move is filed, and that a serial's buckets find every move of it."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonex.ledger.history import (
    SERIAL_BUCKET_BITS_MIN,
    HistoryPostings,
    keys_holding,
    pack_moves,
    pack_seqs,
    serial_key,
    serial_level,
    unpack_moves,
    unpack_seqs,
)
from carbonex.ledger.limits import SERIAL_MAX
from tests.ledger.support import hypothesis_settings


def test_a_small_move_is_filed_in_the_smallest_bucket_holding_it() -> None:
    assert serial_level(1, 5) == SERIAL_BUCKET_BITS_MIN
    assert serial_key("VERRA/VCU", 1, 5) == ("VERRA/VCU", SERIAL_BUCKET_BITS_MIN, 0)


def test_a_move_across_a_bucket_boundary_goes_one_level_up() -> None:
    edge = 2**SERIAL_BUCKET_BITS_MIN
    assert serial_level(edge - 1, edge) == SERIAL_BUCKET_BITS_MIN + 1


def test_a_billion_unit_move_is_one_posting() -> None:
    postings = HistoryPostings()
    postings.add_moves(7, [("move", "transfer", "S", 1, 10**9, "A", "B")])
    assert len(postings.serials) == 1
    assert postings.account_rows() == [("A", 7, pack_seqs([7])), ("B", 7, pack_seqs([7]))]


def test_an_entry_is_filed_once_per_account_however_many_ranges_it_moves() -> None:
    postings = HistoryPostings()
    moves = [("move", "transfer", "S", first, first + 1, "A", "B") for first in (1, 10, 100)]
    postings.add_moves(3, moves)
    postings.add_moves(4, [("move", "retire", "S", 50, 50, "B", "B")])
    assert postings.accounts == {"A": [3], "B": [3, 4]}
    ((key, flat),) = postings.serials.items()
    assert flat == [3, 1, 2, 3, 10, 11, 3, 100, 101, 4, 50, 50]
    assert postings.serial_rows() == [(*key, 4, pack_moves(flat))]


def test_issuance_moves_name_no_sender() -> None:
    postings = HistoryPostings()
    postings.add_moves(1, [("move", "issue", "S", 1, 100, None, "A")])
    assert postings.accounts == {"A": [1]}


def test_packed_lists_read_back_and_refuse_a_torn_row() -> None:
    assert unpack_seqs(pack_seqs([1, 2, 2**62])) == (1, 2, 2**62)
    assert list(unpack_moves(pack_moves([5, 1, 9, 6, 10, 10]))) == [(5, 1, 9), (6, 10, 10)]
    with pytest.raises(ValueError):
        unpack_seqs(b"\x01\x02")
    with pytest.raises(ValueError):
        unpack_moves(pack_seqs([1, 2]))


ranges = st.tuples(st.integers(1, SERIAL_MAX), st.integers(0, 2**40)).map(
    lambda pair: (pair[0], min(SERIAL_MAX, pair[0] + pair[1]))
)


@hypothesis_settings("pure")
@given(moves=st.lists(ranges, min_size=1, max_size=30), probe=st.integers(1, SERIAL_MAX))
def test_the_buckets_of_a_serial_find_exactly_the_moves_that_contain_it(
    moves: list[tuple[int, int]], probe: int
) -> None:
    postings = HistoryPostings()
    for seq, (first, last) in enumerate(moves, 1):
        postings.add_moves(seq, [("move", "transfer", "S", first, last, "A", "B")])
    serials = {first for first, _ in moves} | {probe}
    for serial in serials:
        found = {
            seq
            for key in keys_holding("S", serial)
            for seq, first, last in unpack_moves(pack_moves(postings.serials.get(key, [])))
            if first <= serial <= last
        }
        expected = {seq for seq, (first, last) in enumerate(moves, 1) if first <= serial <= last}
        assert found == expected
