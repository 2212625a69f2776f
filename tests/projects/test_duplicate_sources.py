"""Footprints read from a store (ledger issuances, registered projects and monitoring reports),
on SQLite and PostgreSQL, and the double-issuance candidates they make."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from carbonex.imports import import_gold_standard, import_verra
from carbonex.ledger import Issue, Ledger, OpenAccount, UnitAttributes
from carbonex.projects.duplicate_sources import (
    PROJECTS_SOURCE,
    cross_references,
    load_footprints,
    period_of,
    registry_of,
)
from carbonex.projects.duplicates import (
    Period,
    PeriodKind,
    ProjectFootprint,
    Reason,
    find_candidate_duplicates,
)
from carbonex.store import open_store

D = dt.date
VERRA_HEADER = (
    "Issuance Date,Sustainable Development Goals,Vintage Start,Vintage End,ID,Name,Country/Area,"
    "Project Type,Methodology,Quantity Issued,Serial Number,Additional Certifications,"
    "Retirement/Cancellation Date,Retirement Beneficiary,Retirement Reason,Retirement Details"
)
VERRA_ROWS = (
    "2022-03-01,,2021-01-01,2021-12-31,2001,Kutch Wind Farm,India,Energy industries,ACM0002,100,"
    "9001-1001-1100-VCS-VCU-262-VER-IN-1-2001-01012021-31122021-0,,,,,",
    "2023-03-01,,2022-01-01,2022-12-31,2001,Kutch Wind Farm,India,Energy industries,ACM0002,50,"
    "9002-2001-2050-VCS-VCU-262-VER-IN-1-2001-01012022-31122022-0,,2023-05-01,Buyer,,",
)
GOLD_STANDARD = (
    "GSID,Project Name,Country,Quantity,Vintage,Methodology\n"
    "5001,Kutch Windfarm,India,300,2021,CDM ACM0002 v20\n"
)
YEAR_2021 = Period(D(2021, 1, 1), D(2022, 1, 1))
YEAR_2022 = Period(D(2022, 1, 1), D(2023, 1, 1))
INSERT_PROJECT = (
    "INSERT INTO projects (project_id, standard, category, name, host_country, methodology, "
    "location, proponent_account_id, other_registrations, state, last_event_seq) "
    "VALUES (?, 'VCS', 'avoidance', ?, 'IN', 'ACM0002', ?, 'DEV', ?, 'registered', 1)"
)
INSERT_REPORT = (
    "INSERT INTO monitoring_reports (event_seq, project_id, period_start, period_end, claimed_t, "
    "status) VALUES (?, ?, ?, ?, 100, 'submitted')"
)


def import_both(ledger: Ledger, tmp_path: Path) -> None:
    """A Verra and a Gold Standard export describing the same wind farm in Kutch."""
    verra = tmp_path / "verra.csv"
    verra.write_text("\n".join((VERRA_HEADER, *VERRA_ROWS)) + "\n", encoding="utf-8")
    gold = tmp_path / "gold.csv"
    gold.write_text(GOLD_STANDARD, encoding="utf-8")
    assert import_verra(ledger, verra).ok
    assert import_gold_standard(ledger, gold).ok


def write_sql(database_url: str, statements: Sequence[tuple[str, Sequence[Any]]]) -> None:
    """Rows written straight into the tables, as the projects service will write them."""
    store = open_store(database_url)
    try:
        store.begin_write()
        for statement, params in statements:
            store.execute(statement, params)
        store.commit()
    finally:
        store.rollback()
        store.close()


def register_kutch(database_url: str, registrations: str = '["GS:5001"]') -> None:
    """The Verra project registered here, citing its Gold Standard id, monitored for 2021."""
    write_sql(
        database_url,
        [
            (
                INSERT_PROJECT,
                ("VCS-2001", "Kutch Wind Power Project", "23.25,69.67", registrations),
            ),
            (INSERT_REPORT, (2, "VCS-2001", "2021-01-01", "2022-01-01")),
        ],
    )


def by_key(footprints: Sequence[ProjectFootprint]) -> dict[tuple[str, str], ProjectFootprint]:
    return {(footprint.source, footprint.project_id): footprint for footprint in footprints}


def test_ledger_issuances_become_one_footprint_per_registry_and_project(
    ledger: Ledger, tmp_path: Path
) -> None:
    import_both(ledger, tmp_path)
    found = by_key(load_footprints(ledger.store).footprints)
    verra = found["VERRA", "VCS-2001"]
    assert (verra.host_country, verra.methodology) == ("IN", "ACM0002")
    assert verra.periods == (YEAR_2021, YEAR_2022)  # the ledger's last day + 1: exclusive ends
    gold = found["GS", "GS5001"]
    assert (gold.methodology, gold.periods) == ("CDM ACM0002 v20", (YEAR_2021,))


def test_two_imports_alone_make_no_candidate_since_the_ledger_keeps_no_names_or_places(
    ledger: Ledger, tmp_path: Path
) -> None:
    import_both(ledger, tmp_path)
    assert find_candidate_duplicates(load_footprints(ledger.store).footprints) == []


def test_a_registered_project_citing_the_gold_standard_id_links_both_imports(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    import_both(ledger, tmp_path)
    register_kutch(database_url)
    load = load_footprints(ledger.store)
    assert load.problems == []
    [candidate] = find_candidate_duplicates(load.footprints)
    pair = (candidate.first.source, candidate.first.project_id, candidate.second.project_id)
    assert pair == (PROJECTS_SOURCE, "VCS-2001", "GS5001")
    assert candidate.reasons == (
        Reason.CROSS_REFERENCE,
        Reason.SAME_METHOD,
        Reason.SAME_HOST_COUNTRY,
        Reason.OVERLAPPING_PERIOD,
    )
    assert [(o.first.kind, o.second.kind, o.start, o.end) for o in candidate.overlaps] == [
        (PeriodKind.MONITORING, PeriodKind.VINTAGE, D(2021, 1, 1), D(2022, 1, 1)),
        (PeriodKind.VINTAGE, PeriodKind.VINTAGE, D(2021, 1, 1), D(2022, 1, 1)),
    ]


def test_a_project_registered_twice_here_under_two_standards_is_a_candidate(
    ledger: Ledger, database_url: str
) -> None:
    register_kutch(database_url, registrations="[]")
    write_sql(
        database_url,
        [
            (INSERT_PROJECT, ("GS-7001", "Kutch Wind Power Project", "23.25,69.67", "[]")),
            (INSERT_REPORT, (3, "GS-7001", "2021-06-01", "2022-06-01")),
        ],
    )
    [candidate] = find_candidate_duplicates(load_footprints(ledger.store).footprints)
    pair = {candidate.first.project_id, candidate.second.project_id}
    assert pair == {"VCS-2001", "GS-7001"}
    assert Reason.SAME_NAME in candidate.reasons


def test_the_ledger_units_of_a_registered_project_join_its_footprint(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    import_both(ledger, tmp_path)
    register_kutch(database_url)
    found = by_key(load_footprints(ledger.store).footprints)
    assert set(found) == {(PROJECTS_SOURCE, "VCS-2001"), ("GS", "GS5001")}
    registered = found[PROJECTS_SOURCE, "VCS-2001"]
    assert (registered.name, registered.location, registered.cross_references) == (
        "Kutch Wind Power Project",
        "23.25,69.67",
        ("GS:5001",),
    )
    monitored = Period(D(2021, 1, 1), D(2022, 1, 1), PeriodKind.MONITORING)
    assert registered.periods == (monitored, YEAR_2021, YEAR_2022)


def test_a_project_issued_here_is_not_a_duplicate_of_its_own_units(
    ledger: Ledger, database_url: str
) -> None:
    vintage = UnitAttributes("VCU", "VCS", "CX-1", D(2021, 1, 1), D(2021, 12, 31), "IN", "ACM0002")
    outcomes = ledger.submit_many(
        [
            OpenAccount("open", "DEV", "company_holding", "Developer"),
            Issue("issue", "DEV", 1_000, vintage),
        ]
    )
    assert all(outcome.accepted for outcome in outcomes)
    write_sql(
        database_url,
        [
            (INSERT_PROJECT, ("CX-1", "Kutch Wind Farm", "23.25,69.67", "[]")),
            (INSERT_REPORT, (2, "CX-1", "2021-01-01", "2022-01-01")),
        ],
    )
    footprints = load_footprints(ledger.store).footprints
    assert [(f.source, f.project_id, len(f.periods)) for f in footprints] == [
        (PROJECTS_SOURCE, "CX-1", 2)
    ]
    assert find_candidate_duplicates(footprints) == []


def test_a_rejected_monitoring_report_claims_no_period(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    import_both(ledger, tmp_path)
    write_sql(
        database_url,
        [
            (INSERT_PROJECT, ("CX-9", "Kutch Wind Farm", "23.25,69.67", '["GS:5001"]')),
            (INSERT_REPORT, (3, "CX-9", "2021-01-01", "2022-01-01")),
            ("UPDATE monitoring_reports SET status = 'rejected' WHERE event_seq = 3", ()),
        ],
    )
    registered = by_key(load_footprints(ledger.store).footprints)[PROJECTS_SOURCE, "CX-9"]
    assert registered.periods == ()


def test_monitoring_periods_that_do_not_overlap_make_no_candidate(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    import_both(ledger, tmp_path)
    write_sql(
        database_url,
        [
            (INSERT_PROJECT, ("CX-9", "Kutch Wind Farm", "23.25,69.67", '["GS:5001"]')),
            (INSERT_REPORT, (3, "CX-9", "2023-01-01", "2024-01-01")),
        ],
    )
    assert find_candidate_duplicates(load_footprints(ledger.store).footprints) == []


def test_paging_through_small_pages_reads_the_same_footprints(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    import_both(ledger, tmp_path)
    register_kutch(database_url)
    write_sql(
        database_url,
        [
            (INSERT_PROJECT, ("CX-1", "Other", "", "[]")),
            (INSERT_REPORT, (4, "CX-1", "2020-01-01", "2021-01-01")),
            (INSERT_REPORT, (5, "CX-1", "2021-01-01", "2022-01-01")),
            (INSERT_REPORT, (6, "VCS-2001", "2022-01-01", "2023-01-01")),
        ],
    )
    whole = load_footprints(ledger.store).footprints
    assert load_footprints(ledger.store, page_rows=1).footprints == whole
    assert len(by_key(whole)[PROJECTS_SOURCE, "VCS-2001"].periods) == 4  # 2 monitored, 2 issued
    assert len(by_key(whole)[PROJECTS_SOURCE, "CX-1"].periods) == 2


def test_unreadable_rows_are_skipped_and_named(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    import_both(ledger, tmp_path)
    register_kutch(database_url, registrations="CDM 1234, not JSON")
    write_sql(database_url, [(INSERT_REPORT, (7, "VCS-2001", "2021-06-01", "2021-01-01"))])
    load = load_footprints(ledger.store)
    assert load.problems == [
        "project VCS-2001: other_registrations is not a JSON list of ids",
        "monitoring report 7 of project VCS-2001: 2021-06-01..2021-01-01 is not a period",
    ]
    assert by_key(load.footprints)[PROJECTS_SOURCE, "VCS-2001"].cross_references == ()


def test_without_the_projects_tables_only_the_ledger_is_read(
    ledger: Ledger, database_url: str, tmp_path: Path
) -> None:
    import_both(ledger, tmp_path)
    write_sql(database_url, [("DROP TABLE monitoring_reports", ()), ("DROP TABLE projects", ())])
    sources = {footprint.source for footprint in load_footprints(ledger.store).footprints}
    assert sources == {"VERRA", "GS"}


@pytest.mark.parametrize(
    ("space", "standard", "registry"),
    [
        ("VERRA/VCU", "Verra VCS", "VERRA"),
        ("GS/GS-VER", "Gold Standard", "GS"),
        ("X", "CDM", "CDM"),
    ],
)
def test_the_registry_is_the_serial_space_prefix(space: str, standard: str, registry: str) -> None:
    assert registry_of(space, standard) == registry


@pytest.mark.parametrize(
    ("text", "references"),
    [
        ('["CDM:1234", "GS2446"]', ("CDM:1234", "GS2446")),
        ("", ()),
        ("[]", ()),
        ('{"CDM": "1234"}', None),
        ("[1234]", None),
        ("CDM:1234", None),
    ],
)
def test_other_registrations_are_a_json_list_of_ids(
    text: str, references: tuple[str, ...] | None
) -> None:
    assert cross_references(text) == references


def test_a_ledger_vintage_ends_on_its_last_day_and_a_period_the_day_after() -> None:
    vintage = period_of("2021-01-01", "2021-12-31", PeriodKind.VINTAGE, end_inclusive=True)
    assert vintage == YEAR_2021
    assert period_of("2021-01-01", "2021-13-01", PeriodKind.VINTAGE, end_inclusive=True) is None
    assert period_of("2021-01-01", "2021-01-01", PeriodKind.MONITORING, end_inclusive=False) is None
