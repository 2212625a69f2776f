"""`carbonex bench import` and `carbonex bench issuance`: the project-cycle throughput suites.

import: a synthetic Verra VCU export in the real format (the header of the public export, both
quoting rules, 13-field serials) imported into a fresh SQLite ledger: `import_rows_per_s`.
issuance: verified quantities computed with the grid-electricity calculator (ACM0002), split
under the Article 6.4 deductions and issued as one ledger batch each (issue, proponent, share of
proceeds, OMGE cancellation): `issuances_per_s`.
"""

from __future__ import annotations

import csv
import datetime as dt
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from carbonex.bench.common import machine_fields, peak_rss_mb, rate_per_s
from carbonex.catalog.standards import default_project_catalog
from carbonex.imports.verra import import_verra
from carbonex.ledger import Ledger, OpenAccount, Refused, UnitAttributes
from carbonex.projects.issuance import IssuanceAccounts, issue_verified
from carbonex.projects.methodologies import grid_electricity

IMPORT_ROWS = 50_000
ISSUANCES = 5_000
ROWS_PER_BATCH_SERIAL_GAP = 7
VERRA_HEADER = (
    "Issuance Date",
    "Sustainable Development Goals",
    "Vintage Start",
    "Vintage End",
    "ID",
    "Name",
    "Country/Area",
    "Project Type",
    "Methodology",
    "Total Vintage Quantity",
    "Quantity Issued",
    "Serial Number",
    "Additional Certifications",
    "Retirement/Cancellation Date",
    "Retirement Beneficiary",
    "Retirement Reason",
    "Retirement Details",
)


def write_verra_file(path: Path, rows: int) -> int:
    """A file in the public export's format; returns the tonnes it retires."""
    tonnes = 0
    first = 100_000_000
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(VERRA_HEADER)
        for row in range(rows):
            project = 1000 + row % 50
            quantity = 1 + (row * 7919) % 4999
            last = first + quantity - 1
            serial = (
                f"{16000 + row // 100}-{first}-{last}-VCS-VCU-997-VER-SG-1-{project}-"
                "01012021-31122021-0"
            )
            writer.writerow(
                [
                    "2024-02-02",
                    "",
                    "2021-01-01",
                    "2021-12-31",
                    project,
                    f"Synthetic project {project}",
                    "Singapore",
                    "Energy industries",
                    "AM0029",
                    f"{1_000_000:,}",
                    f"{quantity:,}",
                    serial,
                    "",
                    "2024-06-03",
                    f"Beneficiary {row % 97}",
                    "Voluntary offsetting",
                    "",
                ]
            )
            tonnes += quantity
            first = last + ROWS_PER_BATCH_SERIAL_GAP
    return tonnes


def run_import(*, scale: float = 1.0, **_options: Any) -> dict[str, Any]:
    rows = max(10, round(IMPORT_ROWS * scale))
    with tempfile.TemporaryDirectory(prefix="carbonex-bench-import-") as name:
        path = Path(name) / "vcus.csv"
        tonnes = write_verra_file(path, rows)
        with Ledger.open(str(Path(name) / "import.db")) as ledger:
            started = time.perf_counter()
            report = import_verra(ledger, path)
            seconds = time.perf_counter() - started
            retired = ledger.summary()["totals"]["retired"]
            verified = ledger.verify().ok
    return {
        "import_rows": rows,
        "import_seconds": round(seconds, 3),
        "import_rows_per_s": rate_per_s(report.rows_read, seconds),
        "import_tonnes_match": retired == tonnes and report.committed,
        "import_verified": verified,
        "peak_rss_mb": peak_rss_mb(),
    } | machine_fields()


A64_ACCOUNTS = IssuanceAccounts(
    issuance_account_id="A64-ISSUANCE",
    proponent_account_id="PROPONENT",
    deduction_account_ids={"share_of_proceeds": "ADAPTATION-FUND", "omge": "OMGE"},
)


def _open_accounts(ledger: Ledger) -> None:
    ledger.submit_many(
        [
            OpenAccount("o1", "A64-ISSUANCE", "issuance", "A6.4 mechanism registry", "A64M"),
            OpenAccount("o2", "PROPONENT", "company_holding", "Proponent"),
            OpenAccount("o3", "ADAPTATION-FUND", "share_of_proceeds", "Adaptation Fund"),
            OpenAccount("o4", "OMGE", "omge_cancellation", "OMGE cancellation"),
        ]
    )


def run_issuance(*, scale: float = 1.0, **_options: Any) -> dict[str, Any]:
    count = max(5, round(ISSUANCES * scale))
    deductions = default_project_catalog().deductions["A6.4M"]
    refused = 0
    with (
        tempfile.TemporaryDirectory(prefix="carbonex-bench-issuance-") as name,
        Ledger.open(str(Path(name) / "issuance.db")) as ledger,
    ):
        _open_accounts(ledger)
        started = time.perf_counter()
        for number in range(count):
            result = grid_electricity(Decimal(10_000 + number), Decimal("0.8765"))
            attributes = UnitAttributes(
                "A6.4ER",
                "Article 6.4 mechanism",
                f"A64-{number % 200:04d}",
                dt.date(2026, 1, 1),
                dt.date(2026, 12, 31),
                "GH",
                "ACM0002",
            )
            split_and_outcome = issue_verified(
                ledger, f"req-{number}", attributes, result.credited_t, deductions, A64_ACCOUNTS
            )
            refused += isinstance(split_and_outcome[1], Refused)
        seconds = time.perf_counter() - started
        verified = ledger.verify().ok
    return {
        "issuances": count,
        "issuance_seconds": round(seconds, 3),
        "issuances_per_s": rate_per_s(count - refused, seconds),
        "issuances_refused": refused,
        "issuance_verified": verified,
    } | machine_fields()
