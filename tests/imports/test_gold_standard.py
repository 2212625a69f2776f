"""Importing synthetic Gold Standard exports, with and without source serials."""

from __future__ import annotations

from functools import partial
from pathlib import Path

import pytest

from carbonex.imports import gold_standard, import_gold_standard
from carbonex.imports.gold_standard import (
    BENEFICIARY_NOT_STATED,
    GS_BATCH_SERIALS,
    HOLDING_ACCOUNT_ID,
    WITHOUT_SERIALS_FIRST_SERIAL,
    WITHOUT_SERIALS_LABEL,
)
from carbonex.imports.report import ImportRefusedError
from carbonex.ledger import Ledger
from tests.imports.support import (
    GS_ISSUANCES,
    GS_RETIREMENTS,
    assert_imported_again_unchanged,
    corrupted_copy,
    snapshot,
)


def test_retirement_export_imports_every_row_retired(ledger: Ledger) -> None:
    report = import_gold_standard(ledger, GS_RETIREMENTS)
    assert report.ok and (report.rows_read, report.retired) == (4, 4)
    totals = ledger.summary()["totals"]
    assert totals["issued"] == totals["retired"] == 100 + 1_250 + 40 + 40
    batch = 19573 * GS_BATCH_SERIALS  # the batch of GS1-1-IN-GS2446-16-2019-19573-1-100
    with_serials = ledger.provenance("GS/GS-VER", batch + 100)
    assert with_serials is not None
    assert with_serials["issuance"]["attributes"]["labels"] == []
    assert with_serials["history"][-1]["details"]["beneficiary"] == "Acme Bakery GmbH"
    assigned = ledger.provenance("GS/GS-VER", WITHOUT_SERIALS_FIRST_SERIAL)  # past every batch
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


def _only_reason(ledger: Ledger, path: Path) -> str:
    """The one bad row's reason, the ledger unchanged."""
    before = snapshot(ledger)
    [problem] = import_gold_standard(ledger, path).problems
    assert snapshot(ledger) == before
    return problem.reason


def test_a_vintage_the_serial_contradicts_is_a_bad_row(ledger: Ledger, tmp_path: Path) -> None:
    bad = corrupted_copy(GS_RETIREMENTS, tmp_path / "bad.csv", 2, ",2019,", ",2005,")
    assert _only_reason(ledger, bad) == "Vintage 2005 differs from the serial's 2019"


def test_a_country_the_serial_contradicts_is_a_bad_row(ledger: Ledger, tmp_path: Path) -> None:
    bad = corrupted_copy(GS_RETIREMENTS, tmp_path / "bad.csv", 2, ",India,", ",Kenya,")
    assert _only_reason(ledger, bad) == "Country KE differs from the serial's IN"


def test_a_quantity_error_names_the_quantity_column(ledger: Ledger, tmp_path: Path) -> None:
    bad = corrupted_copy(GS_ISSUANCES, tmp_path / "bad.csv", 3, ",500,", ",1.5,")
    assert _only_reason(ledger, bad) == "Quantity '1.5' is not a whole number"


def test_vintage_year_zero_is_not_a_year(ledger: Ledger, tmp_path: Path) -> None:
    bad = corrupted_copy(GS_ISSUANCES, tmp_path / "bad.csv", 3, ",2020,", ",0000,")
    assert _only_reason(ledger, bad) == "Vintage '0000' is not a year"


def test_a_header_naming_a_column_twice_refuses_the_file(ledger: Ledger, tmp_path: Path) -> None:
    header, *rows = GS_ISSUANCES.read_text(encoding="utf-8-sig").splitlines()
    repeated = tmp_path / "repeated.csv"
    repeated.write_text("\n".join([f"{header},Country", *(f"{row},KE" for row in rows)]) + "\n")
    before = snapshot(ledger)
    with pytest.raises(ImportRefusedError, match=r"repeats column\(s\) \['Country'\]"):
        import_gold_standard(ledger, repeated)
    assert snapshot(ledger) == before


def test_a_vintage_or_a_retirement_date_yet_to_come_is_a_bad_row(
    ledger: Ledger, tmp_path: Path
) -> None:
    """The ledger's clock stands at 2026-03-01 12:00 UTC: 2026-03-02 has begun somewhere."""
    vintage = corrupted_copy(GS_ISSUANCES, tmp_path / "vintage.csv", 3, ",2020,", ",2027,")
    assert _only_reason(ledger, vintage) == (
        "Vintage 2027 has not begun yet: the latest day begun anywhere is 2026-03-02"
    )
    retired = corrupted_copy(
        GS_RETIREMENTS, tmp_path / "retired.csv", 2, ",2022-03-15,", ",2026-03-03,"
    )
    assert _only_reason(ledger, retired) == (
        "Retirement Date 2026-03-03 has not begun yet: the latest day begun anywhere is 2026-03-02"
    )


TWO_BATCHES = (
    "GSID,Project Name,Country,Quantity,Vintage,Issuance Date,Serial Number\n"
    "2446,Cookstoves,India,100,2019,2021-06-30,GS1-1-IN-GS2446-16-2019-19573-1-100\n"
    "7123,Reforestation,Kenya,40,2020,2022-11-02,GS1-1-KE-GS7123-16-2020-20001-1-40\n"
)


def test_two_issuance_batches_each_numbered_from_one_are_both_imported(
    ledger: Ledger, tmp_path: Path
) -> None:
    """Gold Standard numbers serials within an issuance batch: each batch's serials are kept
    apart in the ledger's serial space (batch x GS_BATCH_SERIALS + serial)."""
    path = tmp_path / "two-batches.csv"
    path.write_text(TWO_BATCHES)
    report = import_gold_standard(ledger, path)
    assert report.ok and report.blocks_imported == 2, report.row_problems
    first = ledger.provenance("GS/GS-VER", 19573 * GS_BATCH_SERIALS + 100)
    second = ledger.provenance("GS/GS-VER", 20001 * GS_BATCH_SERIALS + 1)
    assert first is not None and first["issuance"]["attributes"]["project_id"] == "GS2446"
    assert second is not None and second["issuance"]["attributes"]["project_id"] == "GS7123"
    assert ledger.provenance("GS/GS-VER", 1) is None
    assert ledger.verify().ok


def test_a_serial_past_what_one_batch_holds_is_a_bad_row(ledger: Ledger, tmp_path: Path) -> None:
    past = f"GS1-1-IN-GS2446-16-2019-19573-{GS_BATCH_SERIALS}-{GS_BATCH_SERIALS + 99}"
    path = tmp_path / "past.csv"
    path.write_text(TWO_BATCHES.replace("GS1-1-IN-GS2446-16-2019-19573-1-100", past))
    assert "batch" in _only_reason(ledger, path)


def test_a_file_imported_with_serials_numbered_across_batches_imports_again_as_duplicates(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An earlier Carbonex issued a batch's serials as the string numbers them (1-100, in one
    space for every batch): re-importing that file finds those entries and changes nothing."""
    path = tmp_path / "one-batch.csv"
    path.write_text(TWO_BATCHES.splitlines(keepends=True)[0] + TWO_BATCHES.splitlines()[1] + "\n")
    earlier = gold_standard.serial_as_written  # as it was: one numbering for every batch
    monkeypatch.setattr(gold_standard, "ledger_first_serial", earlier)
    assert import_gold_standard(ledger, path).blocks_imported == 1
    assert ledger.provenance("GS/GS-VER", 100) is not None
    monkeypatch.undo()
    before = snapshot(ledger)
    report = import_gold_standard(ledger, path)
    assert (report.blocks_imported, report.blocks_already_present) == (0, 1), report.row_problems
    assert snapshot(ledger) == before


ONE_BATCH_IN_TWO_FILES = (
    "GSID,Project Name,Country,Quantity,Vintage,Issuance Date,Serial Number\n"
    "2446,Cookstoves,India,100,2019,2021-06-30,GS1-1-IN-GS2446-16-2019-19573-{first}-{last}\n"
)
WITHOUT_SERIALS = "2446,Cookstoves,India,50,2019,2021-06-30,\n"


def test_rows_without_serials_never_overlap_a_later_files_real_serials_of_the_same_batch(
    ledger: Ledger, tmp_path: Path
) -> None:
    """Rows without serials are placed from WITHOUT_SERIALS_FIRST_SERIAL, past every batch's
    place: the rest of batch 19573, numbered later, is still free."""
    first = tmp_path / "first.csv"
    first.write_text(ONE_BATCH_IN_TWO_FILES.format(first=1, last=100) + WITHOUT_SERIALS * 2)
    assert import_gold_standard(ledger, first).blocks_imported == 3
    for place in (WITHOUT_SERIALS_FIRST_SERIAL, WITHOUT_SERIALS_FIRST_SERIAL + 99):
        unnumbered = ledger.provenance("GS/GS-VER", place)
        assert unnumbered is not None
        assert unnumbered["issuance"]["attributes"]["labels"] == [WITHOUT_SERIALS_LABEL]
    later = tmp_path / "later.csv"
    later.write_text(ONE_BATCH_IN_TWO_FILES.format(first=101, last=200))
    report = import_gold_standard(ledger, later)
    assert report.ok and report.blocks_imported == 1, report.row_problems
    assert_imported_again_unchanged(ledger, lambda: import_gold_standard(ledger, first), 3)


def test_a_batch_in_the_place_of_rows_without_serials_is_a_bad_row(
    ledger: Ledger, tmp_path: Path
) -> None:
    batch = WITHOUT_SERIALS_FIRST_SERIAL // GS_BATCH_SERIALS
    reserved = f"GS1-1-IN-GS2446-16-2019-{batch}-1-100"
    path = tmp_path / "reserved.csv"
    path.write_text(TWO_BATCHES.replace("GS1-1-IN-GS2446-16-2019-19573-1-100", reserved))
    assert _only_reason(ledger, path) == (
        f"batch {batch:,} is in the place kept for rows without serials (from batch {batch:,})"
    )


def test_a_file_imported_with_rows_without_serials_placed_after_the_highest_serial_imports_again(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An earlier Carbonex let the ledger place rows without serials (the next free serial):
    re-importing that file finds those entries and changes nothing."""
    monkeypatch.setattr(gold_standard.WithoutSerialsPlaces, "first_serial", lambda *_: None)
    assert import_gold_standard(ledger, GS_RETIREMENTS).blocks_imported == 4
    assert ledger.provenance("GS/GS-VER", 19573 * GS_BATCH_SERIALS + 101) is not None
    monkeypatch.undo()
    assert_imported_again_unchanged(ledger, lambda: import_gold_standard(ledger, GS_RETIREMENTS), 4)


SAME_UNITS_RETIRED = (
    "GSID,Project Name,Country,Project Type,Methodology,Quantity,Vintage,Retirement Date,"
    "Using Entity,Note,Serial Number\n"
    "2446,Cookstoves,India,Energy Efficiency,GS TPDDTEC,100,2019,2022-03-15,Acme Bakery GmbH,,"
    "GS1-1-IN-GS2446-16-2019-19573-1-100\n"
)


def _same_units(tmp_path: Path) -> tuple[Path, Path]:
    """An issuance export and a retirement export of the same hundred units."""
    issued, retired = tmp_path / "issued.csv", tmp_path / "retired.csv"
    issued.write_text(ONE_BATCH_IN_TWO_FILES.format(first=1, last=100))
    retired.write_text(SAME_UNITS_RETIRED)
    return issued, retired


def test_a_retirement_export_retires_the_units_an_issuance_export_imported(
    ledger: Ledger, tmp_path: Path
) -> None:
    issued, retired = _same_units(tmp_path)
    assert import_gold_standard(ledger, issued).held == 1
    report = import_gold_standard(ledger, retired)
    assert report.ok, report.row_problems
    assert (report.blocks_imported, report.blocks_already_present, report.retired) == (0, 1, 1)
    totals = ledger.summary()["totals"]
    assert (totals["issued"], totals["retired"], totals["held"]) == (100, 100, 0)
    serial = ledger.provenance("GS/GS-VER", 19573 * GS_BATCH_SERIALS + 1)
    assert serial is not None and serial["history"][-1]["details"]["beneficiary"] == (
        "Acme Bakery GmbH"
    )
    for path in (retired, issued):
        assert_imported_again_unchanged(ledger, partial(import_gold_standard, ledger, path), 1)


def test_an_issuance_export_of_units_a_retirement_export_imported_changes_nothing(
    ledger: Ledger, tmp_path: Path
) -> None:
    issued, retired = _same_units(tmp_path)
    assert import_gold_standard(ledger, retired).retired == 1
    before = snapshot(ledger)
    report = import_gold_standard(ledger, issued)
    assert report.ok, report.row_problems
    assert (report.blocks_imported, report.blocks_already_present, report.held) == (0, 1, 0)
    assert snapshot(ledger) == before
