"""The project-cycle catalog (standards, labels, GWPs, methodologies, issuance rules) loads with
every figure sourced, and a malformed file is refused with a CatalogError naming file and entry."""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from carbonex.catalog import CatalogError, default_catalog
from carbonex.catalog.loader import DATA_DIR
from carbonex.catalog.standards import default_project_catalog, load_project_catalog

REQUIRED_STANDARDS = {
    "VCS": "VCU",
    "GS": "GS-VER",
    "ACR": "ACR-ERT",
    "CAR": "CAR-CRT",
    "CDM": "CER",
    "JI": "ERU",
    "A6.4M": "A6.4ER",
    "CCER": "CCER",
    "J-CREDIT": "J-CREDIT",
}


def test_every_required_standard_is_there_with_an_existing_unit_type() -> None:
    catalog = default_project_catalog()
    unit_types = default_catalog().unit_types
    for code, unit_type in REQUIRED_STANDARDS.items():
        standard = catalog.standards[code]
        assert standard.unit_type == unit_type
        assert standard.unit_type in unit_types
        assert standard.source and standard.buffer.source and standard.serial_format


def test_every_figure_carries_a_source() -> None:
    catalog = default_project_catalog()
    for standard in catalog.standards.values():
        assert all(option.source for option in standard.crediting)
        assert all(use.source for use in standard.compliance_use)
    assert all(label.source for label in catalog.labels.values())
    assert all(report.source for report in catalog.gwp.reports.values())
    assert all(m.source for m in catalog.methodologies.values())
    assert all(m.defaults_source for m in catalog.methodologies.values() if m.defaults)
    assert all(d.source for rules in catalog.deductions.values() for d in rules)


def test_key_figures() -> None:
    catalog = default_project_catalog()
    a64 = {d.code: d for d in catalog.deductions["A6.4M"]}
    assert (a64["share_of_proceeds"].rate, a64["share_of_proceeds"].rounding) == (
        Decimal("0.05"),
        "down",
    )
    assert (a64["omge"].rate, a64["omge"].account_kind, a64["omge"].cancel) == (
        Decimal("0.02"),
        "omge_cancellation",
        True,
    )
    assert catalog.gwp.default == "AR5"
    assert catalog.gwp.gwp("CH4") == 28
    assert catalog.gwp.gwp("N2O", "AR4") == 298
    assert catalog.gwp.gwp("CH4", "AR6") == Decimal("27.0")
    ccer = catalog.standards["CCER"].compliance_use[0]
    assert (ccer.scheme, ccer.limit_share) == ("China national ETS", Decimal("0.05"))
    vcs = catalog.standards["VCS"]
    assert (vcs.buffer.rate_min, vcs.buffer.rate_max) == (Decimal("0.10"), Decimal("0.60"))
    renewable = vcs.crediting_options("avoidance")[0]
    assert (renewable.years_max, renewable.max_renewals, renewable.total_years_max) == (7, 2, 21)
    assert {"ICVCM-CCP", "CORSIA-PILOT", "CORSIA-FIRST", "CCB", "SDG-1", "SDG-17"} <= set(
        catalog.labels
    )
    assert (
        catalog.labels["CORSIA-FIRST"].first_year,
        catalog.labels["CORSIA-FIRST"].last_year,
    ) == (
        2024,
        2026,
    )
    assert {m: catalog.methodologies[m].calculator for m in ("ACM0001", "AR-ACM0003")} == {
        "ACM0001": "methane_destruction",
        "AR-ACM0003": "afforestation",
    }


BREAKAGES = [
    # (file, text to replace, replacement, words the error must contain)
    (
        "standards.toml",
        'unit_type = "VCU"',
        'unit_type = "NOPE"',
        ["standards.toml", "VCS", "NOPE"],
    ),
    ("standards.toml", 'rate_max = "0.60"', "rate_max = 0.6", ["standards.toml", "rate_max"]),
    ("standards.toml", 'rate_max = "0.60"', 'rate_max = "0.05"', ["rate_max", "below"]),
    ("standards.toml", "years_max = 7\n", "years_max = 3\n", ["VCS", "years_max"]),
    ("standards.toml", 'kind = "risk_rating"', 'kind = "magic"', ["VCS", "kind"]),
    ("labels.toml", 'kind = "quality"', 'kind = "shiny"', ["labels.toml", "ICVCM-CCP"]),
    ("labels.toml", "last_year = 2026", "last_year = 2020", ["CORSIA-FIRST", "last_year"]),
    ("gwp.toml", 'CH4 = "28"', 'CH4 = "-28"', ["gwp.toml", "AR5", "CH4"]),
    ("gwp.toml", 'default = "AR5"', 'default = "AR9"', ["gwp.toml", "AR9"]),
    ("methodologies.toml", 'calculator = "afforestation"', 'calculator = "x"', ["AR-ACM0003"]),
    (
        "methodologies.toml",
        'flare_efficiency_open = "0.50"',
        'flare_efficiency_open = "1.5"',
        ["ACM0001", "flare_efficiency_open"],
    ),
    ("issuance_rules.toml", 'rate = "0.05"', 'rate = "0.99"', ["A6.4M", "100%"]),
    (
        "issuance_rules.toml",
        'account_kind = "omge_cancellation"',
        'account_kind = "nowhere"',
        ["issuance_rules.toml", "nowhere"],
    ),
    ("issuance_rules.toml", "cancel = true", 'cancel = "yes"', ["cancel"]),
    ("gwp.toml", "[[report]]", "[[report", ["gwp.toml", "not valid TOML"]),
]


@pytest.mark.parametrize(("name", "old", "new", "words"), BREAKAGES)
def test_a_malformed_file_is_refused(
    tmp_path: Path, name: str, old: str, new: str, words: list[str]
) -> None:
    directory = tmp_path / "data"
    shutil.copytree(DATA_DIR, directory)
    path = directory / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    with pytest.raises(CatalogError) as refused:
        load_project_catalog(directory)
    for word in words:
        assert word in str(refused.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "data"
    shutil.copytree(DATA_DIR, directory)
    (directory / "standards.toml").unlink()
    with pytest.raises(CatalogError, match=r"standards\.toml: file not found"):
        load_project_catalog(directory)
