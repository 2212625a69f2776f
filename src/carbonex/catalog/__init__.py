"""Reference data as files: unit types, registries, account kinds, conversion rules."""

from carbonex.catalog.loader import (
    AccountKind,
    Catalog,
    CatalogError,
    ConversionRule,
    Registry,
    UnitType,
    load_catalog,
)
from carbonex.catalog.shipped import default_catalog

__all__ = [
    "AccountKind",
    "Catalog",
    "CatalogError",
    "ConversionRule",
    "Registry",
    "UnitType",
    "default_catalog",
    "load_catalog",
]
