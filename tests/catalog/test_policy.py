"""The service policy loads with the source of every table's values; a table without one is
refused, as every other catalog file refuses a figure without its source."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from carbonex.service.policy import POLICY_FIELDS, load_policy
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
