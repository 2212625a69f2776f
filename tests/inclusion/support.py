"""Helpers of the carbon-inclusion tests: a registry with an aggregator account, and snapshots of
every table (the ledger's and inclusion's) to show that a refusal changed nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from carbonex.catalog.inclusion import default_inclusion_catalog
from carbonex.inclusion.results import Recorded
from carbonex.inclusion.service import InclusionRegistry
from carbonex.ledger import Ledger, OpenAccount
from tests.conftest import START
from tests.ledger.support import TABLES, table_rows

CATALOG = default_inclusion_catalog()
AGGREGATOR = "AGG-1"
TODAY = START.date()
YESTERDAY = TODAY - dt.timedelta(days=1)
FEBRUARY = (dt.date(2026, 2, 1), dt.date(2026, 3, 1))
INCLUSION_TABLES = {
    "inclusion_actions": "action_id",
    "inclusion_aggregations": "aggregation_id",
    "inclusion_contributions": "aggregation_id, person_id",
    "inclusion_balances": "person_id",
}
ELECTRICITY = "electricity_saved_kwh"
EV_CHARGING = "ev_charging_kwh"
EV_POINTS_MILLI_PER_KWH = 300
FEBRUARY_10 = dt.date(2026, 2, 10)


def open_aggregator(ledger: Ledger, account_id: str = AGGREGATOR) -> None:
    outcome = ledger.submit(
        OpenAccount(f"open-{account_id}", account_id, "company_holding", "Aggregator Ltd")
    )
    assert outcome.accepted, outcome


def every_table(ledger: Ledger) -> dict[str, list[tuple[Any, ...]]]:
    rows = {table: table_rows(ledger, table) for table in TABLES}
    for table, order in INCLUSION_TABLES.items():
        rows[table] = [
            tuple(row) for row in ledger.store.query(f"SELECT * FROM {table} ORDER BY {order}")
        ]
    return rows


def record(
    registry: InclusionRegistry,
    action_id: str,
    person_id: str,
    quantity: str,
    day: dt.date = FEBRUARY_10,
    action_type: str = ELECTRICITY,
) -> Recorded:
    result = registry.record(action_id, person_id, action_type, Decimal(quantity), day)
    assert isinstance(result, Recorded), result
    return result


def charged(
    registry: InclusionRegistry, kwh_by_person: dict[str, str], day: dt.date = FEBRUARY_10
) -> list[str]:
    """Verified EV-charging actions, one per person on `day` (0.3 points per kWh, at most 100 kWh
    a day: 30 points); returns their ids."""
    ids = []
    for person_id, kwh in kwh_by_person.items():
        action_id = f"ev-{person_id}-{day}"
        record(registry, action_id, person_id, kwh, day, EV_CHARGING)
        ids.append(action_id)
    verified = registry.verify(ids, "verifier-1")
    assert verified.accepted, verified
    return ids


def people(count: int, prefix: str = "P") -> list[str]:
    return [f"{prefix}{number:03d}" for number in range(count)]
