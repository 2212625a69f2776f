"""Fixtures of the CLI tests (the shared `database_url` fixture runs each on both stores)."""

from __future__ import annotations

import pytest

from tests.cli.helpers import seed


@pytest.fixture
def seeded(database_url: str) -> str:
    """A database with accounts DEV, BUYER and RETIRE and 1,000 VCUs in DEV."""
    seed(database_url)
    return database_url
