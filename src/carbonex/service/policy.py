"""The service policy (`catalog/data/service_policy.toml`), validated on load: every table says
where its values come from (`source`), and a table or setting the policy does not have is
refused, not ignored (a misspelt `lockout_minutess` would leave the default in force)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carbonex.catalog.loader import DATA_DIR, CatalogError, _read, refuse_unknown_fields

POLICY_FILE = "service_policy.toml"
POLICY_FIELDS = {
    "four_eyes": frozenset({"transfer_quantity_min", "issuance", "source"}),
    "sessions": frozenset({"lifetime_minutes", "source"}),
    "sign_in": frozenset({"failures_max", "lockout_minutes", "source"}),
}
"""The policy's tables and the settings each holds."""


@dataclass(frozen=True, slots=True)
class ServicePolicy:
    four_eyes_transfer_quantity_min: int
    four_eyes_issuance: bool
    session_lifetime_minutes: int
    sign_in_failures_max: int
    sign_in_lockout_minutes: int
    sources: dict[str, str] = field(default_factory=dict, compare=False)
    """Table name -> where its values come from."""


def _positive(table: dict[str, Any], section: str, name: str) -> int:
    value = table[section].get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CatalogError(f"{POLICY_FILE}: [{section}] {name} must be a positive integer")
    return value


def _tables(raw: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each table of the policy, checked to hold only its settings and a source."""
    refuse_unknown_fields(f"{POLICY_FILE}: top level", raw, POLICY_FIELDS)
    tables = {}
    for name, fields in POLICY_FIELDS.items():
        where = f"{POLICY_FILE}: [{name}]"
        table = raw.get(name)
        if not isinstance(table, dict):
            raise CatalogError(f"{where}: the table is required")
        refuse_unknown_fields(where, table, fields)
        source = table.get("source")
        if not isinstance(source, str) or not source.strip():
            raise CatalogError(
                f"{where}: 'source' must be a non-empty string saying where the values come from"
            )
        tables[name] = table
    return tables


def load_policy(directory: Path = DATA_DIR) -> ServicePolicy:
    raw = _tables(_read(directory / POLICY_FILE))
    issuance = raw["four_eyes"].get("issuance")
    if not isinstance(issuance, bool):
        raise CatalogError(f"{POLICY_FILE}: [four_eyes] issuance must be true or false")
    return ServicePolicy(
        four_eyes_transfer_quantity_min=_positive(raw, "four_eyes", "transfer_quantity_min"),
        four_eyes_issuance=issuance,
        session_lifetime_minutes=_positive(raw, "sessions", "lifetime_minutes"),
        sign_in_failures_max=_positive(raw, "sign_in", "failures_max"),
        sign_in_lockout_minutes=_positive(raw, "sign_in", "lockout_minutes"),
        sources={name: table["source"] for name, table in raw.items()},
    )
