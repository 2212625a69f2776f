"""Crediting periods at the edges of what the ledger can issue: units carry vintage years
1900-2200 (ledger.limits), so a period reaching outside them is refused when it is first
recorded, with E_PERIOD_INVALID, and changes nothing, on both stores, through the registry and
the CLI; a period ending in the window's last year registers and renews. (The crediting rules'
own arithmetic at the calendar's end, past 9999, is tested on the pure functions in
test_lifecycle.py.)"""

from __future__ import annotations

import pytest

from carbonex.projects.registry import ProjectParticulars, ProjectRegistry
from tests.cli.helpers import EXIT_REFUSED, invoke
from tests.databases import every_table
from tests.projects.test_registry import ADMIN, DOC, PROPONENT, VVB, ok, registered, solar, step

# A6.4 avoidance: 1 to 5 years, renewable twice (15 years in all).
PAST_THE_WINDOW = [
    ("2198-06-01", "2201-06-01"),  # ends in 2201 (periods are half-open: 2201-01-01 would fit)
    ("9998-12-31", "9999-12-31"),  # the calendar's last year
    ("1899-06-01", "1901-06-01"),  # starts before 1900
]
LAST_YEARS = ("2196-12-31", "2199-12-31")


def validated(registry: ProjectRegistry, particulars: ProjectParticulars) -> str:
    project_id = particulars.project_id
    ok(registry.create(f"{project_id}/create", particulars, "pp"))
    ok(step(registry, f"{project_id}/list", project_id, "list", PROPONENT))
    ok(step(registry, f"{project_id}/validate", project_id, "validate", VVB))
    return project_id


@pytest.mark.parametrize("period", PAST_THE_WINDOW)
def test_registering_a_period_outside_the_vintage_window_is_refused_and_changes_nothing(
    registry: ProjectRegistry, database_url: str, period: tuple[str, str]
) -> None:
    project_id = validated(registry, solar())
    before = every_table(database_url)
    refused = step(registry, "r1", project_id, "register", ADMIN, period)
    assert refused.codes == ["E_PERIOD_INVALID"]
    assert "1900-2200" in refused.failures[0].message
    assert every_table(database_url) == before
    assert registry.project(project_id)["state"] == "validated"  # type: ignore[index]


def test_a_period_in_the_windows_last_years_registers_and_a_renewal_past_it_is_refused(
    registry: ProjectRegistry, database_url: str
) -> None:
    project_id = registered(registry, solar(), LAST_YEARS)
    assert registry.project(project_id)["state"] == "registered"  # type: ignore[index]
    before = every_table(database_url)
    refused = step(
        registry, "r1", project_id, "renew_crediting_period", ADMIN,
        ("2199-12-31", "2201-12-31"), documents=(),
    )  # fmt: skip
    assert refused.codes == ["E_PERIOD_INVALID"]
    assert every_table(database_url) == before
    renewal = step(
        registry, "r2", project_id, "renew_crediting_period", ADMIN,
        ("2199-12-31", "2201-01-01"), documents=(),
    )  # fmt: skip  # the last day of the window is the last day credited
    assert ok(renewal).state == "registered"
    assert registry.verify() == []


def test_the_cli_refuses_a_period_past_the_window_with_its_code(
    registry: ProjectRegistry, database_url: str
) -> None:
    project_id = validated(registry, solar())
    before = every_table(database_url)
    [(name, sha256)] = DOC
    result = invoke(
        "project", "act", project_id, "register", "--role", ADMIN, "--actor", "s",
        "--document-hash", f"{name}={sha256}", "--period", "..".join(PAST_THE_WINDOW[1]),
        "--db", database_url,
    )  # fmt: skip
    assert result.exit_code == EXIT_REFUSED
    assert "E_PERIOD_INVALID" in result.stdout
    assert every_table(database_url) == before
