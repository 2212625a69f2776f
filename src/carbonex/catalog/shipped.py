"""The catalog every command decides under: the shipped files, loaded once per process, with the
references the catalog makes into the project cycle's files resolving. `loader` cannot check
those (`standards`, which reads the project cycle's files, imports it), hence this module."""

from __future__ import annotations

import functools

from carbonex.catalog.loader import DATA_DIR, Catalog
from carbonex.catalog.standards import load_catalog_with_references


@functools.cache
def default_catalog() -> Catalog:
    """The catalog shipped with Carbonex, loaded once per process: a conversion writing a
    standard or a label that standards.toml or labels.toml lacks is refused here, before any
    command is decided under it, not only where the project catalog loads."""
    return load_catalog_with_references(DATA_DIR)
