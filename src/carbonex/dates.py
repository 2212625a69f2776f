"""Calendar arithmetic the rules share (a unit type's validity, a crediting period's length),
and times compared across clocks.

Pure: standard library only.
"""

from __future__ import annotations

import calendar
import datetime as dt

LATEST_UTC_OFFSET = dt.timedelta(hours=14)
"""The latest local time anywhere (UTC+14): a day is in the future only when it has not begun
anywhere on Earth yet."""


def latest_day(now: dt.datetime) -> dt.date:
    """The latest calendar day that has begun somewhere on Earth at `now` (an aware time)."""
    return (now.astimezone(dt.UTC) + LATEST_UTC_OFFSET).date()


def is_day(value: object) -> bool:
    """A date, not a `datetime` (a date too, but a time, whose record would carry its hours and
    which compares with no date): what a Python caller must give where a day is asked for."""
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def as_utc(moment: dt.datetime) -> dt.datetime:
    """A time without an offset read as UTC, so that any two entry times compare."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def years_after(day: dt.date, years: int) -> dt.date | None:
    """The same calendar day `years` later (29 February becomes 28 February in common years), or
    None where that day lies outside the calendar a date can hold (years 1 to 9999): any whole
    number of years gives an answer, never an exception, and the caller decides what a limit
    beyond the calendar means."""
    year = day.year + years
    if not dt.MINYEAR <= year <= dt.MAXYEAR:
        return None
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return day.replace(year=year, day=28)
    return day.replace(year=year)
