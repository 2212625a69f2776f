"""Values quoted in messages: a long text is cut to a bounded length, marked with an ellipsis.
Free text holds no control character, bidirectional control, line separator, surrogate or
noncharacter: one set, found in any text and any record, named by code point, never shown."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonex.text import (
    ELLIPSIS,
    FIELD_NAME_LENGTH_MAX,
    FIELDS_NAMED_MAX,
    QUOTED_TEXT_LENGTH_MAX,
    REFUSED_IN_TEXT,
    on_one_line,
    refused_character,
    refused_characters_in,
    shortened,
    visible,
)
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


# -- the characters free text may hold ------------------------------------------------------------


def refused_by_unicode(code_point: int) -> bool:
    """The refused set as Unicode's own tables and the ranges it names give it: categories Cc
    and Cs, the explicit bidirectional controls, the line and paragraph separators and the
    noncharacters."""
    return (
        unicodedata.category(chr(code_point)) in ("Cc", "Cs")
        or 0x202A <= code_point <= 0x202E
        or 0x2066 <= code_point <= 0x2069
        or code_point in (0x2028, 0x2029)
        or 0xFDD0 <= code_point <= 0xFDEF
        or code_point & 0xFFFE == 0xFFFE
    )


def test_the_refused_set_is_every_control_bidi_control_separator_surrogate_and_noncharacter() -> (
    None
):
    for code_point in range(sys.maxunicode + 1):
        character = chr(code_point)
        expected = refused_by_unicode(code_point)
        assert (REFUSED_IN_TEXT.fullmatch(character) is not None) == expected, hex(code_point)
        found = refused_character(f"a\u200c{character}b")  # not printable: searched
        assert (found is not None) == expected, hex(code_point)


def test_the_joiners_and_marks_real_names_need_are_not_refused() -> None:
    for character in "\u200c\u200d\u200e\u200f\u061c\u00ad\u2060":
        assert refused_character(f"x{character}y") is None, f"U+{ord(character):04X}"


def test_a_refused_character_is_named_by_its_code_point_kind_and_place_never_shown() -> None:
    cases = {
        "Acme\x1b[2J": ("U+001B", "a control character", 5),
        "\u202eAcme": ("U+202E", "a bidirectional control", 1),
        "a\u2028b": ("U+2028", "a line or paragraph separator", 2),
        "ab\U0010ffff": ("U+10FFFF", "a noncharacter", 3),
        "\ud800": ("U+D800", "a lone surrogate", 1),
    }
    for text, (code_point, kind, position) in cases.items():
        found = refused_character(text)
        assert found is not None
        assert (found.code_point_text, found.kind, found.position) == (code_point, kind, position)
        message = found.describe("beneficiary")
        assert f"'beneficiary' holds {code_point}, {kind}, at character {position}" in message
        assert message.isprintable() and message.isascii()


def test_each_text_of_a_record_is_named_by_its_path_and_a_refused_key_only_by_its_place() -> None:
    record = {
        "beneficiary": "Acme\x1b",
        "selection": {"label": "\u202e", "quantity": 5, "nothing": None},
        "labels": ["ok", "\n"],
        "details": {"key\x1b[31m": "value\x85", "note": "fine"},
    }
    found = [(field, refused.code_point_text) for field, refused in refused_characters_in(record)]
    assert found == [
        ("beneficiary", "U+001B"),
        ("selection.label", "U+202E"),
        ("labels[1]", "U+000A"),
        ("details.<key 1>", "U+001B"),
        ("details.<key 1>", "U+0085"),
    ]


def test_a_record_of_many_refused_texts_names_the_first_few() -> None:
    found = refused_characters_in({"labels": ["\x1b"] * 1_000})
    assert [field for field, _ in found] == [f"labels[{n}]" for n in range(FIELDS_NAMED_MAX)]


def test_a_record_nested_past_the_recursion_limit_is_walked() -> None:
    deep: object = "\x1b"
    for _ in range(sys.getrecursionlimit() * 2):
        deep = [deep]
    (field, found), *_ = refused_characters_in(deep)
    assert found.code_point == 0x1B and len(field) <= FIELD_NAME_LENGTH_MAX


def test_line_breaks_and_tabs_are_put_on_one_line_and_nothing_else_changes() -> None:
    assert on_one_line("Acme\r\nGreen\tLtd\nline\u2028sep\x85nel") == "Acme Green Ltd line sep nel"
    assert on_one_line("Acme\x1b[31m\u202e") == "Acme\x1b[31m\u202e"
    assert on_one_line("\u06af\u200c\u0647") == "\u06af\u200c\u0647"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(st.characters(codec=None)),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(st.characters(codec=None), max_size=3), inner, max_size=3)
    ),
)


@hypothesis_settings("pure")
@given(text=st.text(st.characters(codec=None) | st.sampled_from("\ud800\x1b\u202e\U0002fffe")))
def test_any_text_is_refused_exactly_at_its_first_refused_character(text: str) -> None:
    found = refused_character(text)
    positions = [i for i, c in enumerate(text, start=1) if refused_by_unicode(ord(c))]
    if not positions:
        assert found is None
    else:
        assert found is not None
        assert (found.position, found.code_point) == (positions[0], ord(text[positions[0] - 1]))


@hypothesis_settings("pure")
@given(value=JSON_VALUES)
def test_any_record_is_walked_without_raising_naming_fields_without_refused_characters(
    value: object,
) -> None:
    for field, found in refused_characters_in(value, "record"):
        assert refused_character(field) is None
        assert refused_by_unicode(found.code_point)


def test_visible_writes_each_refused_character_as_its_escape_and_keeps_the_rest() -> None:
    assert visible("Acme\x1b[2J\u202edtL\x9b\U0010fffe") == "Acme\\x1b[2J\\u202edtL\\x9b\\U0010fffe"
    assert visible("line one\nline two\t", keep="\n") == "line one\nline two\\x09"
    assert visible("Zürich \u200d 東京 👩\u200d💻") == "Zürich \u200d 東京 👩\u200d💻"


@given(st.text(st.characters(codec=None, categories=None)))
def test_visible_text_holds_no_refused_character(text: str) -> None:
    assert refused_character(visible(text)) is None
