"""The service policy (`catalog/data/service_policy.toml`), validated on load."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carbonex.catalog.loader import DATA_DIR, CatalogError

POLICY_FILE = "service_policy.toml"


@dataclass(frozen=True, slots=True)
class ServicePolicy:
    four_eyes_transfer_quantity_min: int
    four_eyes_issuance: bool
    session_lifetime_minutes: int
    sign_in_failures_max: int
    sign_in_lockout_minutes: int


def _positive(table: dict[str, Any], section: str, name: str) -> int:
    value = table.get(section, {}).get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise CatalogError(f"{POLICY_FILE}: [{section}] {name} must be a positive integer")
    return value


def load_policy(directory: Path = DATA_DIR) -> ServicePolicy:
    path = directory / POLICY_FILE
    try:
        with path.open("rb") as handle:
            raw = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise CatalogError(f"{POLICY_FILE}: {error}") from error
    issuance = raw.get("four_eyes", {}).get("issuance")
    if not isinstance(issuance, bool):
        raise CatalogError(f"{POLICY_FILE}: [four_eyes] issuance must be true or false")
    return ServicePolicy(
        four_eyes_transfer_quantity_min=_positive(raw, "four_eyes", "transfer_quantity_min"),
        four_eyes_issuance=issuance,
        session_lifetime_minutes=_positive(raw, "sessions", "lifetime_minutes"),
        sign_in_failures_max=_positive(raw, "sign_in", "failures_max"),
        sign_in_lockout_minutes=_positive(raw, "sign_in", "lockout_minutes"),
    )
