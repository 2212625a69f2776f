"""Reference data as files: unit types, registries, account kinds, conversion rules."""

from carbonex.catalog.loader import (
    AccountKind,
    Catalog,
    CatalogError,
    ConversionRule,
    Registry,
    UnitType,
    default_catalog,
    load_catalog,
)

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
