"""Importing synthetic Gold Standard exports, with and without source serials."""

from __future__ import annotations

from pathlib import Path

from carbonex.imports import import_gold_standard
from carbonex.imports.gold_standard import (
    BENEFICIARY_NOT_STATED,
    HOLDING_ACCOUNT_ID,
    WITHOUT_SERIALS_LABEL,
)
from carbonex.ledger import Ledger
from tests.imports.support import GS_ISSUANCES, GS_RETIREMENTS, corrupted_copy, snapshot


def test_retirement_export_imports_every_row_retired(ledger: Ledger) -> None:
    report = import_gold_standard(ledger, GS_RETIREMENTS)
    assert report.ok and (report.rows_read, report.retired) == (4, 4)
    totals = ledger.summary()["totals"]
    assert totals["issued"] == totals["retired"] == 100 + 1_250 + 40 + 40
    with_serials = ledger.provenance("GS/GS-VER", 100)
    assert with_serials is not None
    assert with_serials["issuance"]["attributes"]["labels"] == []
    assert with_serials["history"][-1]["details"]["beneficiary"] == "Acme Bakery GmbH"
    assigned = ledger.provenance("GS/GS-VER", 101)
    assert assigned is not None
    assert assigned["issuance"]["attributes"]["labels"] == [WITHOUT_SERIALS_LABEL]
    assert assigned["history"][-1]["details"]["beneficiary"] == BENEFICIARY_NOT_STATED
    assert ledger.verify().ok


def test_identical_rows_are_two_blocks_and_reimport_changes_nothing(ledger: Ledger) -> None:
    import_gold_standard(ledger, GS_RETIREMENTS)
    removal = [
        line for line in ledger.summary()["by_project_vintage"] if line["project_id"] == "GS7123"
    ]
    assert [line["retired"] for line in removal] == [80]
    before = snapshot(ledger)
    report = import_gold_standard(ledger, GS_RETIREMENTS)
    assert (report.blocks_imported, report.blocks_already_present) == (0, 4)
    assert snapshot(ledger) == before


def test_issuance_export_leaves_blocks_active(ledger: Ledger) -> None:
    report = import_gold_standard(ledger, GS_ISSUANCES)
    assert (report.blocks_imported, report.held) == (2, 2)
    held = sum(row["quantity"] for row in ledger.holdings(HOLDING_ACCOUNT_ID))
    assert held == 2_500


def test_unknown_country_is_a_bad_row(ledger: Ledger, tmp_path: Path) -> None:
    bad = corrupted_copy(GS_ISSUANCES, tmp_path / "bad.csv", 3, ",KE,", ",Narnia,")
    before = snapshot(ledger)
    report = import_gold_standard(ledger, bad)
    assert [(p.line, "Narnia" in p.reason) for p in report.problems] == [(3, True)]
    assert snapshot(ledger) == before
