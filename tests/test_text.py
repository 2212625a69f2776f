"""Values quoted in messages: a long text is cut to a bounded length, marked with an ellipsis."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonex.text import ELLIPSIS, QUOTED_TEXT_LENGTH_MAX, shortened
from tests.ledger.support import hypothesis_settings


def test_a_text_no_longer_than_the_bound_is_quoted_whole() -> None:
    assert shortened("") == ""
    assert shortened("x" * QUOTED_TEXT_LENGTH_MAX) == "x" * QUOTED_TEXT_LENGTH_MAX
    assert shortened("trip-1", 6) == "trip-1"


def test_a_longer_text_keeps_its_start_and_ends_with_an_ellipsis_within_the_bound() -> None:
    quoted = shortened("trip-" + "x" * 1_000_000)
    assert len(quoted) == QUOTED_TEXT_LENGTH_MAX
    assert quoted.startswith("trip-xxx") and quoted.endswith(ELLIPSIS)
    assert shortened("trip-12", 6) == "trip-" + ELLIPSIS


def test_a_bound_too_small_for_the_ellipsis_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="length_max"):
        shortened("trip-1", 0)


@hypothesis_settings("pure")
@given(text=st.text(), length_max=st.integers(min_value=1, max_value=200))
def test_any_text_is_quoted_within_the_bound_as_its_own_start(text: str, length_max: int) -> None:
    quoted = shortened(text, length_max)
    assert len(quoted) <= length_max
    assert quoted == text or (text.startswith(quoted[:-1]) and quoted.endswith(ELLIPSIS))
