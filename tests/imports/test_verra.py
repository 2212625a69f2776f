"""Importing the real Verra export: quantities, retirements, idempotency, bad rows."""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from carbonex.imports import import_verra, pipeline
from carbonex.imports.report import PROBLEMS_KEPT_MAX, ImportRefusedError
from carbonex.imports.serials import parse_verra
from carbonex.imports.verra import ACCOUNT_ID, BENEFICIARY_NOT_STATED, REASON_NOT_STATED
from carbonex.ledger import Issue, Ledger, OpenAccount
from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX
from tests.imports.support import (
    FIXTURES,
    VERRA_FILE,
    assert_imported_again_unchanged,
    corrupted_copy,
    snapshot,
)
from tests.ledger.support import VCU, accept

ROWS = 92


def csv_records(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def expected_per_project_vintage(path: Path) -> Counter[tuple[str, str, str]]:
    totals: Counter[tuple[str, str, str]] = Counter()
    for row in csv_records(path):
        key = (f"VCS-{row['ID']}", row["Vintage Start"], row["Vintage End"])
        totals[key] += int(row["Quantity Issued"].replace(",", ""))
    return totals


def test_the_fixture_is_a_copy_of_the_shared_file() -> None:
    copy = FIXTURES / "vcus_singapore.csv"
    assert copy.read_bytes() == VERRA_FILE.read_bytes()
    assert len(csv_records(copy)) == ROWS


def test_import_reproduces_quantities_per_project_and_vintage(ledger: Ledger) -> None:
    report = import_verra(ledger, VERRA_FILE)
    assert report.ok and report.rows_read == ROWS
    assert (report.blocks_imported, report.retired, report.cancelled) == (ROWS, ROWS, 0)
    found = {
        (line["project_id"], line["vintage_start"], line["vintage_end"]): line
        for line in ledger.summary()["by_project_vintage"]
    }
    expected = expected_per_project_vintage(VERRA_FILE)
    assert set(found) == set(expected)
    for key, quantity in expected.items():
        assert found[key]["issued"] == found[key]["retired"] == quantity
        assert found[key]["held"] == 0
    assert ledger.verify().ok


def test_every_row_is_retired_with_its_beneficiary_and_reason(ledger: Ledger) -> None:
    import_verra(ledger, VERRA_FILE)
    for row in csv_records(VERRA_FILE):
        serial = parse_verra(row["Serial Number"])
        life = ledger.provenance("VERRA/VCU", serial.last_serial)
        assert life is not None
        assert (life["issuance"]["first_serial"], life["issuance"]["last_serial"]) == (
            serial.first_serial,
            serial.last_serial,
        )
        assert life["current"]["state"] == "retired"
        details = life["history"][-1]["details"]
        assert details["beneficiary"] == (row["Retirement Beneficiary"] or BENEFICIARY_NOT_STATED)
        assert details["purpose"].startswith(row["Retirement Reason"] or REASON_NOT_STATED)
        assert f"Verra date {row['Retirement/Cancellation Date']}" in details["purpose"]
        if row["Retirement Details"]:
            assert row["Retirement Details"] in details["purpose"]


def test_statement_of_the_import_account_lists_every_block(ledger: Ledger) -> None:
    import_verra(ledger, VERRA_FILE)
    lines = ledger.statement(ACCOUNT_ID, limit=QUERY_PAGE_SIZE_MAX)
    assert Counter(line["action"] for line in lines) == {"issue": ROWS, "retire": ROWS}


def test_reimporting_changes_nothing(ledger: Ledger) -> None:
    import_verra(ledger, VERRA_FILE)
    before = snapshot(ledger)
    report = import_verra(ledger, VERRA_FILE)
    assert (report.blocks_imported, report.blocks_already_present) == (0, ROWS)
    assert snapshot(ledger) == before


def test_a_corrupted_row_refuses_the_file_with_its_line(ledger: Ledger, tmp_path: Path) -> None:
    bad = corrupted_copy(VERRA_FILE, tmp_path / "bad.csv", 5, ",585,", ",586,")
    before = snapshot(ledger)
    report = import_verra(ledger, bad)
    assert [problem.line for problem in report.problems] == [5]
    assert "586" in report.problems[0].reason and not report.committed
    assert snapshot(ledger) == before


def test_a_report_keeps_the_first_problems_and_counts_them_all(
    ledger: Ledger, tmp_path: Path
) -> None:
    junk_lines = PROBLEMS_KEPT_MAX + 500
    header = VERRA_FILE.read_text(encoding="utf-8-sig").splitlines(keepends=True)[0]
    junk = tmp_path / "junk.csv"
    junk.write_text(header + "x\n" * junk_lines, encoding="utf-8")
    report = import_verra(ledger, junk)
    assert report.problems_total == junk_lines and not report.ok and not report.committed
    assert [problem.line for problem in report.problems] == list(range(2, PROBLEMS_KEPT_MAX + 2))
    assert report.to_record()["problems_total"] == junk_lines


def test_skip_bad_rows_imports_the_rest(ledger: Ledger, tmp_path: Path) -> None:
    bad = corrupted_copy(VERRA_FILE, tmp_path / "bad.csv", 7, "-VCS-VCU-", "-VCS-VCU-x-")
    report = import_verra(ledger, bad, skip_bad_rows=True)
    assert [problem.line for problem in report.problems] == [7]
    assert report.blocks_imported == ROWS - 1
    assert ledger.summary()["totals"]["retired"] == sum(
        expected_per_project_vintage(bad).values()
    ) - (int(csv_records(bad)[5]["Quantity Issued"].replace(",", "")))
    assert ledger.verify().ok


def test_a_missing_header_column_refuses_the_file(ledger: Ledger, tmp_path: Path) -> None:
    bad = corrupted_copy(VERRA_FILE, tmp_path / "bad.csv", 1, "Serial Number", "Serial")
    before = snapshot(ledger)
    try:
        import_verra(ledger, bad, skip_bad_rows=True)
    except ValueError as error:
        assert "Serial Number" in str(error)
    else:
        raise AssertionError("a file without the Serial Number column was accepted")
    assert snapshot(ledger) == before


def test_cancellation_rows_are_cancelled_and_small_chunks_agree(
    ledger: Ledger, tmp_path: Path
) -> None:
    text = VERRA_FILE.read_text(encoding="utf-8-sig").splitlines(keepends=True)
    fields = next(csv.reader([text[1]]))
    fields[15], fields[16] = "Cancellation for other reasons", "Double-counting correction"
    path = tmp_path / "cancel.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(text[0])
        csv.writer(handle, lineterminator="\n").writerow(fields)
        handle.writelines(text[2:])
    report = import_verra(ledger, path, chunk_rows=7)
    assert (report.retired, report.cancelled) == (ROWS - 1, 1)
    assert ledger.summary()["totals"]["cancelled"] == int(fields[10].replace(",", ""))
    assert ledger.verify().ok


def test_skipping_bad_rows_undoes_a_row_the_ledger_refuses_and_commits_the_rest(
    ledger: Ledger,
) -> None:
    taken = parse_verra(csv_records(VERRA_FILE)[14]["Serial Number"])  # line 16's serials
    accept(ledger, OpenAccount("open-squatter", "SQUATTER", "company_holding", "Squatter"))
    accept(ledger, Issue("squat", "SQUATTER", 1, VCU, first_serial=taken.first_serial))
    # Chunks of 10: the chunk holding line 16 is refused whole, then tried row by row.
    report = import_verra(ledger, VERRA_FILE, skip_bad_rows=True, chunk_rows=10)
    assert [problem.line for problem in report.problems] == [16]
    assert "E_SERIAL_RANGE_OVERLAPS" in report.problems[0].reason
    assert report.committed and report.blocks_imported == ROWS - 1
    assert ledger.summary()["totals"]["retired"] == sum(
        expected_per_project_vintage(VERRA_FILE).values()
    ) - (taken.last_serial - taken.first_serial + 1)
    report = ledger.verify()
    assert report.ok, report.problems


def test_an_import_skipping_bad_rows_stopped_midway_leaves_nothing(
    ledger: Ledger, tmp_path: Path
) -> None:
    bad = corrupted_copy(VERRA_FILE, tmp_path / "bad.csv", 7, "-VCS-VCU-", "-VCS-VCU-x-")
    before = snapshot(ledger)

    def dies_after_three_chunks(rows_read: int) -> None:
        if rows_read >= 30:
            raise RuntimeError("the importing process died")

    with pytest.raises(RuntimeError, match="died"):
        import_verra(ledger, bad, True, 10, progress=dies_after_three_chunks)
    assert snapshot(ledger) == before
    report = import_verra(ledger, bad, skip_bad_rows=True, chunk_rows=10)
    assert report.blocks_imported == ROWS - 1


REASON_LENGTH_MAX = 300
"""A reason quoting a hostile value shortened (80 characters) plus its own words."""


def _with_repeated_serial_column(path: Path) -> Path:
    """The fixture's header and first row, each with a second Serial Number column holding
    another block's serials."""
    header, first_row = VERRA_FILE.read_text(encoding="utf-8-sig").splitlines()[:2]
    other = "16257-900000001-900000427-VCS-VCU-997-VER-SG-1-1736-01012021-31122021-0"
    path.write_text(f"{header},Serial Number\n{first_row},{other}\n", encoding="utf-8")
    return path


def test_a_header_naming_a_column_twice_refuses_the_file(ledger: Ledger, tmp_path: Path) -> None:
    repeated = _with_repeated_serial_column(tmp_path / "repeated.csv")
    before = snapshot(ledger)
    with pytest.raises(ImportRefusedError, match=r"repeats column\(s\) \['Serial Number'\]"):
        import_verra(ledger, repeated, skip_bad_rows=True)
    assert snapshot(ledger) == before


def test_a_vintage_the_serial_contradicts_is_a_bad_row(ledger: Ledger, tmp_path: Path) -> None:
    bad = corrupted_copy(
        VERRA_FILE, tmp_path / "bad.csv", 2, ",2021-01-01,2021-12-31,", ",2015-01-01,2015-12-31,"
    )
    before = snapshot(ledger)
    report = import_verra(ledger, bad)
    assert [problem.line for problem in report.problems] == [2]
    assert "differs from the serial's vintage 2021-01-01 to 2021-12-31" in report.problems[0].reason
    assert snapshot(ledger) == before


def test_an_unknown_country_name_is_a_bad_row(ledger: Ledger, tmp_path: Path) -> None:
    bad = corrupted_copy(VERRA_FILE, tmp_path / "bad.csv", 2, ",Singapore,", ",Narnia,")
    before = snapshot(ledger)
    report = import_verra(ledger, bad)
    assert [problem.line for problem in report.problems] == [2]
    assert "'Narnia' is not a known country name" in report.problems[0].reason
    assert snapshot(ledger) == before


@pytest.mark.parametrize("date", ["2024-W23-1", "20240603", "2024-06-3", "2024-06-03T00:00"])
def test_a_date_not_written_yyyy_mm_dd_is_a_bad_row(
    ledger: Ledger, tmp_path: Path, date: str
) -> None:
    bad = corrupted_copy(VERRA_FILE, tmp_path / "bad.csv", 2, ",2024-06-03,", f",{date},")
    report = import_verra(ledger, bad)
    assert [problem.line for problem in report.problems] == [2]
    assert report.problems[0].reason == (
        f"Retirement/Cancellation Date {date!r} is not a YYYY-MM-DD date"
    )


@pytest.mark.parametrize(
    ("quantity", "said"),
    [("x" * 130_000, "is not a whole number"), ("9" * 5_000, "has 5,000 digits, more than 19")],
    ids=["not a number", "thousands of digits"],
)
def test_a_hostile_quantity_gives_a_short_reason_naming_its_column(
    ledger: Ledger, tmp_path: Path, quantity: str, said: str
) -> None:
    bad = corrupted_copy(VERRA_FILE, tmp_path / "bad.csv", 2, ",427,", f",{quantity},")
    [problem] = import_verra(ledger, bad).problems
    assert problem.reason.startswith("Quantity Issued '") and said in problem.reason
    assert len(problem.reason) < REASON_LENGTH_MAX


def test_a_line_longer_than_the_limit_refuses_the_file_unread(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pipeline, "LINE_CHARACTERS_MAX", 1_000)
    long_line = corrupted_copy(VERRA_FILE, tmp_path / "long.csv", 5, ",,", "," + "d" * 2_000 + ",")
    before = snapshot(ledger)
    with pytest.raises(ImportRefusedError, match="line 5 is longer than 1,000 characters"):
        import_verra(ledger, long_line, skip_bad_rows=True)
    assert snapshot(ledger) == before


def test_a_vintage_or_a_retirement_date_yet_to_come_is_a_bad_row(
    ledger: Ledger, tmp_path: Path
) -> None:
    """The ledger's clock stands at 2026-03-01 12:00 UTC: 2026-03-02 has begun somewhere, not
    2026-03-03. Verra issues what was verified: no vintage or retirement lies ahead."""
    vintage = tmp_path / "vintage.csv"
    corrupted_copy(VERRA_FILE, vintage, 2, ",2021-01-01,2021-12-31,", ",2027-01-01,2027-12-31,")
    corrupted_copy(vintage, vintage, 2, "-01012021-31122021-", "-01012027-31122027-")
    retired = corrupted_copy(
        VERRA_FILE, tmp_path / "retired.csv", 2, ",2024-06-03,", ",2026-03-03,"
    )
    for path, said in [
        (vintage, "Vintage Start 2027-01-01"),
        (retired, "Retirement/Cancellation Date 2026-03-03"),
    ]:
        before = snapshot(ledger)
        report = import_verra(ledger, path)
        assert [(p.line, p.reason) for p in report.problems] == [
            (2, f"{said} has not begun yet: the latest day begun anywhere is 2026-03-02")
        ]
        assert snapshot(ledger) == before
    begun = corrupted_copy(VERRA_FILE, tmp_path / "begun.csv", 2, ",2024-06-03,", ",2026-03-02,")
    assert import_verra(ledger, begun).ok


BLOCK_SERIAL = "16257-751880934-751881360-VCS-VCU-997-VER-SG-1-1736-01012021-31122021-0"
"""Line 2's block of 427 VCUs, which a later export lists in two parts."""
RETIRED_PART = "16257-751880934-751881033-VCS-VCU-997-VER-SG-1-1736-01012021-31122021-0"
ACTIVE_PART = "16257-751881034-751881360-VCS-VCU-997-VER-SG-1-1736-01012021-31122021-0"
RETIREMENT_COLUMNS = (
    "Retirement/Cancellation Date",
    "Retirement Beneficiary",
    "Retirement Reason",
    "Retirement Details",
)


def _export(path: Path, *parts: tuple[str, int, str]) -> Path:
    """An export of line 2's block as (serial number, quantity, retirement date or "") rows."""
    block = csv_records(VERRA_FILE)[0]
    assert block["Serial Number"] == BLOCK_SERIAL
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(block), lineterminator="\n")
        writer.writeheader()
        for serial, quantity, date in parts:
            row = block | dict.fromkeys(RETIREMENT_COLUMNS, "")
            row |= {"Serial Number": serial, "Quantity Issued": str(quantity)}
            writer.writerow(row | {"Retirement/Cancellation Date": date})
    return path


def test_a_later_export_that_retires_part_of_an_imported_block_retires_that_part(
    ledger: Ledger, tmp_path: Path
) -> None:
    """Verra splits a block when part of it is retired: the parts are the units imported
    before, not new ones."""
    import_verra(ledger, _export(tmp_path / "before.csv", (BLOCK_SERIAL, 427, "")))
    later = _export(
        tmp_path / "later.csv", (RETIRED_PART, 100, "2024-06-03"), (ACTIVE_PART, 327, "")
    )
    report = import_verra(ledger, later)
    assert report.ok, report.row_problems
    assert (report.blocks_imported, report.blocks_already_present) == (0, 2)
    assert (report.retired, report.held, report.quantity_imported) == (1, 0, 0)
    totals = ledger.summary()["totals"]
    assert (totals["issued"], totals["retired"], totals["held"]) == (427, 100, 327)
    retired = ledger.provenance("VERRA/VCU", 751881033)
    active = ledger.provenance("VERRA/VCU", 751881034)
    assert retired is not None and retired["history"][-1]["action"] == "retire"
    assert active is not None and active["current"]["state"] == "active"
    assert_imported_again_unchanged(ledger, lambda: import_verra(ledger, later), 2)


def test_a_row_reaching_past_an_imported_block_is_still_refused_as_overlapping(
    ledger: Ledger, tmp_path: Path
) -> None:
    import_verra(ledger, _export(tmp_path / "before.csv", (RETIRED_PART, 100, "")))
    before = snapshot(ledger)
    report = import_verra(ledger, _export(tmp_path / "later.csv", (BLOCK_SERIAL, 427, "")))
    assert len(report.problems) == 1 and "E_SERIAL_RANGE_OVERLAPS" in report.problems[0].reason
    assert snapshot(ledger) == before
