"""Fixtures of the project tests: a registry over a ledger with the programme accounts."""

from __future__ import annotations

import datetime as dt

import pytest

from carbonex.ledger import Ledger, OpenAccount
from carbonex.projects.registry import ProjectRegistry
from tests.conftest import FixedClock

PROJECT_TESTS_NOW = dt.datetime(2027, 7, 1, 12, 0, tzinfo=dt.UTC)
"""After the monitoring periods the tests report (2026 and the first half of 2027): a report
covers a period that has ended."""


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(PROJECT_TESTS_NOW)


@pytest.fixture
def registry(ledger: Ledger) -> ProjectRegistry:
    opened = ledger.submit_many(
        [
            OpenAccount("o1", "A64-ISSUANCE", "issuance", "A6.4 mechanism registry", "A64M"),
            OpenAccount("o2", "SOLAR-GH", "company_holding", "Solar Ghana Ltd", "A64M"),
            OpenAccount("o3", "ADAPTATION-FUND", "share_of_proceeds", "Adaptation Fund"),
            OpenAccount("o4", "OMGE", "omge_cancellation", "OMGE cancellation", "A64M"),
            OpenAccount("o5", "VERRA-ISSUANCE", "issuance", "Verra registry", "VERRA"),
            OpenAccount("o6", "VERRA-BUFFER", "buffer_pool", "AFOLU pooled buffer", "VERRA"),
            OpenAccount("o7", "FOREST-CO", "company_holding", "Forest Co", "VERRA"),
        ]
    )
    assert all(outcome.accepted for outcome in opened)
    return ProjectRegistry(ledger)
