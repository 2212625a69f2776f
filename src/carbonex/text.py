"""Text as messages show it: a value quoted in a message (an id, a name) is cut to a bounded
length and marked where it was cut, so that a value of any length (a 1 MB id) gives a short
message.

Pure: standard library only.
"""

from __future__ import annotations

ELLIPSIS = "…"
QUOTED_TEXT_LENGTH_MAX = 80
"""Characters of a value quoted in a message: its start names it; the rest would only make the
message as long as the value."""


def shortened(text: str, length_max: int = QUOTED_TEXT_LENGTH_MAX) -> str:
    """`text` itself when at most `length_max` characters long, else its start and an ellipsis,
    `length_max` characters in all."""
    if length_max < len(ELLIPSIS):
        raise ValueError(f"length_max must be at least {len(ELLIPSIS)}, got {length_max}")
    if len(text) <= length_max:
        return text
    return text[: length_max - len(ELLIPSIS)] + ELLIPSIS
