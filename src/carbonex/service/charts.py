"""Bar charts of issuance and retirement, computed on the server and drawn as inline SVG.

The figures come from the ledger's summary (`by_project_vintage`: issued and retired per unit
type, project and vintage), grouped by vintage year or by category (avoidance or removal). The
geometry is computed here, so the template only places rectangles and labels: no JavaScript.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

CHART_WIDTH_PX = 560
CHART_HEIGHT_PX = 260
PLOT_LEFT_PX = 64
PLOT_RIGHT_PX = 12
PLOT_TOP_PX = 14
PLOT_BOTTOM_PX = 36
BAR_GAP_PX = 3
GROUP_PADDING_RATIO = 0.18
"""Share of each group's width left empty around its bars."""
TICKS_MAX = 5
GROUPS_MAX = 14
"""More vintages than this: the most recent are shown."""
SERIES = (("issued", "Issued"), ("retired", "Retired"))
MIXED_CATEGORY = "mixed"
ProjectVintage = tuple[str, str, str, str]
"""(unit type, project, vintage start, vintage end): the key of a summary row."""


@dataclass(frozen=True, slots=True)
class Bar:
    series: str
    group: str
    value: int
    x_px: float
    y_px: float
    width_px: float
    height_px: float


@dataclass(frozen=True, slots=True)
class Tick:
    y_px: float
    label: str


@dataclass(frozen=True, slots=True)
class GroupLabel:
    x_px: float
    label: str


@dataclass(frozen=True, slots=True)
class BarChart:
    chart_id: str
    title: str
    description: str
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[GroupLabel, ...]
    series: tuple[tuple[str, str], ...] = SERIES
    width_px: int = CHART_WIDTH_PX
    height_px: int = CHART_HEIGHT_PX
    plot_left_px: int = PLOT_LEFT_PX
    plot_right_px: int = CHART_WIDTH_PX - PLOT_RIGHT_PX
    plot_top_px: int = PLOT_TOP_PX
    plot_bottom_px: int = CHART_HEIGHT_PX - PLOT_BOTTOM_PX

    @property
    def empty(self) -> bool:
        return not self.bars


def compact(value: float) -> str:
    """12 -> "12", 20000 -> "20k", 1500000 -> "1.5M"."""
    for threshold, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if abs(value) >= threshold:
            text = f"{value / threshold:.1f}".removesuffix(".0")
            return f"{text}{suffix}"
    return f"{value:g}"


def nice_step(maximum: int, ticks: int = TICKS_MAX) -> int:
    """The smallest of 1, 2 or 5 times a power of ten giving at most `ticks` steps."""
    raw = max(1, -(-maximum // ticks))
    magnitude = int(10 ** (len(str(raw)) - 1))
    for multiple in (1, 2, 5, 10):
        if multiple * magnitude >= raw:
            return multiple * magnitude
    raise AssertionError("unreachable: 10 * magnitude >= raw")  # pragma: no cover


def _rows(summary: Mapping[str, Any], unit_types: Collection[str]) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = summary.get("by_project_vintage", [])
    return [row for row in rows if row["unit_type"] in unit_types]


def _key(row: Mapping[str, Any]) -> ProjectVintage:
    return (row["unit_type"], row["project_id"], row["vintage_start"], row["vintage_end"])


def totals_by(groups: Iterable[tuple[str, Mapping[str, Any]]]) -> dict[str, dict[str, int]]:
    """Sum every series per group name, groups in sorted order."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(dict(SERIES), 0))
    for group, row in groups:
        for series, _title in SERIES:
            totals[group][series] += int(row.get(series, 0))
    return dict(sorted(totals.items()))


def by_vintage(
    summary: Mapping[str, Any], unit_types: Collection[str]
) -> dict[str, dict[str, int]]:
    """Issued and retired per vintage year, over `unit_types` (of one metric: they add up)."""
    totals = totals_by((row["vintage_start"][:4], row) for row in _rows(summary, unit_types))
    return dict(list(totals.items())[-GROUPS_MAX:])


def by_category(
    summary: Mapping[str, Any],
    categories: Mapping[ProjectVintage, str],
    unit_types: Collection[str],
) -> dict[str, dict[str, int]]:
    """Issued and retired per category, over `unit_types` (of one metric: they add up)."""
    return totals_by(
        (categories.get(_key(row), MIXED_CATEGORY), row) for row in _rows(summary, unit_types)
    )


def category_map(rows: Iterable[tuple[str, str, str, str, str]]) -> dict[ProjectVintage, str]:
    """(unit type, project, vintage start, vintage end, category) rows -> one category per key,
    "mixed" when a key has units of both categories."""
    found: dict[ProjectVintage, str] = {}
    for unit_type, project, start, end, category in rows:
        key = (unit_type, project, start, end)
        found[key] = category if found.get(key, category) == category else MIXED_CATEGORY
    return found


def bar_chart(
    chart_id: str, title: str, description: str, groups: Mapping[str, Mapping[str, int]]
) -> BarChart:
    """Grouped bars, one per series in each group, on a shared linear scale from zero."""
    empty = BarChart(chart_id, title, description, (), (), ())
    maximum = max((value for values in groups.values() for value in values.values()), default=0)
    if maximum <= 0:
        return empty
    step = nice_step(maximum)
    top = step * -(-maximum // step)
    plot_height = empty.plot_bottom_px - empty.plot_top_px
    group_width = (empty.plot_right_px - empty.plot_left_px) / len(groups)
    bar_width = (group_width * (1 - GROUP_PADDING_RATIO) - BAR_GAP_PX) / len(SERIES)
    bars, labels = [], []
    for index, (group, values) in enumerate(groups.items()):
        left = empty.plot_left_px + index * group_width + group_width * GROUP_PADDING_RATIO / 2
        labels.append(GroupLabel(empty.plot_left_px + (index + 0.5) * group_width, group))
        for position, (series, _title) in enumerate(SERIES):
            value = int(values.get(series, 0))
            height = plot_height * value / top
            x = left + position * (bar_width + BAR_GAP_PX)
            bars.append(
                Bar(series, group, value, x, empty.plot_bottom_px - height, bar_width, height)
            )
    ticks = tuple(
        Tick(empty.plot_bottom_px - plot_height * value / top, compact(value))
        for value in range(0, top + 1, step)
    )
    return BarChart(chart_id, title, description, tuple(bars), ticks, tuple(labels))
