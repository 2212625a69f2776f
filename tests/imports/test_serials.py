"""Serial parsers and formatters: real examples, malformed strings, and round trips."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from carbonex.imports.serials import (
    CcerSerial,
    CdmSerial,
    GoldStandardSerial,
    SerialFormatError,
    VerraSerial,
    format_ccer,
    format_cdm,
    format_gold_standard,
    format_verra,
    parse_ccer,
    parse_cdm,
    parse_gold_standard,
    parse_verra,
)

CURRENT = "16257-751880934-751881360-VCS-VCU-997-VER-SG-1-1736-01012021-31122021-0"
OLDER = "8157-461579453-461579783-VCU-008-MER-SG-3-1712-01012018-31122018-0"
GS = "GS1-1-IN-GS2446-16-2019-19573-1-100"
CDM_SINGLE = "IN-5-123456789-2-2-0-1234"
CDM_BLOCK = "IN-5-123456789-123456799-2-2-0-1234"
CCER = "CCER-000123-2023-1-1-5000"


def test_verra_current_layout_gives_its_fields() -> None:
    serial = parse_verra(CURRENT)
    assert (serial.batch, serial.first_serial, serial.last_serial) == (16257, 751880934, 751881360)
    assert serial.quantity == 427
    assert (serial.programme, serial.unit_type, serial.methodology_code) == ("VCS", "VCU", "997")
    assert (serial.origin, serial.country, serial.sectoral_scope) == ("VER", "SG", 1)
    assert serial.project_id == 1736
    assert serial.vintage_start == dt.date(2021, 1, 1)
    assert serial.vintage_end == dt.date(2021, 12, 31)


def test_verra_older_layout_has_no_programme_field() -> None:
    serial = parse_verra(OLDER)
    assert serial.programme is None
    assert (serial.first_serial, serial.last_serial, serial.origin) == (461579453, 461579783, "MER")
    assert (serial.methodology_code, serial.project_id) == ("008", 1712)


@pytest.mark.parametrize(
    ("text", "parse", "format_"),
    [
        (CURRENT, parse_verra, format_verra),
        (OLDER, parse_verra, format_verra),
        (GS, parse_gold_standard, format_gold_standard),
        (CDM_SINGLE, parse_cdm, format_cdm),
        (CDM_BLOCK, parse_cdm, format_cdm),
        (CCER, parse_ccer, format_ccer),
    ],
)
def test_examples_format_back_to_the_same_text(text: str, parse: object, format_: object) -> None:
    assert format_(parse(text)) == text  # type: ignore[operator]


def test_gold_standard_and_cdm_and_ccer_give_their_ranges() -> None:
    gs = parse_gold_standard(GS)
    assert (gs.project_id, gs.country, gs.vintage_year, gs.batch) == ("GS2446", "IN", 2019, 19573)
    assert (gs.first_serial, gs.last_serial) == (1, 100)
    single = parse_cdm(CDM_SINGLE)
    assert single.first_serial == single.last_serial == 123456789
    block = parse_cdm(CDM_BLOCK)
    assert (block.party, block.unit_type_code, block.project_id) == ("IN", 5, 1234)
    assert (block.first_serial, block.last_serial) == (123456789, 123456799)
    assert (parse_ccer(CCER).first_serial, parse_ccer(CCER).last_serial) == (1, 5000)


@pytest.mark.parametrize(
    ("parse", "text", "message"),
    [
        (parse_verra, "", "fields"),
        (parse_verra, CURRENT.replace("751880934", "75188x934"), "first serial"),
        (parse_verra, CURRENT.replace("751881360", "751880000"), "serial range"),
        (parse_verra, CURRENT.replace("01012021", "32012021"), "vintage start"),
        (parse_verra, CURRENT.replace("-SG-", "-Sing-"), "country"),
        (parse_verra, CURRENT + "-7", "fields"),
        (parse_gold_standard, GS.replace("GS2446", "X2446"), "project id"),
        (parse_cdm, "IN-5-1-2", "fields"),
        (parse_ccer, CCER.replace("CCER", "CER"), "must start"),
    ],
)
def test_malformed_serials_raise_a_value_error_naming_the_part(
    parse: object, text: str, message: str
) -> None:
    with pytest.raises(SerialFormatError, match=message) as raised:
        parse(text)  # type: ignore[operator]
    assert isinstance(raised.value, ValueError)


numbers = st.integers(min_value=0, max_value=10**9)
serial_ranges = st.tuples(
    st.integers(min_value=1, max_value=10**12), st.integers(min_value=0, max_value=10**6)
)
dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31))
codes = st.from_regex(r"[A-Z0-9]{1,4}", fullmatch=True)
countries = st.from_regex(r"[A-Z]{2}", fullmatch=True)


@given(
    numbers,
    serial_ranges,
    codes,
    codes,
    countries,
    numbers,
    numbers,
    dates,
    dates,
    numbers,
    st.sampled_from(["VCS", None]),
)
def test_verra_formatter_then_parser_round_trips(
    batch: int, span: tuple[int, int], method: str, origin: str, country: str, scope: int,
    project: int, day_a: dt.date, day_b: dt.date, flag: int, programme: str | None,
) -> None:  # fmt: skip
    start, end = sorted((day_a, day_b))
    first, extra = span
    serial = VerraSerial(
        batch, first, first + extra, "VCU", method, origin, country, scope, project, start, end,
        flag, programme,
    )  # fmt: skip
    assert parse_verra(format_verra(serial)) == serial


@given(
    st.integers(0, 99), countries, numbers, numbers, st.integers(1000, 9999), numbers, serial_ranges
)
def test_gold_standard_formatter_then_parser_round_trips(
    version: int, country: str, project: int, credit_type: int, year: int, batch: int,
    span: tuple[int, int],
) -> None:  # fmt: skip
    first, extra = span
    serial = GoldStandardSerial(
        f"GS1-{version}", country, f"GS{project}", credit_type, year, batch, first, first + extra
    )
    assert parse_gold_standard(format_gold_standard(serial)) == serial


@given(countries, numbers, serial_ranges, numbers, numbers, numbers, numbers)
def test_cdm_formatter_then_parser_round_trips(
    party: str, unit_code: int, span: tuple[int, int], original: int, applicable: int,
    lulucf: int, project: int,
) -> None:  # fmt: skip
    first, extra = span
    serial = CdmSerial(
        party, unit_code, first, first + extra, original, applicable, lulucf, project
    )
    assert parse_cdm(format_cdm(serial)) == serial


@given(
    st.from_regex(r"[0-9]{1,12}", fullmatch=True), st.integers(1000, 9999), numbers, serial_ranges
)
def test_ccer_formatter_then_parser_round_trips(
    project: str, year: int, batch: int, span: tuple[int, int]
) -> None:
    first, extra = span
    serial = CcerSerial(project, year, batch, first, first + extra)
    assert parse_ccer(format_ccer(serial)) == serial


HOSTILE_LENGTH = 100_000
MESSAGE_LENGTH_MAX = 400
"""A message quoting a serial twice, each shortened to 80 characters, plus its own words."""


@pytest.mark.parametrize(
    ("text", "parse"),
    [
        (CURRENT.replace("-VCS-", "-" + "z" * HOSTILE_LENGTH + "-"), parse_verra),
        (CURRENT.replace("-751880934-", "-" + "7" * HOSTILE_LENGTH + "-"), parse_verra),
        (CURRENT + "-" * HOSTILE_LENGTH, parse_verra),
        (GS.replace("-IN-", "-" + "i" * HOSTILE_LENGTH + "-"), parse_gold_standard),
        ("CCER" + "x" * HOSTILE_LENGTH + "-1-2023-1-1-5", parse_ccer),
    ],
    ids=["programme", "first serial", "fields", "country", "prefix"],
)
def test_a_hostile_serial_of_any_length_gives_a_short_message(text: str, parse: object) -> None:
    with pytest.raises(SerialFormatError) as raised:
        parse(text)  # type: ignore[operator]
    assert len(str(raised.value)) < MESSAGE_LENGTH_MAX
    assert "…" in str(raised.value)
