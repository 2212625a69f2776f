"""`carbonex bench import` and `carbonex bench issuance`: the project-cycle throughput suites.

import: a synthetic Verra VCU export in the real format (the header of the public export, both
quoting rules, 13-field serials) imported into a fresh SQLite ledger: `import_rows_per_s`.
issuance: end to end through the project registry: a monitoring report whose claim the
grid-electricity calculator (ACM0002) computes, its verification, and the approval that issues
the verified quantity with the Article 6.4 deductions (issue, proponent, share of proceeds, OMGE
cancellation) in the same transaction: `issuances_per_s`.
"""

from __future__ import annotations

import csv
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from carbonex.bench.common import machine_fields, peak_rss_mb, rate_per_s
from carbonex.imports.verra import import_verra
from carbonex.ledger import Ledger, OpenAccount
from carbonex.projects.events import ProjectRequest
from carbonex.projects.methodologies import grid_electricity
from carbonex.projects.outcomes import ProjectOutcome
from carbonex.projects.registry import ProjectParticulars, ProjectRegistry

IMPORT_ROWS = 50_000
ISSUANCES = 2_000
BENCH_PROJECTS_PER_BATCH = 200
BENCH_ISSUANCES_PER_BATCH = 100
BENCH_DOCUMENTS = (("report.pdf", "0" * 64),)
PROPONENT, VVB = "project_proponent", "validation_verification_body"
ADMINISTRATOR = "standard_administrator"
BENCH_ACTORS = {PROPONENT: "pp", VVB: "vvb", ADMINISTRATOR: "admin"}
"""One person per role: the lifecycle refuses a validator who is the proponent, a registrar who
validated, and so on."""
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


def _open_accounts(ledger: Ledger) -> None:
    outcomes = ledger.submit_many(
        [
            OpenAccount("o1", "A64-ISSUANCE", "issuance", "A6.4 mechanism registry", "A64M"),
            OpenAccount("o2", "PROPONENT", "company_holding", "Proponent"),
            OpenAccount("o3", "ADAPTATION-FUND", "share_of_proceeds", "Adaptation Fund"),
            OpenAccount("o4", "OMGE", "omge_cancellation", "OMGE cancellation", "A64M"),
        ]
    )
    if not all(outcome.accepted for outcome in outcomes):
        raise RuntimeError(f"bench setup refused: {outcomes}")


def _register_projects(registry: ProjectRegistry, count: int) -> list[str]:
    """`count` registered A6.4 projects (not timed)."""
    project_ids = [f"A64-{number:05d}" for number in range(count)]
    for first in range(0, count, BENCH_PROJECTS_PER_BATCH):
        requests: list[tuple[str, ProjectRequest]] = []
        for project_id in project_ids[first : first + BENCH_PROJECTS_PER_BATCH]:
            details = ProjectParticulars(
                project_id, "A6.4M", "avoidance", f"Solar {project_id}", "GH", "ACM0002",
                "PROPONENT",
            ).details()  # fmt: skip
            requests.append((f"{project_id}/create", ProjectRequest(
                project_id, "create", "pp", PROPONENT, details=details)))  # fmt: skip
            for action, role, period in (
                ("list", PROPONENT, None),
                ("validate", VVB, None),
                ("register", ADMINISTRATOR, ("2025-01-01", "2030-01-01")),
            ):
                actor = BENCH_ACTORS[role]
                request = ProjectRequest(project_id, action, actor, role, BENCH_DOCUMENTS, period)
                requests.append((f"{project_id}/{action}", request))
        _all_accepted(registry.act_many(requests))
    return project_ids


def _all_accepted(outcomes: list[ProjectOutcome]) -> int:
    refused = [outcome for outcome in outcomes if not outcome.accepted]
    if refused:
        raise RuntimeError(f"bench request refused: {refused[0]}")
    return len(outcomes)


def _cycle(project_id: str, number: int) -> list[tuple[str, ProjectRequest]]:
    """Monitoring report (claimed by the ACM0002 calculator), verification, approval."""
    result = grid_electricity(Decimal(10_000 + number), Decimal("0.8765"))
    claimed_t = result.credited_t
    period = ("2025-01-01", "2026-01-01")
    return [
        (f"{project_id}/mr", ProjectRequest(project_id, "submit_monitoring_report", "pp",
                                            PROPONENT, BENCH_DOCUMENTS, period, claimed_t)),
        (f"{project_id}/verify", ProjectRequest(project_id, "verify", "vvb", VVB,
                                                BENCH_DOCUMENTS, None, claimed_t)),
        (f"{project_id}/approve", ProjectRequest(project_id, "approve_issuance", "admin",
                                                 ADMINISTRATOR)),
    ]  # fmt: skip


def _timed_issuances(registry: ProjectRegistry, project_ids: list[str], batched: bool) -> float:
    started = time.perf_counter()
    if batched:
        for first in range(0, len(project_ids), BENCH_ISSUANCES_PER_BATCH):
            group = project_ids[first : first + BENCH_ISSUANCES_PER_BATCH]
            requests = [r for n, p in enumerate(group, first) for r in _cycle(p, n)]
            _all_accepted(registry.act_many(requests))
    else:
        for number, project_id in enumerate(project_ids):
            for request_id, request in _cycle(project_id, number):
                _all_accepted([registry.act(request_id, request)])
    return time.perf_counter() - started


def run_issuance(*, scale: float = 1.0, **_options: Any) -> dict[str, Any]:
    """End to end through the project registry: for each of `ISSUANCES` registered projects a
    monitoring report, its verification and the approved issuance with A6.4 deductions.
    `issuances_per_s`: cycles submitted BENCH_ISSUANCES_PER_BATCH at a time (one transaction
    each); `issuances_per_s_one_request_per_commit`: every request its own transaction."""
    count = max(5, round(ISSUANCES * scale))
    figures: dict[str, Any] = {"issuances": count}
    for batched, field in ((True, "issuances_per_s"),
                           (False, "issuances_per_s_one_request_per_commit")):  # fmt: skip
        with (
            tempfile.TemporaryDirectory(prefix="carbonex-bench-issuance-") as name,
            Ledger.open(str(Path(name) / "issuance.db")) as ledger,
        ):
            _open_accounts(ledger)
            registry = ProjectRegistry(ledger)
            project_ids = _register_projects(registry, count)
            seconds = _timed_issuances(registry, project_ids, batched)
            figures[field] = rate_per_s(count, seconds)
            issued = ledger.summary()["totals"]["issued"]
            figures["issuance_verified"] = (
                figures.get("issuance_verified", True)
                and ledger.verify().ok
                and registry.verify() == []
                and issued
                == sum(_cycle(p, n)[1][1].quantity_t or 0 for n, p in enumerate(project_ids))
            )
    return figures | {"peak_rss_mb": peak_rss_mb()} | machine_fields()
