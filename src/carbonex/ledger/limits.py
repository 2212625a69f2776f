"""Every bound the ledger enforces, named in one place (TigerStyle: limits everywhere)."""

import datetime as dt

BATCH_COMMANDS_MAX = 10_000
"""Commands in one all-or-nothing batch, and in one group commit."""

SERIAL_RANGES_PER_COMMAND_MAX = 10_000
"""Explicit serial ranges one command may name."""

BLOCKS_PER_COMMAND_MAX = 100_000
"""Blocks one command may touch: a selection needing more is refused, not truncated. For
explicit serial ranges, the blocks it looks at, its own or not: the store loads no more."""

FAILURES_NAMED_MAX = 100
"""Blocks a refusal names one by one (serial ranges over thousands of blocks that are not the
account's would otherwise answer with a failure for each); the last says more were found."""

QUANTITY_MAX = 10**15
"""Units in one command: serials stay far inside a signed 64-bit integer."""

SERIAL_MAX = 2**62
"""Highest serial number a serial space may use."""

VINTAGE_YEAR_MIN = 1900
VINTAGE_YEAR_MAX = 2200
"""Bounds of a vintage year, at issue and in a filter. With the catalog's `VALIDITY_YEARS_MAX`
on top, a programme validity still ends long before the last date (9999-12-31)."""


def vintage_window_problem(start: dt.date, end: dt.date) -> str | None:
    """What is wrong with a period whose units would carry these vintage dates, if anything:
    checked where such a period is first recorded (a crediting or monitoring period, an
    aggregation), so that nothing is recorded whose units the ledger would refuse to issue."""
    if all(VINTAGE_YEAR_MIN <= day.year <= VINTAGE_YEAR_MAX for day in (start, end)):
        return None
    window = f"{VINTAGE_YEAR_MIN}-{VINTAGE_YEAR_MAX}"
    return f"vintage years must lie within {window}, got {start} to {end}"


def period_window_problem(start: dt.date, end: dt.date) -> str | None:
    """The same for a half-open period [start, end) (crediting, monitoring, aggregation): its
    units' vintage runs from `start` to the day before `end`. `end` must lie after `start`."""
    return vintage_window_problem(start, end - dt.timedelta(days=1))


COMMAND_ID_LENGTH_MAX = 128
TEXT_FIELD_LENGTH_MAX = 1_000
LABELS_PER_BLOCK_MAX = 32
ACCOUNT_ID_LENGTH_MAX = 64

UNPROJECTED_BLOCKS_SCAN_MAX = 64
"""Blocks changed since the last projection that a serial-range lookup scans in memory; past
this the cache projects them and lets the store's index answer."""

UNPROJECTED_BLOCKS_LOAD_SCAN_MAX = 20_000
"""The same when the cache loads an account's blocks (rarer: once per account)."""

PENDING_ENTRIES_FLUSH = 100
"""Accepted entries queued in memory before the cache hands them to the store, inside the same
transaction: memory stays bounded in a large group commit, and a store that sends writes without
waiting (PostgreSQL's pipeline) applies them while the next commands are decided."""

PROJECTION_LAG_ENTRIES_MAX = 20_000
"""Journal entries a writer may commit before the read models (blocks and the history indexes)
must show them: past this, the next commit, or the next flush of a long unit of work, projects
them in the same transaction. Projecting in bulk writes each changed block once however often it
changed, and one history row per account touched; every read projects first, so nobody sees the
lag."""

PROJECTION_LAG_EFFECTS_MAX = 200_000
"""Effects of unprojected entries a writer keeps in memory (one command can move many blocks)."""

PROJECTION_CHUNK_ENTRIES = 5_000
"""Entries read from the journal per step when projecting entries this process does not hold."""

CATCH_UP_ENTRIES_MAX = 5_000
"""Journal entries a cache replays to catch up with other writers before it reloads instead."""

QUERY_PAGE_SIZE_MAX = 1_000
"""Rows one query page returns at most."""

HISTORY_ROWS_READ_MAX = 100_000
"""History posting rows one provenance query reads per serial bucket: a page of a serial's
history stops there and resumes after the last entry it read, however busy the bucket."""

HISTORY_ROWS_PER_QUERY = 1_000
"""History posting rows read per query while looking for a serial's entries, so that a serial
found in the first rows costs no more."""

SERIAL_HISTORY_PAGE_SIZE_MAX = 1_000
"""Entries one page of a serial's history holds at most; the next page resumes after the last."""

CATALOGS_MAX = 1_000
"""Catalogs a ledger keeps (one per change of rules its entries were decided under) that verify
and deciding again read; verify reports a ledger holding more."""
