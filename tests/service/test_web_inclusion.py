"""The public carbon-inclusion page: a person's points and an aggregation's contributors."""

from __future__ import annotations

import datetime as dt
import html
import re
from decimal import Decimal

from fastapi.testclient import TestClient

from carbonex.inclusion.results import Refusal
from carbonex.inclusion.service import InclusionRegistry
from carbonex.ledger import Ledger, OpenAccount
from carbonex.service.pages import explorer


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


def next_link(page: str) -> str | None:
    """The target of a page's first 'Next' link, unescaped."""
    found = re.search(r'<a href="([^"]+)"[^>]*>Next', page)
    return html.unescape(found.group(1)) if found else None


def every_page(public: TestClient, first: str) -> list[str]:
    pages, target = [], first
    while target is not None:
        answer = public.get(target)
        assert answer.status_code == 200, answer.text
        pages.append(answer.text)
        target = next_link(answer.text)
        assert len(pages) <= PAGES_MAX, "the pages never end"
    return pages


PAGES_MAX = 5
SHOWN = explorer.EXPLORER_PAGE_SIZE


def test_every_action_of_a_person_is_reached_page_by_page(
    public: TestClient, demo_database: str
) -> None:
    today = dt.date.today()
    actions = [f"trip-{number:03d}" for number in range(SHOWN + 1)]
    with Ledger.open(demo_database) as ledger:
        registry = InclusionRegistry(ledger)
        for number, action_id in enumerate(actions):
            day = today - dt.timedelta(days=number)
            registry.record(action_id, "p-7", "transit_trip_km", Decimal("1"), day)
    pages = every_page(public, "/explorer/inclusion?person=p-7")
    shown = [a for page in pages for a in re.findall(r'class="mono">(trip-\d+)<', page)]
    assert len(pages) == 2 and sorted(shown) == actions


def test_every_contributor_of_an_aggregation_is_reached_page_by_page(
    public: TestClient, demo_database: str
) -> None:
    people = [f"p-{number:03d}" for number in range(SHOWN + 1)]
    with Ledger.open(demo_database) as ledger:
        assert ledger.submit(OpenAccount("agg", "CITY-AGG", "company_holding", "Agg")).accepted
        registry = InclusionRegistry(ledger)
        for person_id in people:  # 30 points each: 51 people make a unit
            registry.record(f"ev-{person_id}", person_id, "ev_charging_kwh", Decimal("100"),
                            dt.date.today())  # fmt: skip
        registry.verify([f"ev-{person_id}" for person_id in people], verifier="city-app")
        aggregated = registry.aggregate(
            "agg-1", "CITY-AGG", dt.date(2020, 1, 1), dt.date(2100, 1, 1),
            project_id="CIP-SG-EV", host_country="SG",
        )  # fmt: skip
        assert not isinstance(aggregated, Refusal), aggregated
    pages = every_page(public, "/explorer/inclusion?aggregation=agg-1")
    shown = [p for page in pages for p in re.findall(r'class="mono">(p-\d+)<', page)]
    assert len(pages) == 2 and shown == people
