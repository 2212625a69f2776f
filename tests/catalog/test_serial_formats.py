"""A standard's `serial_format` names a serial layout Carbonex reads and writes (or says none is
encoded): the catalog's names and the importers' parsers are one list, and a name no code knows
is refused when standards.toml loads."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonex.catalog.standards import (
    SERIAL_FORMAT_NOT_ENCODED,
    SERIAL_FORMATS,
    default_project_catalog,
)
from carbonex.imports import serials
from tests.catalog.support import assert_refused, edited

FORMAT_OF_STANDARD = {"VCS": "verra", "GS": "gold_standard", "CDM": "cdm", "CCER": "ccer"}
"""The shipped standards whose serials the importers read, and their layouts."""


def _functions_of_serials(prefix: str) -> set[str]:
    return {name.removeprefix(prefix) for name in vars(serials) if name.startswith(prefix)}


def test_the_catalogs_serial_formats_are_exactly_those_the_importers_parse_and_format() -> None:
    assert _functions_of_serials("parse_") == SERIAL_FORMATS
    assert _functions_of_serials("format_") == SERIAL_FORMATS


def test_each_shipped_standard_names_its_serial_layout_or_says_none_is_encoded() -> None:
    standards = default_project_catalog().standards
    named = {code: standard.serial_format for code, standard in standards.items()}
    assert {code: named[code] for code in FORMAT_OF_STANDARD} == FORMAT_OF_STANDARD
    others = {named[code] for code in named.keys() - FORMAT_OF_STANDARD.keys()}
    assert others == {SERIAL_FORMAT_NOT_ENCODED}


@pytest.mark.parametrize("name", ["vera", "acr", "VERRA", "verra "])
def test_a_serial_format_no_code_reads_is_refused(tmp_path: Path, name: str) -> None:
    directory = edited(
        tmp_path, "standards.toml", 'serial_format = "verra"', f'serial_format = "{name}"'
    )
    assert_refused("project", directory, "standards.toml", "('VCS')", "'serial_format'", repr(name))
