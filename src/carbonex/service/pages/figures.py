"""Registry-wide figures shown on the dashboard and in the explorer: totals and the two bar
charts (issued and retired by vintage year and by category), optionally for one unit type.

Units of different metrics (tCO2e, MWh, points) never add up: the totals are shown per metric,
and a chart covers the unit types of one metric only."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from carbonex.catalog.inclusion import TONNE_METRIC
from carbonex.ledger.queries import UNKNOWN_METRIC
from carbonex.service import charts
from carbonex.service.deps import Service
from carbonex.service.pages import reads


@dataclass(frozen=True, slots=True)
class MetricTotals:
    """The totals of the units measured in `metric`, the unit types they cover named in `scope`."""

    metric: str
    scope: str
    totals: dict[str, int]


def figures(service: Service, unit_type: str | None) -> dict[str, Any]:
    """Totals per metric and charts; `unit_type` is ignored unless the registry has units of
    that type. Without one, the totals come tonnes first and the charts cover the first metric."""
    summary = service.ledger.summary()
    metric_of = service.ledger.catalog.metric_of()
    unit_types = list(summary["by_unit_type"])
    types_by_metric: dict[str, list[str]] = defaultdict(list)
    for code in unit_types:
        types_by_metric[metric_of.get(code, UNKNOWN_METRIC)].append(code)
    chosen = unit_type if unit_type in unit_types else None
    if chosen:
        metric = metric_of.get(chosen, UNKNOWN_METRIC)
        groups = [MetricTotals(metric, f"{chosen} units", summary["by_unit_type"][chosen])]
        charted = [chosen]
    else:
        groups = sorted(
            (
                MetricTotals(metric, f"all {metric} unit types", totals)
                for metric, totals in summary["by_metric"].items()
            ),
            key=lambda group: (group.metric != TONNE_METRIC, group.metric),
        )
        metric = groups[0].metric if groups else TONNE_METRIC
        charted = types_by_metric.get(metric, [])
    return {
        "totals_by_metric": groups,
        "charts": _charts(service, summary, charted, metric, chosen),
        "unit_types": unit_types,
        "unit_type": chosen,
        "unit_types_by_metric": dict(types_by_metric),
    }


def _charts(
    service: Service, summary: dict[str, Any], charted: list[str], metric: str, chosen: str | None
) -> list[charts.BarChart]:
    scope = f"{chosen} units" if chosen else f"all {metric} unit types ({', '.join(charted)})"
    vintage = charts.bar_chart(
        "chart-vintage",
        f"Issued and retired by vintage, {metric}",
        f"{metric} issued and retired per vintage year, {scope}.",
        charts.by_vintage(summary, charted),
    )
    category = charts.bar_chart(
        "chart-category",
        f"Issued and retired by category, {metric}",
        f"{metric} issued and retired per category (avoidance or removal), {scope}.",
        charts.by_category(summary, reads.categories(service.ledger), charted),
    )
    return [vintage, category]
