"""`carbonex project ...`: a project from creation to issued units on the command line."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from carbonex.cli import projects
from carbonex.ledger import Ledger, OpenAccount
from tests.cli.helpers import EXIT_REFUSED, EXIT_USAGE, holdings, invoke, invoke_json

PROPONENT = ("--role", "project_proponent", "--actor", "alice")
VVB = ("--role", "validation_verification_body", "--actor", "vince")
ADMIN = ("--role", "standard_administrator", "--actor", "carol")


def programme_accounts(database_url: str) -> None:
    with Ledger.open(database_url) as ledger:
        outcomes = ledger.submit_many(
            [
                OpenAccount("o1", "A64-ISSUANCE", "issuance", "Mechanism registry", "A64M"),
                OpenAccount("o2", "SOLAR", "company_holding", "Solar Ltd", "A64M"),
                OpenAccount("o3", "AF", "share_of_proceeds", "Adaptation Fund"),
                OpenAccount("o4", "OMGE", "omge_cancellation", "OMGE", "A64M"),
            ]
        )
    assert all(outcome.accepted for outcome in outcomes)


def act(database_url: str, *args: str) -> dict[str, object]:
    record: dict[str, object] = invoke_json("project", "act", "P-1", *args, "--db", database_url)
    return record


def test_a_project_is_created_registered_monitored_verified_and_issued(
    database_url: str, tmp_path: Path
) -> None:
    programme_accounts(database_url)
    pdd = tmp_path / "pdd.pdf"
    pdd.write_bytes(b"project design document")
    document = ("--document", str(pdd))
    created = invoke_json(
        "project", "create", "P-1", "--standard", "A6.4M", "--name", "Solar Park",
        "--host-country", "gh", "--methodology", "ACM0002", "--proponent-account", "SOLAR",
        "--actor", "alice", "--db", database_url,
    )  # fmt: skip
    assert created["state"] == "draft"
    act(database_url, "list", *PROPONENT, *document)
    act(database_url, "validate", *VVB, *document)
    act(database_url, "register", *ADMIN, *document, "--period", "2025-01-01..2030-01-01")
    act(database_url, "submit_monitoring_report", *PROPONENT, *document,
        "--period", "2025-01-01..2026-01-01", "--quantity", "1000")  # fmt: skip
    act(database_url, "verify", *VVB, *document, "--quantity", "1000")
    issued = act(database_url, "approve_issuance", *ADMIN, "--request-id", "issue-1")
    assert issued["outcome"] == {
        "quantity_t": 1000,
        "to_proponent_t": 930,
        "share_of_proceeds_t": 50,
        "omge_cancelled_t": 20,
        "buffer_t": 0,
        "deductions_owed_t": {"share_of_proceeds": 50, "omge": 20},
        "journal_seq": 5,
        "journal_seq_last": 8,
        "command_id_prefix": issued["outcome"]["command_id_prefix"],  # type: ignore[index]
    }
    assert holdings(database_url, "SOLAR") == {"active": 930}
    shown = invoke_json("project", "show", "P-1", "--db", database_url)
    documents = shown["history"][1]["request"]["documents"]
    assert documents == [["pdd.pdf", hashlib.sha256(b"project design document").hexdigest()]]
    assert shown["monitoring_reports"][0]["status"] == "issued"
    table = invoke("project", "show", "P-1", "--db", database_url)
    assert table.exit_code == 0 and "approve_issuance" in table.stdout
    listed = invoke_json("project", "list", "--db", database_url)
    assert [p["project_id"] for p in listed] == ["P-1"]
    assert invoke("verify", "--db", database_url).exit_code == 0


def test_a_refused_step_prints_its_code_and_exits_1(database_url: str) -> None:
    programme_accounts(database_url)
    result = invoke("project", "act", "NOPE", "list", *PROPONENT, "--db", database_url)
    assert result.exit_code == EXIT_REFUSED
    assert "E_PROJECT_UNKNOWN" in result.stdout


def test_malformed_periods_hashes_and_documents_are_usage_errors(database_url: str) -> None:
    base = ("project", "act", "P-1", "register", *ADMIN, "--db", database_url)
    assert invoke(*base, "--period", "2026-01-01").exit_code == EXIT_USAGE
    assert invoke(*base, "--document-hash", "nohash").exit_code == EXIT_USAGE
    assert invoke(*base, "--document", "/nonexistent/file.pdf").exit_code == EXIT_USAGE
    assert invoke(*base[:4], "--role", "king", "--actor", "x").exit_code == EXIT_USAGE


def test_show_of_an_unknown_project_exits_1(database_url: str) -> None:
    Ledger.open(database_url).close()
    result = invoke("project", "show", "NOPE", "--db", database_url, "--json")
    assert result.exit_code == 1 and result.stdout.strip() == "null"


def test_verify_fails_naming_the_projects_after_a_hand_altered_project_row(
    database_url: str,
) -> None:
    programme_accounts(database_url)
    invoke_json(
        "project", "create", "P-1", "--standard", "A6.4M", "--name", "Solar Park",
        "--host-country", "GH", "--methodology", "ACM0002", "--proponent-account", "SOLAR",
        "--actor", "alice", "--db", database_url,
    )  # fmt: skip
    with Ledger.open(database_url) as ledger:
        ledger.store.begin_write()
        ledger.store.execute("UPDATE projects SET name = 'Coal Park'")
        ledger.store.commit()
    report = invoke("verify", "--db", database_url, "--json")
    assert report.exit_code == 1
    assert "projects" in report.stdout and "Coal Park" in report.stdout


def test_calculate_shows_every_term_and_refuses_unknown_inputs() -> None:
    record = invoke_json(
        "project", "calculate", "ACM0002",
        "--input", "net_electricity_mwh=12000", "--input", "grid_emission_factor_t_per_mwh=0.8",
    )  # fmt: skip
    assert record["claimable_t"] == 9_600 and "baseline_emissions_t" in record["terms"]
    refused = invoke("project", "calculate", "ACM0002", "--input", "sunshine=5")
    assert refused.exit_code == EXIT_USAGE and "E_MONITORING_DATA_INVALID" in refused.output
    assert invoke("project", "calculate", "ACM0002", "--input", "nonsense").exit_code == EXIT_USAGE
    twice = (
        *("--input", "net_electricity_mwh=1", "--input", "net_electricity_mwh=2"),
        *("--input", "grid_emission_factor_t_per_mwh=0.8"),
    )
    assert invoke("project", "calculate", "ACM0002", *twice).exit_code == EXIT_USAGE


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux's /proc")
def test_a_document_that_fails_when_read_is_a_usage_error_naming_it(database_url: str) -> None:
    base = ("project", "act", "P-1", "register", *ADMIN, "--db", database_url)
    result = invoke(*base, "--document", "/proc/self/mem")
    assert result.exit_code == EXIT_USAGE
    assert "cannot read document /proc/self/mem" in result.stderr


def test_a_document_longer_than_the_limit_as_read_is_a_usage_error(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projects, "DOCUMENT_BYTES_MAX", 10)
    report = tmp_path / "report.pdf"
    report.write_bytes(b"eleven byte")
    base = ("project", "act", "P-1", "register", *ADMIN, "--db", database_url)
    result = invoke(*base, "--document", str(report))
    assert result.exit_code == EXIT_USAGE
    assert f"document {report} is larger than 10 bytes" in result.stderr


@pytest.mark.parametrize("period", ["2025-W01-1..2030-01-01", "20250101..20300101"])
def test_a_period_not_written_yyyy_mm_dd_is_a_usage_error(database_url: str, period: str) -> None:
    base = ("project", "act", "P-1", "register", *ADMIN, "--db", database_url)
    result = invoke(*base, "--period", period)
    assert result.exit_code == EXIT_USAGE
    assert "YYYY-MM-DD" in result.stderr


def test_calculate_converts_gases_with_the_named_standards_gwp_set() -> None:
    inputs = ("methane_to_flare_t=100", "flare_type=enclosed", "methane_baseline_destroyed_t=0",
              "electricity_consumed_mwh=0", "grid_emission_factor_t_per_mwh=0")  # fmt: skip
    options = [text for value in inputs for text in ("--input", value)]
    cdm = invoke_json("project", "calculate", "ACM0001", *options, "--standard", "CDM")
    assert (cdm["gwp_set"], cdm["claimable_t"]) == ("AR4", 2_025)  # 100 x 0.9 x 0.9 x 25
    default = invoke_json("project", "calculate", "ACM0001", *options)
    assert (default["gwp_set"], default["claimable_t"]) == ("AR5", 2_268)
    unknown = invoke("project", "calculate", "ACM0001", *options, "--standard", "NOPE")
    assert unknown.exit_code == EXIT_USAGE
    assert "E_STANDARD_UNKNOWN" in unknown.output
