"""Every bound the ledger enforces, named in one place (TigerStyle: limits everywhere)."""

BATCH_COMMANDS_MAX = 10_000
"""Commands in one all-or-nothing batch, and in one group commit."""

SERIAL_RANGES_PER_COMMAND_MAX = 10_000
"""Explicit serial ranges one command may name."""

BLOCKS_PER_COMMAND_MAX = 100_000
"""Blocks one command may touch: a selection needing more is refused, not truncated."""

QUANTITY_MAX = 10**15
"""Units in one command: serials stay far inside a signed 64-bit integer."""

SERIAL_MAX = 2**62
"""Highest serial number a serial space may use."""

VINTAGE_YEAR_MIN = 1900
VINTAGE_YEAR_MAX = 2200
"""Bounds of a vintage-year filter."""

COMMAND_ID_LENGTH_MAX = 128
TEXT_FIELD_LENGTH_MAX = 1_000
LABELS_PER_BLOCK_MAX = 32
ACCOUNT_ID_LENGTH_MAX = 64

UNFLUSHED_BLOCKS_SCAN_MAX = 64
"""Blocks changed since the last flush that a serial-range lookup scans in memory; past this
the cache flushes them and lets the store's index answer."""

PENDING_ENTRIES_FLUSH = 100
"""Accepted entries queued in memory before the cache hands them to the store, inside the same
transaction: memory stays bounded in a large group commit, and a store that sends writes without
waiting (PostgreSQL's pipeline) applies them while the next commands are decided."""

CATCH_UP_ENTRIES_MAX = 5_000
"""Journal entries a cache replays to catch up with other writers before it reloads instead."""

QUERY_PAGE_SIZE_MAX = 1_000
"""Rows one query page returns at most."""
