"""Cross-registry double-issuance candidates: pure matching over project footprints.

A *footprint* is what one registry (or an import of its export) shows of one project: its id
there, name, host country, methodology, location, the ids it cites in other registries, and the
periods it was credited for (vintages of issued units) or monitored. Two footprints are a
*candidate duplicate* — possibly the same mitigation issued twice — when (`is_candidate`):

    their periods overlap
    AND (  one cites the other's id (CROSS_REFERENCE)
        OR both cite the same id in a third registry (SHARED_REFERENCE)
        OR their names are equal once normalized (SAME_NAME)
        OR same location AND same methodology family AND same host country)

That rule is the whole threshold: there are no weights to tune. Every reason found is reported, in
the declaration order of `Reason`, so a reviewer sees how strong the evidence is. A candidate is a
lead for a person to check, never a verdict.

Pairs never formed:
* two footprints of the same other registry (`canonical_source`: VERRA = VCS, GS = Gold Standard,
  ...): keeping that registry free of duplicates is its own job (monitoring periods of one
  project never overlap, `lifecycle.check_monitoring_period`). Projects registered in this
  instance (`THIS_REGISTRY`) are compared with each other, whatever their standards: this
  registry is the one whose job that is;
* two footprints with the same qualified project id (`qualified_id`): `VCS-1736` seen both in the
  ledger and in the projects table is one project, not two.

Normalization (deterministic, deliberately simple):
* ids: a registry prefix (`CDM:1234`, `CDM-1234`, `cdm 1234`, `GS2446`, `Gold Standard 2446`)
  names the registry, else the footprint's own source does; the rest keeps letters and digits,
  leading zeros dropped from all-digit ids. A citation without a known registry prefix matches
  nothing (a bare number could be any registry's).
* names: accents, case and punctuation dropped; a few compounds mapped (`windfarm` -> `wind`,
  `pv` -> `solar`); generic words (`project`, `farm`, `power`, `plant`, ...) and immediate
  repetitions dropped; a name is compared only with at least `NAME_KEY_TOKENS_MIN` words left,
  so "Wind Power Project" matches nothing.
* locations: "lat,lon" coordinates match within `LOCATION_DISTANCE_MAX_KM` (haversine); any
  other text matches when equal once normalized like names (without dropping words).
* methodologies: the codes found in the text (`ACM0002`, `AR-AMS0007`, `AMS-I.D`, `VM0015`) with
  prefixes and versions ignored ("CDM ACM0002 v20" is ACM0002); text without a code is its own
  family (normalized words without version numbers).

Scaling: pairs are compared only inside blocks of footprints sharing a key that every candidate
pair must share (`_block_keys`): a qualified id (own or cited), a name key, or host country +
methodology family + location (normalized text, or for coordinates cells of a latitude/longitude
grid coarse enough that sites within the distance always share one, see `_place_cells`). A block
of more than `BLOCK_FOOTPRINTS_MAX` footprints is not expanded pairwise but reported in
`DuplicateScan.oversized_blocks` (its pairs may still meet in a smaller block). On inputs without
oversized blocks the result equals comparing every pair.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

LOCATION_DISTANCE_MAX_KM = 5.0
"""Coordinates closer than this are the same site."""
EARTH_RADIUS_KM = 6371.0088
"""Mean Earth radius (IUGG)."""
LATITUDE_BAND_DEGREES = 2 * math.degrees(LOCATION_DISTANCE_MAX_KM / EARTH_RADIUS_KM)
"""Height of a blocking band: twice the distance, so two sites within the distance (whose
latitudes differ by at most the distance) lie in the same band or in neighbouring ones."""
NAME_KEY_TOKENS_MIN = 2
"""Words a normalized name needs to be compared at all ("Wind Project" -> "wind" is too generic)."""
BLOCK_FOOTPRINTS_MAX = 500
"""Footprints a block may hold and still be compared pairwise (at most ~125,000 pairs)."""
CANDIDATE_RULE = (
    "periods overlap AND (cross reference OR shared reference OR same name "
    "OR (same location AND same methodology AND same host country))"
)

THIS_REGISTRY = "CARBONEX"
"""The source of projects registered in this Carbonex instance: compared with each other too."""
SOURCE_ALIASES: dict[str, str] = {
    "VERRA": "VERRA",
    "VCS": "VERRA",
    "VERRA VCS": "VERRA",
    "VCU": "VERRA",
    "GS": "GS",
    "GOLD": "GS",
    "GOLD STANDARD": "GS",
    "GSID": "GS",
    "CDM": "CDM",
    "UNFCCC": "CDM",
    "UNFCCC CDM": "CDM",
    "ACR": "ACR",
    "CAR": "CAR",
    "CCER": "CCER",
    "JI": "JI",
    "A6.4": "A64M",
    "A6.4M": "A64M",
    "A64M": "A64M",
    "ARTICLE 6.4 MECHANISM": "A64M",  # what CDM-TO-A6.4 conversions wrote before the code
    "J-CREDIT": "JCS",
    "JCS": "JCS",
    THIS_REGISTRY: THIS_REGISTRY,
}
"""Spellings of a registry or standard (upper case, single spaces) -> one code per registry."""
_ALIASES_LONGEST_FIRST = sorted(SOURCE_ALIASES, key=lambda alias: (-len(alias), alias))
_ID_SEPARATORS = " :#/_-."

NAME_SYNONYMS: dict[str, str] = {
    "windfarm": "wind",
    "windfarms": "wind",
    "windpark": "wind",
    "windpower": "wind",
    "hydropower": "hydro",
    "hydroelectric": "hydro",
    "hydel": "hydro",
    "photovoltaic": "solar",
    "pv": "solar",
    "cookstoves": "cookstove",
    "stoves": "stove",
}
# fmt: off
NAME_GENERIC_WORDS = frozenset(
    {
        "a", "an", "and", "at", "by", "for", "in", "of", "on", "the", "to",
        "project", "projects", "programme", "program", "activity",
        "farm", "farms", "park", "plant", "plants", "power", "energy", "station", "facility",
        "generation", "generating", "electricity", "electric", "grid", "connected", "bundled",
        "mw", "mwp", "kw", "kwp",
        "limited", "ltd", "pvt", "private", "inc", "co", "company", "corporation", "sa", "gmbh",
    }
)
# fmt: on
METHOD_GENERIC_WORDS = frozenset(
    {"cdm", "gs", "vcs", "verra", "gold", "standard", "methodology", "version", "v"}
)
_NUMBERED_METHOD = re.compile(
    r"(?<![A-Z0-9])(AR[\s-]?)?(ACM|AMS|AM|VMR|VMD|VM)[\s-]?([0-9]{1,4})(?![0-9])"
)
_SMALL_SCALE_METHOD = re.compile(r"(?<![A-Z0-9])AMS[\s-]?([IVX]{1,4})\.\s?([A-Z]{1,3})(?![A-Z])")
_METHOD_CODE_DIGITS = 4
_DEGREES = r"([+-]?[0-9]{1,3}(?:\.[0-9]+)?)"
_COORDINATES = re.compile(rf"\s*{_DEGREES}\s*[,;]\s*{_DEGREES}\s*")
_WORD = re.compile(r"[a-z]+|[0-9]+")
LATITUDE_MAX_DEGREES = 90.0
LONGITUDE_MAX_DEGREES = 180.0
FULL_CIRCLE_DEGREES = 360.0
LONGITUDE_CELLS_MIN = 3
"""Fewer cells than this per row: the row is one cell (two neighbouring cells would be all)."""


class PeriodKind(StrEnum):
    VINTAGE = "vintage"
    """Vintage of issued units."""
    MONITORING = "monitoring"
    """A monitoring period reported for the project."""


class Reason(StrEnum):
    """Why a pair is a candidate, in the order reasons are reported."""

    CROSS_REFERENCE = "CROSS_REFERENCE"
    SHARED_REFERENCE = "SHARED_REFERENCE"
    SAME_NAME = "SAME_NAME"
    SAME_LOCATION = "SAME_LOCATION"
    SAME_METHOD = "SAME_METHOD"
    SAME_HOST_COUNTRY = "SAME_HOST_COUNTRY"
    OVERLAPPING_PERIOD = "OVERLAPPING_PERIOD"


@dataclass(frozen=True, slots=True, order=True)
class Period:
    start: dt.date
    """First day, inclusive."""
    end: dt.date
    """Day after the last, exclusive."""
    kind: PeriodKind = PeriodKind.VINTAGE

    def __post_init__(self) -> None:
        if not self.start < self.end:
            raise ValueError(f"period end {self.end} is not after its start {self.start}")

    def to_record(self) -> dict[str, str]:
        return {
            "kind": self.kind.value,
            "start": self.start.isoformat(),
            "end_exclusive": self.end.isoformat(),
        }


@dataclass(frozen=True, slots=True, order=True)
class ProjectFootprint:
    """One project as one registry (or import) shows it."""

    source: str
    """Registry or standard where it was seen: VERRA / VCS, GS / Gold Standard, CDM, CARBONEX."""
    project_id: str
    name: str = ""
    host_country: str = ""
    """ISO 3166-1 alpha-2."""
    methodology: str = ""
    location: str = ""
    """Free text, or "lat,lon" in decimal degrees."""
    cross_references: tuple[str, ...] = ()
    """Ids this record cites in other registries, e.g. "CDM:1234"."""
    periods: tuple[Period, ...] = ()

    def to_record(self) -> dict[str, Any]:
        """The footprint without its periods (a candidate lists the periods that overlap)."""
        return {
            "source": self.source,
            "project_id": self.project_id,
            "name": self.name,
            "host_country": self.host_country,
            "methodology": self.methodology,
            "location": self.location,
            "cross_references": list(self.cross_references),
        }


@dataclass(frozen=True, slots=True)
class Overlap:
    first: Period
    """The period of the candidate's first footprint."""
    second: Period
    start: dt.date
    end: dt.date
    """Exclusive."""

    def to_record(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end_exclusive": self.end.isoformat(),
            "days": (self.end - self.start).days,
            "first_period": self.first.to_record(),
            "second_period": self.second.to_record(),
        }


@dataclass(frozen=True, slots=True)
class Candidate:
    first: ProjectFootprint
    """The smaller footprint of the two (dataclass order), so a pair reads the same both ways."""
    second: ProjectFootprint
    reasons: tuple[Reason, ...]
    overlaps: tuple[Overlap, ...]

    def to_record(self) -> dict[str, Any]:
        return {
            "first": self.first.to_record(),
            "second": self.second.to_record(),
            "reasons": [reason.value for reason in self.reasons],
            "overlaps": [overlap.to_record() for overlap in self.overlaps],
        }


@dataclass(frozen=True, slots=True)
class OversizedBlock:
    key: str
    footprints: int

    def to_record(self) -> dict[str, Any]:
        return {"key": self.key, "footprints": self.footprints}


@dataclass(frozen=True, slots=True)
class DuplicateScan:
    candidates: tuple[Candidate, ...]
    footprints: int
    """Distinct footprints scanned."""
    pairs_compared: int
    oversized_blocks: tuple[OversizedBlock, ...] = ()

    def to_record(self) -> dict[str, Any]:
        return {
            "rule": CANDIDATE_RULE,
            "footprints": self.footprints,
            "pairs_compared": self.pairs_compared,
            "candidates": [candidate.to_record() for candidate in self.candidates],
            "oversized_blocks": [block.to_record() for block in self.oversized_blocks],
        }


# -- normalization -----------------------------------------------------------------------------


def _plain_words(text: str) -> list[str]:
    """Lower-case words and numbers of `text`, accents dropped."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_text = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _WORD.findall(ascii_text.casefold())


def canonical_source(source: str) -> str:
    """One code per registry: "VCS", "Verra VCS" and "VERRA" are all VERRA."""
    key = " ".join(source.upper().replace("_", " ").split())
    return SOURCE_ALIASES.get(key, key)


def _local_id(text: str) -> str:
    kept = "".join(char for char in text.upper() if char.isascii() and char.isalnum())
    return str(int(kept)) if kept.isdigit() else kept


def _strip_alias(text: str) -> tuple[str, str] | None:
    """(registry, rest) when `text` starts with a registry alias followed by a separator or a
    digit, e.g. "CDM-1234" -> ("CDM", "1234"); None otherwise ("CARBON-7")."""
    for alias in _ALIASES_LONGEST_FIRST:
        if not text.startswith(alias):
            continue
        rest = text[len(alias) :]
        stripped = rest.lstrip(_ID_SEPARATORS)
        if stripped and (stripped != rest or stripped[0].isdigit()):
            return SOURCE_ALIASES[alias], stripped
    return None


def split_reference(text: str) -> tuple[str | None, str]:
    """(registry or None, local id) of an id as written, e.g. "Gold Standard GS2446" ->
    ("GS", "2446"); a repeated prefix of the same registry is dropped too."""
    upper = " ".join(text.upper().split())
    found = _strip_alias(upper)
    if found is None:
        return None, _local_id(upper)
    registry, rest = found
    again = _strip_alias(rest)
    if again is not None and again[0] == registry:
        rest = again[1]
    return registry, _local_id(rest)


def qualified_id(source: str, project_id: str) -> str:
    """`REGISTRY:LOCAL`: the registry the id names, else the footprint's source."""
    registry, local = split_reference(project_id)
    return f"{registry or canonical_source(source)}:{local}"


def qualified_reference(text: str) -> str | None:
    """`REGISTRY:LOCAL` of a cited id, or None when it names no known registry."""
    registry, local = split_reference(text)
    return f"{registry}:{local}" if registry is not None and local else None


def name_key(name: str) -> str:
    """The comparable key of a name ("Kutch Wind Farm", "KUTCH windfarm project" -> "kutch wind"),
    or "" when too generic."""
    words = [NAME_SYNONYMS.get(word, word) for word in _plain_words(name)]
    kept = [word for word in words if word not in NAME_GENERIC_WORDS]
    kept = [
        word for position, word in enumerate(kept) if position == 0 or kept[position - 1] != word
    ]
    return " ".join(kept) if len(kept) >= NAME_KEY_TOKENS_MIN else ""


def method_families(methodology: str) -> frozenset[str]:
    """Methodology codes in the text ("CDM ACM0002 v20" -> {"ACM0002"}), else its words."""
    upper = methodology.upper()
    codes = {
        f"{'AR-' if ar else ''}{prefix}{number.zfill(_METHOD_CODE_DIGITS)}"
        for ar, prefix, number in _NUMBERED_METHOD.findall(upper)
    }
    codes |= {f"AMS-{group}.{letters}" for group, letters in _SMALL_SCALE_METHOD.findall(upper)}
    if codes:
        return frozenset(codes)
    words = [w for w in _plain_words(methodology) if w not in METHOD_GENERIC_WORDS]
    text = " ".join(word for word in words if not word.isdigit())
    return frozenset({text.upper()}) if text else frozenset()


@dataclass(frozen=True, slots=True)
class Coordinates:
    latitude: float
    longitude: float


Place = Coordinates | str | None


def parse_location(location: str) -> Place:
    """Coordinates for "lat,lon" in range, else the normalized text, else None when empty."""
    match = _COORDINATES.fullmatch(location)
    if match is not None:
        latitude, longitude = float(match.group(1)), float(match.group(2))
        if abs(latitude) <= LATITUDE_MAX_DEGREES and abs(longitude) <= LONGITUDE_MAX_DEGREES:
            return Coordinates(latitude, longitude)
    text = " ".join(_plain_words(location))
    return text or None


def distance_km(a: Coordinates, b: Coordinates) -> float:
    """Great-circle distance (haversine)."""
    phi_a, phi_b = math.radians(a.latitude), math.radians(b.latitude)
    d_phi = phi_b - phi_a
    d_lambda = math.radians(b.longitude - a.longitude)
    h = math.sin(d_phi / 2) ** 2 + math.cos(phi_a) * math.cos(phi_b) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(h)))


def same_place(a: Place, b: Place) -> bool:
    if isinstance(a, Coordinates) and isinstance(b, Coordinates):
        return distance_km(a, b) <= LOCATION_DISTANCE_MAX_KM
    return isinstance(a, str) and a == b


# -- comparing two footprints ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Traits:
    """A footprint's normalized keys, computed once per scan."""

    source: str
    qid: str
    references: frozenset[str]
    name: str
    place: Place
    methods: frozenset[str]
    country: str

    @classmethod
    def of(cls, footprint: ProjectFootprint) -> _Traits:
        qid = qualified_id(footprint.source, footprint.project_id)
        cited = (qualified_reference(text) for text in footprint.cross_references)
        return cls(
            source=canonical_source(footprint.source),
            qid=qid,
            references=frozenset(ref for ref in cited if ref is not None and ref != qid),
            name=name_key(footprint.name),
            place=parse_location(footprint.location),
            methods=method_families(footprint.methodology),
            country=footprint.host_country.strip().upper(),
        )

    def comparable(self, other: _Traits) -> bool:
        """Different projects, of different registries or both registered here."""
        if self.qid == other.qid:
            return False
        return self.source != other.source or self.source == THIS_REGISTRY


def overlaps_between(first: Sequence[Period], second: Sequence[Period]) -> tuple[Overlap, ...]:
    """Every pair of overlapping periods, with the span they share, in period order."""
    return tuple(
        Overlap(a, b, max(a.start, b.start), min(a.end, b.end))
        for a in sorted(set(first))
        for b in sorted(set(second))
        if a.start < b.end and b.start < a.end
    )


def _reasons(a: _Traits, b: _Traits, overlapping: bool) -> tuple[Reason, ...]:
    found = {
        Reason.CROSS_REFERENCE: b.qid in a.references or a.qid in b.references,
        Reason.SHARED_REFERENCE: bool(a.references & b.references),
        Reason.SAME_NAME: bool(a.name) and a.name == b.name,
        Reason.SAME_LOCATION: same_place(a.place, b.place),
        Reason.SAME_METHOD: bool(a.methods & b.methods),
        Reason.SAME_HOST_COUNTRY: bool(a.country) and a.country == b.country,
        Reason.OVERLAPPING_PERIOD: overlapping,
    }
    return tuple(reason for reason in Reason if found[reason])


def is_candidate(reasons: Iterable[Reason]) -> bool:
    """The threshold rule (`CANDIDATE_RULE`)."""
    found = set(reasons)
    if Reason.OVERLAPPING_PERIOD not in found:
        return False
    identity = {Reason.CROSS_REFERENCE, Reason.SHARED_REFERENCE, Reason.SAME_NAME}
    site = {Reason.SAME_LOCATION, Reason.SAME_METHOD, Reason.SAME_HOST_COUNTRY}
    return bool(found & identity) or site <= found


def _assess(
    first: ProjectFootprint, first_traits: _Traits, second: ProjectFootprint, second_traits: _Traits
) -> Candidate | None:
    if not first_traits.comparable(second_traits):
        return None
    overlaps = overlaps_between(first.periods, second.periods)
    reasons = _reasons(first_traits, second_traits, bool(overlaps))
    if not is_candidate(reasons):
        return None
    return Candidate(first, second, reasons, overlaps)


def assess_pair(a: ProjectFootprint, b: ProjectFootprint) -> Candidate | None:
    """The candidate the two footprints make, or None; the same whichever comes first."""
    first, second = (a, b) if a <= b else (b, a)
    return _assess(first, _Traits.of(first), second, _Traits.of(second))


# -- blocking ----------------------------------------------------------------------------------


def _longitude_cells(longitude: float, row: int) -> tuple[int, ...]:
    """Longitude cells of a site in latitude row `row` (bands row - 1 and row). Cells are at
    least twice as wide as the longitude two sites of the row within the distance can differ by
    (haversine >= 2R cos(far latitude) sin(dlon / 2) >= R cos(far latitude) dlon * 2 / pi), a
    whole number of them per circle, so sites within the distance share a cell across the
    antimeridian too; near a pole the row is one cell."""
    far_latitude = max(abs(row - 1), abs(row + 1)) * LATITUDE_BAND_DEGREES
    cos_far = math.cos(math.radians(min(far_latitude, LATITUDE_MAX_DEGREES)))
    if cos_far <= 0:
        return (0,)
    width_degrees = 2 * math.degrees(math.pi * LOCATION_DISTANCE_MAX_KM / (2 * EARTH_RADIUS_KM))
    cells = math.floor(FULL_CIRCLE_DEGREES * cos_far / width_degrees)
    if cells < LONGITUDE_CELLS_MIN:
        return (0,)
    index = math.floor((longitude + LONGITUDE_MAX_DEGREES) / FULL_CIRCLE_DEGREES * cells) % cells
    return (index, (index + 1) % cells)


def _place_cells(place: Place) -> tuple[str, ...]:
    """Cells two sites share whenever `same_place` holds: the normalized text, or for
    coordinates the grid cells of two neighbouring latitude rows (a site in band b is in rows b
    and b + 1, so sites at most one band apart share a row)."""
    if isinstance(place, Coordinates):
        band = math.floor(place.latitude / LATITUDE_BAND_DEGREES)
        return tuple(
            f"grid {row} {cell}"
            for row in (band, band + 1)
            for cell in _longitude_cells(place.longitude, row)
        )
    return (f"text {place}",) if place else ()


def _block_keys(traits: _Traits) -> set[str]:
    """Keys any candidate pair shares: a cited or own id, a name, or a site."""
    keys = {f"id {traits.qid}"} | {f"id {reference}" for reference in traits.references}
    if traits.name:
        keys.add(f"name {traits.name}")
    if traits.country:
        for method in traits.methods:
            for cell in _place_cells(traits.place):
                keys.add(f"site {traits.country} | {method} | {cell}")
    return keys


def _blocks(traits: Sequence[_Traits]) -> dict[str, list[int]]:
    blocks: dict[str, list[int]] = defaultdict(list)
    for index, one in enumerate(traits):
        for key in _block_keys(one):
            blocks[key].append(index)
    return blocks


def _pairs(
    traits: Sequence[_Traits], block_footprints_max: int
) -> tuple[set[tuple[int, int]], list[OversizedBlock]]:
    """Index pairs (i < j) of comparable footprints sharing a block of acceptable size."""
    pairs: set[tuple[int, int]] = set()
    oversized: list[OversizedBlock] = []
    for key, members in sorted(_blocks(traits).items()):
        if len(members) > block_footprints_max:
            oversized.append(OversizedBlock(key, len(members)))
            continue
        for position, i in enumerate(members):
            for j in members[position + 1 :]:
                if traits[i].comparable(traits[j]):
                    pairs.add((i, j))
    return pairs, oversized


def scan_footprints(
    footprints: Iterable[ProjectFootprint], block_footprints_max: int = BLOCK_FOOTPRINTS_MAX
) -> DuplicateScan:
    """Candidate duplicates among `footprints`, in footprint order of (first, second); identical
    footprints given twice count once."""
    unique = sorted(set(footprints))
    traits = [_Traits.of(footprint) for footprint in unique]
    pairs, oversized = _pairs(traits, block_footprints_max)
    candidates = []
    for i, j in sorted(pairs):
        candidate = _assess(unique[i], traits[i], unique[j], traits[j])
        if candidate is not None:
            candidates.append(candidate)
    return DuplicateScan(tuple(candidates), len(unique), len(pairs), tuple(oversized))


def find_candidate_duplicates(footprints: Iterable[ProjectFootprint]) -> list[Candidate]:
    """Candidate double issuances among footprints of several registries (see the module doc)."""
    return list(scan_footprints(footprints).candidates)
