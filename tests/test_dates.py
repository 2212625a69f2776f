"""Calendar arithmetic: the same day some years later, or None beyond the calendar."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from carbonex.dates import years_after
from tests.ledger.support import hypothesis_settings

D = dt.date


def test_a_date_some_years_later_keeps_its_day_and_29_february_becomes_28() -> None:
    assert years_after(D(2024, 2, 29), 1) == D(2025, 2, 28)
    assert years_after(D(2024, 2, 29), 4) == D(2028, 2, 29)
    assert years_after(D(9998, 12, 31), 1) == D(9999, 12, 31)


def test_a_date_beyond_the_calendar_is_none() -> None:
    assert years_after(D(9999, 1, 1), 1) is None
    assert years_after(D(1, 1, 1), -1) is None
    assert years_after(D(2020, 1, 1), 10**30) is None


@hypothesis_settings("pure")
@given(day=st.dates(), years=st.integers())
def test_any_whole_number_of_years_gives_that_year_or_none_never_an_exception(
    day: dt.date, years: int
) -> None:
    later = years_after(day, years)
    if dt.MINYEAR <= day.year + years <= dt.MAXYEAR:
        assert later is not None
        assert (later.year, later.month) == (day.year + years, day.month)
    else:
        assert later is None
