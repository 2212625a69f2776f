"""Text as messages show it, and dates as people write them.

A value quoted in a message (an id, a name) is cut to a bounded length and marked where it was
cut, so that a value of any length (a 1 MB id) gives a short message. A date given as text is
exactly YYYY-MM-DD, the form every message asks for.

Pure: standard library only.
"""

from __future__ import annotations

import datetime as dt
import re

ELLIPSIS = "…"
QUOTED_TEXT_LENGTH_MAX = 80
"""Characters of a value quoted in a message: its start names it; the rest would only make the
message as long as the value."""
ISO_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
"""YYYY-MM-DD, ASCII digits only: `dt.date.fromisoformat` also takes ISO week dates
(`2024-W23-1`) and the basic format (`20240603`), which the messages do not promise and a
reader of the same text elsewhere may not read as the same day."""


def shortened(text: str, length_max: int = QUOTED_TEXT_LENGTH_MAX) -> str:
    """`text` itself when at most `length_max` characters long, else its start and an ellipsis,
    `length_max` characters in all."""
    if length_max < len(ELLIPSIS):
        raise ValueError(f"length_max must be at least {len(ELLIPSIS)}, got {length_max}")
    if len(text) <= length_max:
        return text
    return text[: length_max - len(ELLIPSIS)] + ELLIPSIS


def iso_date(text: str) -> dt.date:
    """The date `text` writes as exactly YYYY-MM-DD; ValueError for any other form or an
    impossible day."""
    if not ISO_DATE_TEXT.fullmatch(text):
        raise ValueError(f"{shortened(text)!r} is not a YYYY-MM-DD date")
    return dt.date.fromisoformat(text)
