"""Crediting periods at the end of the calendar (a date holds years 1 to 9999): a rule's limit
that falls past 9999-12-31 is judged by what it means, never by a crash, on both stores, through
the registry and the CLI."""

from __future__ import annotations

from carbonex.projects.registry import ProjectParticulars, ProjectRegistry
from tests.cli.helpers import EXIT_REFUSED, invoke
from tests.databases import every_table
from tests.projects.test_registry import ADMIN, DOC, PROPONENT, VVB, ok, registered, solar, step

# A6.4 avoidance: 1 to 5 years, renewable twice (15 years in all). 9999-01-01..9999-12-31 is a
# day short of one year; five years after any 9998 date is past the calendar's last day.
LAST_YEAR = ("9999-01-01", "9999-12-31")
ONE_YEAR_TO_THE_END = ("9998-12-31", "9999-12-31")


def validated(registry: ProjectRegistry, particulars: ProjectParticulars) -> str:
    project_id = particulars.project_id
    ok(registry.create(f"{project_id}/create", particulars, "pp"))
    ok(step(registry, f"{project_id}/list", project_id, "list", PROPONENT))
    ok(step(registry, f"{project_id}/validate", project_id, "validate", VVB))
    return project_id


def test_registering_the_calendars_last_year_is_refused_as_too_short_and_changes_nothing(
    registry: ProjectRegistry, database_url: str
) -> None:
    project_id = validated(registry, solar())
    before = every_table(database_url)
    refused = step(registry, "r1", project_id, "register", ADMIN, LAST_YEAR)
    assert refused.codes == ["E_CREDITING_PERIOD_LENGTH_NOT_ALLOWED"]
    assert every_table(database_url) == before
    assert registry.project(project_id)["state"] == "validated"  # type: ignore[index]


def test_a_period_whose_longest_allowed_end_is_past_the_calendar_registers(
    registry: ProjectRegistry,
) -> None:
    project_id = validated(registry, solar())
    registered = ok(step(registry, "r1", project_id, "register", ADMIN, ONE_YEAR_TO_THE_END))
    assert registered.state == "registered"
    assert registry.verify() == []


def test_renewing_into_the_calendars_last_year_is_refused_as_too_short_and_changes_nothing(
    registry: ProjectRegistry, database_url: str
) -> None:
    project_id = registered(registry, solar(), ("9998-01-01", "9999-01-01"))
    before = every_table(database_url)
    refused = step(
        registry, "r1", project_id, "renew_crediting_period", ADMIN, LAST_YEAR, documents=()
    )
    assert refused.codes == ["E_CREDITING_PERIOD_LENGTH_NOT_ALLOWED"]
    assert every_table(database_url) == before


def test_a_renewal_whose_total_limit_is_past_the_calendar_is_accepted(
    registry: ProjectRegistry,
) -> None:
    project_id = registered(registry, solar(), ("9997-12-31", "9998-12-31"))
    renewal = step(
        registry, "r1", project_id, "renew_crediting_period", ADMIN, ONE_YEAR_TO_THE_END,
        documents=(),
    )  # fmt: skip
    assert ok(renewal).state == "registered"
    assert registry.verify() == []


def test_the_cli_refuses_registering_the_calendars_last_year_with_its_code(
    registry: ProjectRegistry, database_url: str
) -> None:
    project_id = validated(registry, solar())
    before = every_table(database_url)
    [(name, sha256)] = DOC
    result = invoke(
        "project", "act", project_id, "register", "--role", ADMIN, "--actor", "s",
        "--document-hash", f"{name}={sha256}", "--period", "..".join(LAST_YEAR),
        "--db", database_url,
    )  # fmt: skip
    assert result.exit_code == EXIT_REFUSED
    assert "E_CREDITING_PERIOD_LENGTH_NOT_ALLOWED" in result.stdout
    assert every_table(database_url) == before
