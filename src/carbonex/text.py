"""Text as messages show it, dates as people write them, and the characters free text may hold.

A value quoted in a message (an id, a name) is cut to a bounded length and marked where it was
cut, so that a value of any length (a 1 MB id) gives a short message. A date given as text is
exactly YYYY-MM-DD, the form every message asks for.

Free text people type (a retirement's beneficiary, an account's holder, a project's name) is
shown to others: on an administrator's terminal, in the public explorer, in statements and in
CSV and JSON exports. `REFUSED_IN_TEXT` is the one set of characters none of it may hold (see
there for which and why); `refused_character` finds the first in a text, `refused_characters_in`
every text of a record with its field's name. Messages name a character by its code point
(U+202E), never quote it.

Pure: standard library only.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

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


CONTROL_CHARACTERS = "\x00-\x1f\x7f-\x9f"
"""Unicode category Cc, all of it: C0 (NUL, TAB, LF, CR, ESC...), DEL and C1 (U+009B, a CSI
that terminals read as ESC [). An escape sequence recolours, moves or clears an administrator's
terminal; a line break forges a line in a statement or an export. Every free-text field is one
line (a name, a purpose, a reason: one table cell, one CSV field), so TAB and LF go too."""
BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
"""The explicit bidirectional embeddings, overrides and isolates (LRE, RLE, PDF, LRO, RLO; LRI,
RLI, FSI, PDI): they reorder how the text around them is displayed, so that "Trojan Source"
style, a beneficiary's name reads backwards or one name poses as another. The marks LRM and RLM
(U+200E, U+200F) reorder nothing beyond themselves and are kept, as are ZWNJ and ZWJ (U+200C,
U+200D), which Persian, Hindi and emoji sequences need; no other format character (Cf) is
refused."""
LINE_SEPARATORS = "\u2028\u2029"
"""LINE SEPARATOR and PARAGRAPH SEPARATOR: line breaks to JavaScript, editors and `splitlines`."""
SURROGATES = "\ud800-\udfff"
"""Category Cs: halves of a UTF-16 pair, never characters alone (a JSON `\\ud800` escape
makes one); no store and no UTF-8 encoder takes them."""
BMP_NONCHARACTERS = "\ufdd0-\ufdef\ufffe\uffff"
SUPPLEMENTARY_NONCHARACTERS = "".join(
    chr(plane + 0xFFFE) + chr(plane + 0xFFFF) for plane in range(0x10000, 0x110000, 0x10000)
)
NONCHARACTERS = BMP_NONCHARACTERS + SUPPLEMENTARY_NONCHARACTERS
"""The 66 code points Unicode reserves never to assign (U+FDD0..U+FDEF and the last two of each
plane): a program's internal markers, never text anyone typed."""
REFUSED_IN_TEXT = re.compile(
    f"[{CONTROL_CHARACTERS}{BIDI_CONTROLS}{LINE_SEPARATORS}{SURROGATES}{NONCHARACTERS}]"
)
"""The characters free text may not hold: the union of the five sets above."""
_REFUSED_IN_BMP = f"{CONTROL_CHARACTERS}{BIDI_CONTROLS}{LINE_SEPARATORS}{SURROGATES}"
_CANDIDATES = re.compile(f"[{_REFUSED_IN_BMP}{BMP_NONCHARACTERS}\U0001fffe-\U0010ffff]")
"""What `refused_character` searches for: REFUSED_IN_TEXT, but every code point from the first
supplementary noncharacter on instead of the 32 noncharacters there (a class of 32 scattered
supplementary code points makes Python's search some fifteen times slower); a candidate there
is a noncharacter only when its last 16 bits are FFFE or FFFF."""
SUPPLEMENTARY_CANDIDATES_MIN = 0x1FFFE
NONCHARACTER_LOW_BITS = 0xFFFE
"""A code point whose 16 low bits, with the last one cleared, are these is a plane's last two."""
LINE_BREAKS = re.compile("\r\n|[\t\n\x0b\x0c\r\x1c-\x1e\x85\u2028\u2029]")
"""TAB, and what breaks a line: CR LF as one, and each of `str.splitlines`'s line boundaries."""
FIELDS_NAMED_MAX = 10
"""Fields holding a refused character that `refused_characters_in` names at most (a record of
a thousand labels, each with an escape, names the first ten)."""
FIELD_NAME_LENGTH_MAX = 60
"""Characters of a field's name in a message (names built from a record's keys)."""


@dataclass(frozen=True, slots=True)
class RefusedCharacter:
    """A character free text may not hold, where it is: `position` counts from 1."""

    code_point: int
    position: int

    @property
    def code_point_text(self) -> str:
        return f"U+{self.code_point:04X}"

    @property
    def kind(self) -> str:
        """What the character is, in words (a message never shows the character itself)."""
        character = chr(self.code_point)
        if re.fullmatch(f"[{CONTROL_CHARACTERS}]", character):
            return "a control character"
        if re.fullmatch(f"[{BIDI_CONTROLS}]", character):
            return "a bidirectional control"
        if character in LINE_SEPARATORS:
            return "a line or paragraph separator"
        if re.fullmatch(f"[{SURROGATES}]", character):
            return "a lone surrogate"
        return "a noncharacter"

    def describe(self, field: str) -> str:
        return (
            f"'{field}' holds {self.code_point_text}, {self.kind}, at character "
            f"{self.position}; free text holds no control characters, line separators, "
            "bidirectional controls or noncharacters"
        )


def refused_character(text: str) -> RefusedCharacter | None:
    """The first character of `text` in REFUSED_IN_TEXT, or None. A printable text
    (`str.isprintable`: no character of categories C, Zl, Zp or Zs but the space) holds none,
    and is passed without a search."""
    if text.isprintable():
        return None
    position = 0
    while (found := _CANDIDATES.search(text, position)) is not None:
        code_point = ord(found.group())
        if (
            code_point < SUPPLEMENTARY_CANDIDATES_MIN
            or code_point & NONCHARACTER_LOW_BITS == NONCHARACTER_LOW_BITS
        ):
            return RefusedCharacter(code_point, found.start() + 1)
        position = found.end()
    return None


def _escape(found: re.Match[str]) -> str:
    code_point = ord(found.group())
    if code_point < 0x100:
        return f"\\x{code_point:02x}"
    if code_point < 0x10000:
        return f"\\u{code_point:04x}"
    return f"\\U{code_point:08x}"


def visible(text: str, keep: str = "") -> str:
    """`text` with each character of REFUSED_IN_TEXT but those in `keep` written as its escape
    (ESC as `\\x1b`, U+202E as `\\u202e`): for showing stored text on a terminal. Text stored
    before the character rule, or quoted from a refused request, may hold an escape sequence
    that would recolour or clear the reader's terminal, or an override that reverses a name; a
    reader sees each such character instead of its effect."""
    if text.isprintable():
        return text
    return REFUSED_IN_TEXT.sub(
        lambda found: found.group() if found.group() in keep else _escape(found), text
    )


def same_person(name: str) -> str:
    """The key under which two names people type for one person are one: without surrounding
    blanks, case-folded and in Unicode's compatibility form (NFKC before and after folding,
    Unicode's caseless matching of identifiers), so neither a change of case ("mei", "MEI")
    nor another encoding of the same letters ("é" as one character or as e and an accent,
    full-width Latin letters) is a second person. For independence rules: a project's actors,
    an inclusion reviewer and the person reviewed."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return unicodedata.normalize("NFKC", folded).strip()


def on_one_line(text: str) -> str:
    """`text` with each line break (CR LF as one) and TAB made a space: for text copied from
    elsewhere (another registry's export), where a name or a note may run over lines."""
    return LINE_BREAKS.sub(" ", text)


def refused_characters_in(value: object, name: str = "") -> list[tuple[str, RefusedCharacter]]:
    """(field, character) for each text in `value` (nested mappings, keys included, lists and
    tuples; other values are not text and are passed over) that holds a refused character, its
    first one, in the order the record lists them; at most FIELDS_NAMED_MAX. A field is named
    by its path from `name` ("selection.label", "labels[2]"), cut to FIELD_NAME_LENGTH_MAX; a
    key is a field of its own, named by its place ("details.<key 1>"), and a key holding a
    refused character is never quoted in its value's name either. Walked without recursion: a
    record may nest deeper than Python's recursion limit."""
    found: list[tuple[str, RefusedCharacter]] = []
    pending: list[tuple[str, object]] = [(name, value)]
    while pending and len(found) < FIELDS_NAMED_MAX:
        path, item = pending.pop()
        if isinstance(item, str):
            refused = refused_character(item)
            if refused is not None:
                found.append((shortened(path or "text", FIELD_NAME_LENGTH_MAX), refused))
        elif isinstance(item, Mapping):
            pending.extend(reversed(_entries(path, item)))
        elif isinstance(item, list | tuple):
            elements = [(_field(path, f"[{index}]"), element) for index, element in enumerate(item)]
            pending.extend(reversed(elements))
    return found


def _entries(path: str, mapping: Mapping[object, object]) -> list[tuple[str, object]]:
    """Each key of `mapping` (when it is text) and its value, with their fields' names."""
    entries: list[tuple[str, object]] = []
    for place, (key, value) in enumerate(mapping.items(), start=1):
        if isinstance(key, str) and refused_character(key) is not None:
            key_field = _field(path, f".<key {place}>" if path else f"<key {place}>")
            entries += [(key_field, key), (key_field, value)]
        else:
            entries.append((_field(path, f".{key}" if path else str(key)), value))
    return entries


def _field(path: str, step: str) -> str:
    """The field `step` leads to from `path`, kept to one character past what a message shows,
    so that naming the fields of a deep record costs no more than walking it."""
    if len(path) > FIELD_NAME_LENGTH_MAX:
        return path
    return (path + step)[: FIELD_NAME_LENGTH_MAX + 1]
