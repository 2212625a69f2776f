"""The import and issuance suites run at a tiny scale and report verified, consistent results."""

from carbonex.bench import SUITES


def test_the_import_suite_imports_every_synthetic_row_and_its_tonnes() -> None:
    results = SUITES["import"](scale=0.001)
    assert results["import_rows"] == 50
    assert results["import_tonnes_match"] and results["import_verified"]
    assert results["import_rows_per_s"] > 0


def test_the_issuance_suite_goes_through_the_project_registry_and_the_ledger() -> None:
    results = SUITES["issuance"](scale=0.005)
    assert results["issuances"] == 10
    assert results["issuance_verified"]  # both ledgers and project chains verify, totals match
    assert results["issuances_per_s"] > 0
    assert results["issuances_per_s_one_request_per_commit"] > 0
