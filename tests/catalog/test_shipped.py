"""Every shipped catalog file loads and every reference between the files resolves; the catalog
every command decides under (`default_catalog`) checks the references it makes into the project
cycle's files itself, and the project catalog checks the account kinds its programme accounts
are found by."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from carbonex.catalog import CatalogError, default_catalog, load_catalog, shipped
from carbonex.catalog.loader import DATA_DIR
from carbonex.catalog.standards import load_catalog_with_references
from tests.catalog.support import LOADERS, assert_refused, edited

BUFFER_POOL_KIND = (
    'code = "buffer_pool"\ndescription = "Non-permanence risk buffer pool of a standard"\n'
    'markets = ["credit"]\nactions = ["issue_into", "send", "receive", "cancel", "expire", "hold"]'
)
ISSUANCE_ACTIONS = (
    'actions = ["issue_into", "send", "receive", "cancel", "expire", "hold", "convert"]'
)


def test_every_shipped_file_loads_and_every_reference_between_the_files_resolves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    read: set[str] = set()
    opened = Path.open

    def recording_open(path: Path, *args: Any, **kwargs: Any) -> Any:
        read.add(path.name)
        return opened(path, *args, **kwargs)

    monkeypatch.setattr(Path, "open", recording_open)
    for load in (*LOADERS.values(), load_catalog_with_references):
        load(DATA_DIR)
    assert read == {path.name for path in DATA_DIR.glob("*.toml")}


UNRESOLVED_CONVERSIONS = {
    "a standard standards.toml lacks": (
        'set_standard = "A6.4M"',
        'set_standard = "A6.4"',
        ("'CDM-TO-A6.4'", "'set_standard'", "'A6.4'"),
    ),
    "a label labels.toml lacks": (
        'add_labels = ["ICVCM-CCP"]',
        'add_labels = ["ICVCM-CPP"]',
        ("'VCU-CCP-LABEL'", "'add_labels'", "'ICVCM-CPP'"),
    ),
}


@pytest.mark.parametrize("case", UNRESOLVED_CONVERSIONS)
def test_a_conversion_writing_what_the_project_files_lack_is_refused_without_the_project_catalog(
    tmp_path: Path, case: str
) -> None:
    old, new, words = UNRESOLVED_CONVERSIONS[case]
    directory = edited(tmp_path, "conversions.toml", old, new)
    load_catalog(directory)  # a catalog a ledger kept is not held to today's project files
    with pytest.raises(CatalogError) as refused:
        load_catalog_with_references(directory)
    for word in ("conversions.toml", *words):
        assert word in str(refused.value)


@pytest.fixture
def fresh_default_catalog() -> Iterator[None]:
    default_catalog.cache_clear()
    yield
    default_catalog.cache_clear()


@pytest.mark.usefixtures("fresh_default_catalog")
def test_the_catalog_every_command_uses_refuses_a_conversion_naming_an_unknown_standard(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = edited(
        tmp_path, "conversions.toml", 'set_standard = "A6.4M"', 'set_standard = "A6.4"'
    )
    monkeypatch.setattr(shipped, "DATA_DIR", directory)
    with pytest.raises(CatalogError, match=r"conversions\.toml: conversion 'CDM-TO-A6\.4'"):
        default_catalog()


PROGRAMME_ACCOUNT_KINDS = {
    "a buffer pool that may not cancel what a reversal loses": (
        BUFFER_POOL_KIND,
        BUFFER_POOL_KIND.replace('"receive", "cancel"', '"receive"'),
        ("'buffer_pool' lacks the action(s) 'cancel'", "standard 'VCS'", "buffer pool"),
    ),
    "a buffer pool that may not hold credits": (
        BUFFER_POOL_KIND,
        BUFFER_POOL_KIND.replace('["credit"]', '["allowance"]'),
        ("'buffer_pool' may not hold credit units", "standard 'VCS'"),
    ),
    "no buffer pool at all": (
        f"[[account_kind]]\n{BUFFER_POOL_KIND}\n",
        "",
        ("'buffer_pool' is missing", "standard 'VCS'"),
    ),
    "an issuance account that may not send the proponent's share on": (
        ISSUANCE_ACTIONS,
        ISSUANCE_ACTIONS.replace('"send", ', ""),
        ("'issuance' lacks the action(s) 'send'", "issuance account"),
    ),
    "an issuance account that may not cancel the OMGE deduction": (
        ISSUANCE_ACTIONS,
        ISSUANCE_ACTIONS.replace('"cancel", ', ""),
        ("'issuance' lacks the action(s) 'cancel'", "standard 'A6.4M'"),
    ),
}


@pytest.mark.parametrize("case", PROGRAMME_ACCOUNT_KINDS)
def test_a_programme_account_kind_that_cannot_do_what_issuance_and_reversals_need_is_refused(
    tmp_path: Path, case: str
) -> None:
    old, new, words = PROGRAMME_ACCOUNT_KINDS[case]
    directory = edited(tmp_path, "account_kinds.toml", old, new)
    assert_refused("project", directory, "account_kinds.toml", *words)
