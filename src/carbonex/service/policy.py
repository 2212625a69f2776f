"""The service policy (`catalog/data/service_policy.toml`), validated on load: every table says
where its values come from (`source`), and a table or setting the policy does not have is
refused, not ignored (a misspelt `lockout_minutess` would leave the default in force)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from carbonex.catalog.loader import (
    DATA_DIR,
    CatalogError,
    _read,
    _shown,
    refuse_unknown_fields,
)
from carbonex.ledger.limits import QUANTITY_MAX

POLICY_FILE = "service_policy.toml"
POLICY_FIELDS = {
    "four_eyes": frozenset({"transfer_quantity_min", "issuance", "source"}),
    "sessions": frozenset({"lifetime_minutes", "source"}),
    "sign_in": frozenset({"failures_max", "lockout_minutes", "source"}),
}
"""The policy's tables and the settings each holds."""
SETTING_MIN = 1
"""Every number of the policy counts something (units, minutes, failures) and is at least 1, as
the policy has always required."""
FOUR_EYES_TRANSFER_QUANTITY_MIN_MAX = QUANTITY_MAX
"""A threshold above the most units one command may move (ledger.limits.QUANTITY_MAX) would
never ask for a second person: four eyes switched off by a typo."""
SESSION_LIFETIME_MINUTES_MAX = 24 * 60
"""A day. OWASP's Top 10 Privacy Risks (9, session expiration) asks critical applications to end
sessions within a day; OWASP Cornucopia (SM6) ends them after 8 or 12 hours. The default, 480,
is one working day."""
SIGN_IN_FAILURES_MAX_MAX = 100
"""NIST SP 800-63B section 5.2.2: a verifier limits consecutive failed authentication attempts
on one account to no more than 100."""
SIGN_IN_LOCKOUT_MINUTES_MAX = 24 * 60
"""A day: a longer lockout lets whoever knows a user's name keep the user out of the registry
for days by mistyping on purpose (NIST SP 800-63B section 5.2.2 names ways to keep throttling
from locking the legitimate user out). Carbonex's bound."""
SETTING_RANGES = {
    ("four_eyes", "transfer_quantity_min"): (SETTING_MIN, FOUR_EYES_TRANSFER_QUANTITY_MIN_MAX),
    ("sessions", "lifetime_minutes"): (SETTING_MIN, SESSION_LIFETIME_MINUTES_MAX),
    ("sign_in", "failures_max"): (SETTING_MIN, SIGN_IN_FAILURES_MAX_MAX),
    ("sign_in", "lockout_minutes"): (SETTING_MIN, SIGN_IN_LOCKOUT_MINUTES_MAX),
}
"""(table, setting) -> the whole numbers it may be, both ends included. Unbounded, a lifetime of
10**12 minutes overflows the date arithmetic at the first sign-in."""


@dataclass(frozen=True, slots=True)
class ServicePolicy:
    four_eyes_transfer_quantity_min: int
    four_eyes_issuance: bool
    session_lifetime_minutes: int
    sign_in_failures_max: int
    sign_in_lockout_minutes: int
    sources: dict[str, str] = field(default_factory=dict, compare=False)
    """Table name -> where its values come from."""


def _in_range(table: dict[str, Any], section: str, name: str) -> int:
    value = table[section].get(name)
    low, high = SETTING_RANGES[section, name]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise CatalogError(
            f"{POLICY_FILE}: [{section}] {name} must be a whole number from {low:,} to "
            f"{high:,}, not {_shown(value)}"
        )
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
        four_eyes_transfer_quantity_min=_in_range(raw, "four_eyes", "transfer_quantity_min"),
        four_eyes_issuance=issuance,
        session_lifetime_minutes=_in_range(raw, "sessions", "lifetime_minutes"),
        sign_in_failures_max=_in_range(raw, "sign_in", "failures_max"),
        sign_in_lockout_minutes=_in_range(raw, "sign_in", "lockout_minutes"),
        sources={name: table["source"] for name, table in raw.items()},
    )
