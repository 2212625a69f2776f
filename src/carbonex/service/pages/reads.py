"""Read-only queries the pages need beyond the ledger's and registries' own reads: display
names, the start of an account's recent movements, categories per project and vintage, and the
serial spaces in use. Each runs in one read transaction on the caller's (event loop) thread."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from typing import Any

from carbonex.ledger import Ledger, queries
from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX
from carbonex.service import charts
from carbonex.store import SqlStore

SERIAL_SPACES_MAX = 100


def display_name(ledger: Ledger, user_id: str) -> str:
    query = "SELECT display_name FROM users WHERE user_id = ?"
    row = ledger.read(lambda store: store.query_one(query, (user_id,)))
    return str(row[0]) if row else user_id


def recent_movements(ledger: Ledger, account_id: str, lines: int) -> list[dict[str, Any]]:
    """The account's last `lines` movements, newest first: read entry by entry from the newest,
    since one entry may move more ranges than a statement page holds (a page read from the
    oldest of the last entries ended inside it, before the newest movements)."""
    lines = max(1, min(lines, QUERY_PAGE_SIZE_MAX))

    def newest(store: SqlStore) -> list[dict[str, Any]]:
        seqs = queries.account_entry_seqs(store, account_id, 0, lines, newest_first=True)
        found: list[dict[str, Any]] = []
        for seq in seqs:
            page = queries.statement(store, account_id, lines - len(found), seq - 1)
            found += reversed([line for line in page if line["seq"] == seq])
            if len(found) >= lines:
                break
        return found

    return ledger.read(newest)


def recent_journal(ledger: Ledger, entries: int) -> list[dict[str, Any]]:
    """The last `entries` journal entries, newest first."""
    head = int(ledger.head()["seq"])
    return list(reversed(ledger.journal(entries, max(0, head - entries))))


def categories(ledger: Ledger) -> dict[charts.ProjectVintage, str]:
    rows = ledger.read(
        lambda store: store.query(
            "SELECT unit_type, project_id, vintage_start, vintage_end, category "
            "FROM unit_attributes GROUP BY unit_type, project_id, vintage_start, vintage_end, "
            "category"
        )
    )
    return charts.category_map((str(a), str(b), str(c), str(d), str(e)) for a, b, c, d, e in rows)


def serial_spaces(ledger: Ledger) -> list[str]:
    rows = ledger.read(
        lambda store: store.query(
            "SELECT DISTINCT serial_space FROM issuances ORDER BY serial_space LIMIT ?",
            (SERIAL_SPACES_MAX,),
        )
    )
    return [str(row[0]) for row in rows]


def quantities_by_metric(ledger: Ledger, holdings: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """The holdings' quantities added up per metric: tonnes, MWh and points never add up."""
    metrics = ledger.catalog.metric_of()
    totals: dict[str, int] = defaultdict(int)
    for holding in holdings:
        totals[metrics.get(holding["unit_type"], queries.UNKNOWN_METRIC)] += int(
            holding["quantity"]
        )
    return dict(sorted(totals.items()))
