"""Carbon-inclusion points become tonne-denominated credits of the carbon-inclusion programme:
an allowance, another programme's credits or a type not counted in tonnes is refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonex.catalog import default_catalog
from carbonex.catalog.inclusion import default_inclusion_catalog
from tests.catalog.support import assert_refused, edited


def test_the_shipped_points_become_credits_of_the_carbon_inclusion_programme() -> None:
    catalog = default_inclusion_catalog()
    unit_type = default_catalog().unit_types[catalog.unit_type]
    assert (unit_type.market, unit_type.programme) == ("credit", catalog.standard)


@pytest.mark.parametrize(
    ("unit_type", "words"),
    [
        ("EUA", ("market 'allowance'", "'EU ETS'")),
        ("VCU", ("market 'credit'", "'Verra VCS'")),
        ("CIP", ("not counted in tCO2e",)),
    ],
)
def test_points_becoming_units_of_another_kind_are_refused(
    tmp_path: Path, unit_type: str, words: tuple[str, ...]
) -> None:
    directory = edited(
        tmp_path, "inclusion_factors.toml", 'unit_type = "CIER"', f'unit_type = "{unit_type}"'
    )
    assert_refused("inclusion", directory, "inclusion_factors.toml: [points]", *words)


def test_points_of_a_standard_that_issues_no_such_unit_type_are_refused(tmp_path: Path) -> None:
    directory = edited(
        tmp_path,
        "inclusion_factors.toml",
        'standard = "Carbon inclusion"',
        'standard = "Guangdong PHCER"',
    )
    assert_refused("inclusion", directory, "'CIER'", "'Guangdong PHCER'")
