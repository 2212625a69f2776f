"""Cross-registry double-issuance candidates: every reason, the negatives, the rule, blocking,
and properties (input order does not matter, pairs are symmetric, blocking = all pairs)."""

from __future__ import annotations

import datetime as dt
import itertools
import math
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonex.projects.duplicates import (
    LOCATION_DISTANCE_MAX_KM,
    Candidate,
    Coordinates,
    Period,
    PeriodKind,
    ProjectFootprint,
    Reason,
    assess_pair,
    canonical_source,
    distance_km,
    find_candidate_duplicates,
    is_candidate,
    method_families,
    name_key,
    qualified_id,
    qualified_reference,
    scan_footprints,
)

D = dt.date
YEAR_2021 = (Period(D(2021, 1, 1), D(2022, 1, 1)),)
YEAR_2020 = (Period(D(2020, 1, 1), D(2021, 1, 1)),)
KUTCH = "23.2500,69.6700"
KUTCH_2_KM_AWAY = "23.2650,69.6800"
KUTCH_50_KM_AWAY = "23.7000,69.6700"


def footprint(
    source: str, project_id: str, periods: tuple[Period, ...] = YEAR_2021, **fields: str
) -> ProjectFootprint:
    references = tuple(fields.pop("cites", "").split("|")) if "cites" in fields else ()
    return ProjectFootprint(
        source, project_id, cross_references=references, periods=periods, **fields
    )


def site(source: str, project_id: str, **fields: str) -> ProjectFootprint:
    """A wind farm in Kutch, India, under ACM0002, unless `fields` say otherwise."""
    values = {"host_country": "IN", "methodology": "ACM0002", "location": KUTCH} | fields
    return footprint(source, project_id, **values)


def reasons(a: ProjectFootprint, b: ProjectFootprint) -> tuple[Reason, ...]:
    candidate = assess_pair(a, b)
    return candidate.reasons if candidate is not None else ()


# -- each reason -------------------------------------------------------------------------------


def test_a_verra_project_citing_its_cdm_id_is_a_candidate() -> None:
    verra = footprint("VERRA", "VCS-1736", cites="CDM 1234")
    cdm = footprint("CDM", "1234")
    assert reasons(verra, cdm) == (Reason.CROSS_REFERENCE, Reason.OVERLAPPING_PERIOD)


@pytest.mark.parametrize("citation", ["CDM:1234", "cdm-01234", "UNFCCC #1234", "CDM1234"])
def test_a_citation_names_the_cdm_project_however_it_is_written(citation: str) -> None:
    assert qualified_reference(citation) == qualified_id("CDM", "1234") == "CDM:1234"


@pytest.mark.parametrize("citation", ["A6.4M-0042", "Article 6.4 mechanism 42", "A64M:42"])
def test_a_citation_names_the_a64_activity_however_it_is_written(citation: str) -> None:
    assert qualified_reference(citation) == qualified_id("A64M", "42")


def test_a_cdm_record_citing_the_verra_id_is_a_candidate_too() -> None:
    cdm = footprint("CDM", "1234", cites="Verra VCS 1736")
    verra = footprint("VCS", "VCS-1736")
    assert Reason.CROSS_REFERENCE in reasons(cdm, verra)


def test_two_records_citing_the_same_third_id_share_a_reference() -> None:
    verra = footprint("VERRA", "VCS-1736", cites="CDM:1234")
    gold = footprint("GS", "GS2446", cites="CDM-1234")
    assert reasons(verra, gold) == (Reason.SHARED_REFERENCE, Reason.OVERLAPPING_PERIOD)


def test_a_bare_number_citation_names_no_registry_and_matches_nothing() -> None:
    verra = footprint("VERRA", "VCS-1736", cites="1234")
    assert qualified_reference("1234") is None
    assert assess_pair(verra, footprint("CDM", "1234")) is None


def test_the_same_name_spelled_differently_is_a_candidate() -> None:
    verra = footprint("VERRA", "VCS-1736", name="Kutch Wind Farm")
    gold = footprint("Gold Standard", "GS2446", name="KUTCH windfarm project")
    assert reasons(verra, gold) == (Reason.SAME_NAME, Reason.OVERLAPPING_PERIOD)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("Kutch Wind Power Project", "kutch wind"),
        ("Kutch wind-park, Phase II", "kutch wind phase ii"),
        ("Café Zürich Solar Park", "cafe zurich solar"),
        ("Cafe Zurich solar PV plant", "cafe zurich solar"),
    ],
)
def test_names_are_normalized_by_case_accents_punctuation_and_generic_words(
    name: str, key: str
) -> None:
    assert name_key(name) == key


def test_a_generic_name_matches_nothing() -> None:
    assert name_key("Wind Power Project") == ""
    verra = footprint("VERRA", "VCS-1", name="Wind Power Project")
    assert assess_pair(verra, footprint("GS", "GS2", name="Wind Farm")) is None


def test_same_site_method_and_country_is_a_candidate() -> None:
    verra = site("VERRA", "VCS-1736")
    cdm = site("CDM", "1234", methodology="CDM ACM0002 v20", location=KUTCH_2_KM_AWAY)
    assert reasons(verra, cdm) == (
        Reason.SAME_LOCATION,
        Reason.SAME_METHOD,
        Reason.SAME_HOST_COUNTRY,
        Reason.OVERLAPPING_PERIOD,
    )


def test_the_same_location_text_matches_after_normalization() -> None:
    verra = site("VERRA", "VCS-1736", location="Kutch, Gujarat")
    gold = site("GS", "GS2446", location="  KUTCH gujarat ")
    assert Reason.SAME_LOCATION in reasons(verra, gold)


def test_coordinates_farther_than_the_limit_are_not_the_same_location() -> None:
    far = Coordinates(23.70, 69.67)
    assert distance_km(Coordinates(23.25, 69.67), far) > LOCATION_DISTANCE_MAX_KM
    assert assess_pair(site("VERRA", "VCS-1"), site("GS", "GS2", location=KUTCH_50_KM_AWAY)) is None


def test_coordinates_are_compared_by_haversine_distance() -> None:
    one_degree_of_latitude_km = 111.195
    assert distance_km(Coordinates(0, 0), Coordinates(1, 0)) == pytest.approx(
        one_degree_of_latitude_km, abs=0.01
    )
    assert distance_km(Coordinates(0, 179.99), Coordinates(0, -179.99)) < 3


@pytest.mark.parametrize(
    ("text", "families"),
    [
        ("ACM0002", {"ACM0002"}),
        ("ACM0002 v20", {"ACM0002"}),
        ("CDM ACM0002", {"ACM0002"}),
        ("CDM-ACM0002 version 20.0", {"ACM0002"}),
        ("AR ACM0003", {"AR-ACM0003"}),
        ("AMS-I.D.", {"AMS-I.D"}),
        ("ACM0002; AMS-I.D", {"ACM0002", "AMS-I.D"}),
        ("GS TPDDTEC v3.1", {"TPDDTEC"}),
        ("", set()),
    ],
)
def test_methodology_codes_are_normalized_to_their_family(text: str, families: set[str]) -> None:
    assert method_families(text) == families


def test_a_site_in_another_country_is_not_a_candidate() -> None:
    verra = site("VERRA", "VCS-1736")
    cdm = site("CDM", "1234", host_country="PK")
    assert assess_pair(verra, cdm) is None


def test_a_site_under_another_methodology_is_not_a_candidate() -> None:
    assert assess_pair(site("VERRA", "VCS-1736"), site("CDM", "1234", methodology="AM0029")) is None


def test_no_overlap_in_time_is_not_a_candidate_even_with_a_cross_reference() -> None:
    verra = footprint("VERRA", "VCS-1736", periods=YEAR_2021, cites="CDM 1234", name="Kutch Wind")
    cdm = footprint("CDM", "1234", periods=YEAR_2020, name="Kutch Wind")
    assert assess_pair(verra, cdm) is None


def test_overlaps_name_both_periods_and_the_span_they_share() -> None:
    monitoring = Period(D(2021, 7, 1), D(2022, 7, 1), PeriodKind.MONITORING)
    carbonex = footprint("CARBONEX", "CX-7", periods=(monitoring,), cites="VCS-1736")
    verra = footprint("VERRA", "VCS-1736", periods=(*YEAR_2020, *YEAR_2021))
    candidate = assess_pair(carbonex, verra)
    assert candidate is not None
    [overlap] = candidate.overlaps
    assert (overlap.first, overlap.second) == (monitoring, YEAR_2021[0])
    assert (overlap.start, overlap.end) == (D(2021, 7, 1), D(2022, 1, 1))
    assert candidate.to_record()["overlaps"][0]["days"] == 184


# -- pairs never formed ------------------------------------------------------------------------


def test_two_records_of_the_same_registry_are_never_a_candidate() -> None:
    assert canonical_source("VCS") == canonical_source("Verra VCS") == "VERRA"
    first = footprint("VERRA", "VCS-1", name="Kutch Wind Farm")
    second = footprint("VCS", "VCS-2", name="Kutch Wind Farm")
    assert find_candidate_duplicates([first, second]) == []


def test_two_projects_registered_here_are_compared_whatever_their_standards() -> None:
    solar = {"name": "Accra Solar Park", "host_country": "GH", "location": "5.60,-0.19"}
    for first_id, second_id in (("VCS-9001", "GS9002"), ("A64-GH-0001", "A64-GH-0002")):
        first = footprint("CARBONEX", first_id, methodology="ACM0002", **solar)
        second = footprint("CARBONEX", second_id, methodology="ACM0002", **solar)
        [candidate] = find_candidate_duplicates([first, second])
        assert Reason.SAME_NAME in candidate.reasons
    citing = footprint("CARBONEX", "CX-1", cites="CDM:9876")
    also_citing = footprint("CARBONEX", "CX-2", cites="CDM 9876")
    [shared] = find_candidate_duplicates([citing, also_citing])
    assert Reason.SHARED_REFERENCE in shared.reasons


def test_one_project_seen_in_two_places_is_not_a_duplicate_of_itself() -> None:
    ledger = footprint("VERRA", "VCS-1736", name="Kutch Wind Farm")
    registered = footprint("CARBONEX", "VCS1736", name="Kutch Wind Farm")
    assert find_candidate_duplicates([ledger, registered]) == []


# -- the rule ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        ({Reason.CROSS_REFERENCE, Reason.OVERLAPPING_PERIOD}, True),
        ({Reason.SHARED_REFERENCE, Reason.OVERLAPPING_PERIOD}, True),
        ({Reason.SAME_NAME, Reason.OVERLAPPING_PERIOD}, True),
        (
            {
                Reason.SAME_LOCATION,
                Reason.SAME_METHOD,
                Reason.SAME_HOST_COUNTRY,
                Reason.OVERLAPPING_PERIOD,
            },
            True,
        ),
        ({Reason.SAME_LOCATION, Reason.SAME_METHOD, Reason.OVERLAPPING_PERIOD}, False),
        ({Reason.SAME_METHOD, Reason.SAME_HOST_COUNTRY, Reason.OVERLAPPING_PERIOD}, False),
        ({Reason.CROSS_REFERENCE, Reason.SAME_NAME, Reason.SAME_HOST_COUNTRY}, False),
        (set(), False),
    ],
)
def test_the_rule_needs_an_overlap_and_an_identity_or_the_whole_site(
    found: set[Reason], expected: bool
) -> None:
    assert is_candidate(found) is expected


def test_reasons_are_reported_in_their_declared_order() -> None:
    verra = site("VERRA", "VCS-1736", name="Kutch Wind Farm", cites="CDM:1234|GS2446")
    gold = site("GS", "GS2446", name="Kutch Windfarm", cites="CDM 1234")
    assert reasons(verra, gold) == tuple(Reason)


def test_a_period_must_end_after_it_starts() -> None:
    with pytest.raises(ValueError, match="not after"):
        Period(D(2021, 1, 1), D(2021, 1, 1))


# -- scanning many -----------------------------------------------------------------------------


def test_candidates_come_in_footprint_order_and_identical_inputs_count_once() -> None:
    cdm = footprint("CDM", "1234")
    verra = footprint("VERRA", "VCS-1736", cites="CDM 1234")
    gold = footprint("GS", "GS2446", cites="CDM:1234")
    scan = scan_footprints([verra, gold, cdm, verra])
    assert scan.footprints == 3
    pairs = [(c.first.source, c.second.source) for c in scan.candidates]
    assert pairs == [("CDM", "GS"), ("CDM", "VERRA"), ("GS", "VERRA")]


def test_a_large_input_is_compared_in_blocks_not_all_pairs() -> None:
    count = 3_000
    footprints = [
        site(source, f"{source}-{number}", location=f"district {number}", name=f"Farm {number} x")
        for number in range(count)
        for source in ("VERRA", "GS")
    ]
    scan = scan_footprints(footprints)
    assert scan.pairs_compared == count  # only the two records of each district meet
    assert len(scan.candidates) == count


def test_an_oversized_block_is_reported_instead_of_compared() -> None:
    same_name = [
        footprint(source, f"{source}-1", name="Kutch Wind Farm")
        for source in ("VERRA", "GS", "CDM")
    ]
    scan = scan_footprints(same_name, block_footprints_max=2)
    assert scan.candidates == ()
    assert [(block.key, block.footprints) for block in scan.oversized_blocks] == [
        ("name kutch wind", 3)
    ]


# -- properties --------------------------------------------------------------------------------

SOURCES = ("VERRA", "VCS", "GS", "Gold Standard", "CDM", "CARBONEX")
PROJECT_IDS = ("1736", "VCS-1736", "GS2446", "2446", "1234", "CDM-1234", "CX-1")
NAMES = ("", "Kutch Wind Farm", "KUTCH windfarm project", "Jurong Solar Park", "Wind Project")
COUNTRIES = ("", "IN", "PK")
METHODS = ("", "ACM0002", "CDM ACM0002 v20", "AMS-I.D", "AM0029")
LOCATIONS = ("", KUTCH, KUTCH_2_KM_AWAY, KUTCH_50_KM_AWAY, "Kutch, Gujarat", "kutch gujarat")
CITATIONS = ("CDM:1234", "VCS 1736", "GS2446", "1234", "Gold Standard 2446")


@st.composite
def periods(draw: st.DrawFn) -> Period:
    start = D(2018, 1, 1) + dt.timedelta(days=draw(st.integers(0, 5 * 365)))
    length = dt.timedelta(days=draw(st.integers(1, 2 * 365)))
    return Period(start, start + length, draw(st.sampled_from(PeriodKind)))


footprints = st.builds(
    ProjectFootprint,
    source=st.sampled_from(SOURCES),
    project_id=st.sampled_from(PROJECT_IDS),
    name=st.sampled_from(NAMES),
    host_country=st.sampled_from(COUNTRIES),
    methodology=st.sampled_from(METHODS),
    location=st.sampled_from(LOCATIONS),
    cross_references=st.lists(st.sampled_from(CITATIONS), max_size=2).map(tuple),
    periods=st.lists(periods(), max_size=3).map(tuple),
)


def naive(items: list[ProjectFootprint]) -> list[Candidate]:
    """Every pair compared, the definition blocking must reproduce."""
    unique = sorted(set(items))
    found = (assess_pair(a, b) for a, b in itertools.combinations(unique, 2))
    return [candidate for candidate in found if candidate is not None]


@settings(max_examples=300)
@given(st.lists(footprints, max_size=12), st.randoms(use_true_random=False))
def test_the_result_does_not_depend_on_input_order(
    items: list[ProjectFootprint], shuffler: Random
) -> None:
    shuffled = list(items)
    shuffler.shuffle(shuffled)
    assert find_candidate_duplicates(shuffled) == find_candidate_duplicates(items)


@settings(max_examples=300)
@given(footprints, footprints)
def test_a_pair_is_assessed_the_same_both_ways(a: ProjectFootprint, b: ProjectFootprint) -> None:
    assert assess_pair(a, b) == assess_pair(b, a)


@settings(max_examples=300)
@given(st.lists(footprints, max_size=12))
def test_blocking_finds_exactly_what_comparing_all_pairs_finds(
    items: list[ProjectFootprint],
) -> None:
    assert find_candidate_duplicates(items) == naive(items)


@st.composite
def nearby_sites(draw: st.DrawFn) -> list[ProjectFootprint]:
    """Sites around one point anywhere on Earth (poles and antimeridian included), some within
    the distance of each other and some not."""
    latitude = draw(st.floats(-90, 90))
    longitude = draw(st.floats(-180, 180))
    sites = []
    for number in range(draw(st.integers(2, 8))):
        north_km, east_km = draw(st.floats(-8, 8)), draw(st.floats(-8, 8))
        site_latitude = max(-90.0, min(90.0, latitude + north_km / 111.2))
        scale = max(math.cos(math.radians(site_latitude)), 1e-6) * 111.2
        site_longitude = (longitude + east_km / scale + 180) % 360 - 180
        location = f"{site_latitude:.6f},{site_longitude:.6f}"
        sites.append(site(("VERRA", "GS")[number % 2], f"P-{number}", location=location))
    return sites


@settings(max_examples=500)
@given(nearby_sites())
def test_sites_within_the_distance_always_share_a_block(items: list[ProjectFootprint]) -> None:
    assert find_candidate_duplicates(items) == naive(items)


@pytest.mark.parametrize(
    ("here", "there"),
    [("0.0,179.99", "0.0,-179.99"), ("89.99,0", "89.99,120"), ("-45.0,10.0", "-45.02,10.03")],
)
def test_sites_across_the_antimeridian_or_near_a_pole_are_the_same_location(
    here: str, there: str
) -> None:
    assert Reason.SAME_LOCATION in reasons(
        site("VERRA", "VCS-1", location=here), site("GS", "GS2", location=there)
    )
