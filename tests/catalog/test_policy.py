"""The service policy loads with the source of every table's values; a table without one is
refused, as every other catalog file refuses a figure without its source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from carbonex.service.policy import POLICY_FIELDS, SETTING_RANGES, load_policy
from tests.catalog.support import assert_refused, edited, shipped_copy


def test_the_shipped_policy_names_the_source_of_every_table() -> None:
    policy = load_policy()
    assert set(policy.sources) == set(POLICY_FIELDS)
    assert all(source.strip() for source in policy.sources.values())


@pytest.mark.parametrize("table", POLICY_FIELDS)
def test_a_policy_table_without_its_source_is_refused(tmp_path: Path, table: str) -> None:
    directory = shipped_copy(tmp_path)
    path = directory / "service_policy.toml"
    text = path.read_text(encoding="utf-8")
    section = re.search(rf"\[{table}\][^\[]*", text)
    assert section is not None
    without = re.sub(r"\nsource = [^\n]*", "", section.group(0))
    path.write_text(text.replace(section.group(0), without), encoding="utf-8")
    assert_refused("policy", directory, "service_policy.toml", f"[{table}]", "'source'")


def test_a_policy_with_an_empty_source_is_refused(tmp_path: Path) -> None:
    directory = edited(
        tmp_path,
        "service_policy.toml",
        'source = "Carbonex default: one working day."',
        'source = " "',
    )
    assert_refused("policy", directory, "[sessions]", "'source'")


def test_a_policy_missing_a_table_is_refused(tmp_path: Path) -> None:
    directory = shipped_copy(tmp_path)
    path = directory / "service_policy.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(re.sub(r"\[sessions\][^\[]*", "", text), encoding="utf-8")
    assert_refused("policy", directory, "service_policy.toml: [sessions]", "required")


SHIPPED_NUMBERS = {
    "transfer_quantity_min": "transfer_quantity_min = 10000",
    "lifetime_minutes": "lifetime_minutes = 480",
    "failures_max": "failures_max = 5",
    "lockout_minutes": "lockout_minutes = 15",
}
"""Each number of the shipped policy as service_policy.toml writes it."""

OUT_OF_RANGE = [
    # (setting, value written, words the refusal must contain)
    ("transfer_quantity_min", "0", ("[four_eyes] transfer_quantity_min", "from 1 to 1,000,")),
    (
        "transfer_quantity_min",
        str(10**15 + 1),
        ("[four_eyes] transfer_quantity_min", str(10**15 + 1)),
    ),
    ("lifetime_minutes", "1441", ("[sessions] lifetime_minutes", "from 1 to 1,440", "not 1441")),
    ("lifetime_minutes", str(10**12), ("[sessions] lifetime_minutes", "from 1 to 1,440")),
    ("failures_max", "101", ("[sign_in] failures_max", "from 1 to 100", "not 101")),
    ("lockout_minutes", "1441", ("[sign_in] lockout_minutes", "from 1 to 1,440", "not 1441")),
    ("lockout_minutes", '"15"', ("[sign_in] lockout_minutes", "whole number", "not '15'")),
]


@pytest.mark.parametrize(("setting", "value", "words"), OUT_OF_RANGE)
def test_a_policy_number_outside_its_range_is_refused_naming_the_setting_and_the_range(
    tmp_path: Path, setting: str, value: str, words: tuple[str, ...]
) -> None:
    directory = edited(
        tmp_path, "service_policy.toml", SHIPPED_NUMBERS[setting], f"{setting} = {value}"
    )
    assert_refused("policy", directory, "service_policy.toml", *words)


def test_a_policy_at_the_top_of_every_range_loads(tmp_path: Path) -> None:
    directory = shipped_copy(tmp_path)
    path = directory / "service_policy.toml"
    text = path.read_text(encoding="utf-8")
    for (_table, setting), (_low, high) in SETTING_RANGES.items():
        text = text.replace(SHIPPED_NUMBERS[setting], f"{setting} = {high}")
    path.write_text(text, encoding="utf-8")
    policy = load_policy(directory)
    assert (
        policy.four_eyes_transfer_quantity_min,
        policy.session_lifetime_minutes,
        policy.sign_in_failures_max,
        policy.sign_in_lockout_minutes,
    ) == (10**15, 1440, 100, 1440)
