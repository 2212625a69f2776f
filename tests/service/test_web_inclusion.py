"""The public carbon-inclusion page: a person's points and an aggregation's contributors."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from fastapi.testclient import TestClient

from carbonex.inclusion.service import InclusionRegistry
from carbonex.ledger import Ledger


def test_anyone_sees_a_persons_points_and_actions(public: TestClient, demo_database: str) -> None:
    with Ledger.open(demo_database) as ledger:
        registry = InclusionRegistry(ledger)
        registry.record("bus-1", "p-042", "transit_trip_km", Decimal("12.5"), dt.date.today())
    page = public.get("/explorer/inclusion", params={"person": "p-042"})
    assert page.status_code == 200
    assert "bus-1" in page.text and "transit_trip_km" in page.text


def test_an_unknown_aggregation_is_a_404_page(public: TestClient) -> None:
    page = public.get("/explorer/inclusion", params={"aggregation": "<script>nope"})
    assert page.status_code == 404
    assert "<script>nope" not in page.text and "&lt;script&gt;nope" in page.text


def test_the_empty_form_renders(public: TestClient) -> None:
    assert public.get("/explorer/inclusion").status_code == 200
