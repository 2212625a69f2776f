"""Registry-wide figures shown on the dashboard and in the explorer: totals and the two bar
charts (issued and retired by vintage year and by category), optionally for one unit type."""

from __future__ import annotations

from typing import Any

from carbonex.service import charts
from carbonex.service.deps import Service
from carbonex.service.pages import reads


def figures(service: Service, unit_type: str | None) -> dict[str, Any]:
    """Totals and charts; `unit_type` is ignored unless the registry has units of that type."""
    summary = service.ledger.summary()
    unit_types = list(summary["by_unit_type"])
    chosen = unit_type if unit_type in unit_types else None
    scope = f"{chosen} units" if chosen else "all unit types"
    vintage = charts.bar_chart(
        "chart-vintage",
        "Issued and retired by vintage",
        f"Units issued and retired per vintage year, {scope}.",
        charts.by_vintage(summary, chosen),
    )
    category = charts.bar_chart(
        "chart-category",
        "Issued and retired by category",
        f"Units issued and retired per category (avoidance or removal), {scope}.",
        charts.by_category(summary, reads.categories(service.ledger), chosen),
    )
    totals = summary["by_unit_type"][chosen] if chosen else summary["totals"]
    return {
        "totals": totals,
        "charts": [vintage, category],
        "unit_types": unit_types,
        "unit_type": chosen,
    }
