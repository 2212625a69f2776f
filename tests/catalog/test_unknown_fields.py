"""Every catalog loader refuses a field it does not know, naming the file, the entry and the
field: a misspelt field would otherwise be dropped and its default silently used."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.catalog.support import LOADERS, assert_refused, edited, shipped_copy

MISSPELLINGS = {
    "a misspelt total of a crediting option": (
        "project",
        "standards.toml",
        "total_years_max = 100",
        "total_year_max = 100",
        ("standards.toml", "('VCS') crediting 3", "'total_year_max'"),
    ),
    "a stray rate on a buffer that withholds nothing": (
        "project",
        "standards.toml",
        'kind = "none"\nsource = "Decision 5/CMP.1',
        'kind = "none"\nrate = "0.5"\nsource = "Decision 5/CMP.1',
        ("standards.toml", "('CDM') buffer (kind none)", "'rate'"),
    ),
    "a risk-rated buffer's fixed rate": (
        "project",
        "standards.toml",
        'rate_min = "0.10"',
        'rate_min = "0.10"\nrate = "0.2"',
        ("standards.toml", "('VCS') buffer (kind risk_rating)", "'rate'"),
    ),
    "a misspelt standard field": (
        "project",
        "standards.toml",
        'serial_format = "verra"',
        'serial_format = "verra"\nserial_fromat = "x"',
        ("standards.toml", "('VCS')", "'serial_fromat'"),
    ),
    "a misspelt compliance-use field": (
        "project",
        "standards.toml",
        'limit_share = "0.05"',
        'limit_share = "0.05"\nlast_yaer = 2030',
        ("standards.toml", "('CCER') compliance_use 1", "'last_yaer'"),
    ),
    "a misspelt standard table": (
        "project",
        "standards.toml",
        None,
        '\n[[standrd]]\ncode = "X"\n',
        ("standards.toml", "top level", "'standrd'"),
    ),
    "a misspelt deduction field": (
        "project",
        "issuance_rules.toml",
        'rate = "0.02"\nrounding = "up"',
        'rate = "0.02"\nminimum_rate = "0.5"\nrounding = "up"',
        ("issuance_rules.toml", "('A6.4M') deduction 2", "'minimum_rate'"),
    ),
    "a stray programme field": (
        "project",
        "issuance_rules.toml",
        'standard = "CDM"',
        'standard = "CDM"\nexempt = ["LDC"]',
        ("issuance_rules.toml", "('CDM')", "'exempt'"),
    ),
    "a misspelt label field": (
        "project",
        "labels.toml",
        "goals = 17",
        "goal = 17",
        ("labels.toml", "('SDG')", "'goal'"),
    ),
    "a misspelt GWP report field": (
        "project",
        "gwp.toml",
        'horizon_years = 100\nsource = "IPCC AR5',
        'horizon_year = 100\nsource = "IPCC AR5',
        ("gwp.toml", "('AR5')", "'horizon_year'"),
    ),
    "a misspelt GWP setting": (
        "project",
        "gwp.toml",
        "default_source =",
        'defualt = "AR6"\ndefault_source =',
        ("gwp.toml", "top level", "'defualt'"),
    ),
    "a misspelt methodology field": (
        "project",
        "methodologies.toml",
        'sector = "Afforestation and reforestation"',
        'sectr = "Afforestation and reforestation"',
        ("methodologies.toml", "('AR-ACM0003')", "'sectr'"),
    ),
    "a misspelt action-type field": (
        "inclusion",
        "inclusion_factors.toml",
        'daily_cap = "50"',
        'daily_cap = "50"\nweekly_cap = "1"',
        ("inclusion_factors.toml", "('cycling_km')", "'weekly_cap'"),
    ),
    "a misspelt points setting": (
        "inclusion",
        "inclusion_factors.toml",
        "recording_window_days = 366",
        "recording_window_days = 366\nrecording_window_day = 1",
        ("inclusion_factors.toml", "[points]", "'recording_window_day'"),
    ),
    "a misspelt inclusion table": (
        "inclusion",
        "inclusion_factors.toml",
        None,
        '\n[[action_typ]]\ncode = "x"\n',
        ("inclusion_factors.toml", "top level", "'action_typ'"),
    ),
    "a misspelt policy setting": (
        "policy",
        "service_policy.toml",
        "lockout_minutes = 15",
        "lockout_minutes = 15\nlockout_minutess = 0",
        ("service_policy.toml", "[sign_in]", "'lockout_minutess'"),
    ),
    "a policy table the policy does not have": (
        "policy",
        "service_policy.toml",
        None,
        "\n[passwords]\nlength_min = 4\n",
        ("service_policy.toml", "top level", "'passwords'"),
    ),
    "a misspelt unit-type table": (
        "base",
        "unit_types.toml",
        None,
        '\n[[unit_typ]]\ncode = "X"\n',
        ("unit_types.toml", "top level", "'unit_typ'"),
    ),
    "a stray countries setting": (
        "base",
        "countries.toml",
        None,
        '\nextra = ["XK"]\n',
        ("countries.toml", "top level", "'extra'"),
    ),
}


@pytest.mark.parametrize("case", MISSPELLINGS)
def test_a_field_the_loader_does_not_know_is_refused_naming_file_entry_and_field(
    tmp_path: Path, case: str
) -> None:
    loader, file_name, old, new, words = MISSPELLINGS[case]
    assert_refused(loader, edited(tmp_path, file_name, old, new), "unknown field(s)", *words)


@pytest.mark.parametrize("loader", LOADERS)
def test_the_shipped_data_load_with_every_loader(tmp_path: Path, loader: str) -> None:
    LOADERS[loader](shipped_copy(tmp_path))
