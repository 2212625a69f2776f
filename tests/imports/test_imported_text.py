"""Text an import records is put on one line: a line break or a tab in an export's beneficiary,
note or methodology becomes a space, the row imports, and the ledger records no line break. A
file an earlier Carbonex imported with such text as written re-imports as duplicates, changing
nothing. A row holding another character free text may not hold (an escape, a bidirectional
override) is refused by the ledger and reported with E_TEXT_CHARACTER_NOT_ALLOWED."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from carbonex.imports import import_gold_standard, import_verra, pipeline
from carbonex.imports.gold_standard import GS_BATCH_SERIALS
from carbonex.imports.report import ImportReport
from carbonex.imports.serials import parse_verra
from carbonex.ledger import Ledger
from carbonex.ledger import engine as ledger_engine
from tests.imports.support import GS_RETIREMENTS, VERRA_FILE, snapshot

VERRA_ROWS, GS_ROWS = 92, 4
Importer = Callable[[Ledger, Path], ImportReport]


def edited(source: Path, target: Path, row_number: int, **columns: str) -> Path:
    """A copy of the CSV `source` whose data row `row_number` (1 = the first after the header)
    has these columns (underscores for spaces) set, written as the csv module quotes them."""
    with source.open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for name, value in columns.items():
        rows[row_number - 1][name.replace("_", " ")] = value
    with target.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return target


def verra_with_breaks(tmp_path: Path) -> Path:
    return edited(
        VERRA_FILE, tmp_path / "verra.csv", 1,
        Retirement_Beneficiary="Skyways\tAir", Retirement_Reason="Voluntary\r\noffsetting",
        Retirement_Details="flights\nof 2024\u2028and 2025", Methodology="AM0029\n",
    )  # fmt: skip


def gs_with_breaks(tmp_path: Path) -> Path:
    return edited(
        GS_RETIREMENTS, tmp_path / "gs.csv", 1,
        Using_Entity="Acme\tBakery\nGmbH", Note="offsetting\r\n2021 deliveries",
    )  # fmt: skip


def details_of_first_verra_row(ledger: Ledger) -> dict[str, str]:
    first_row = "16257-751880934-751881360-VCS-VCU-997-VER-SG-1-1736-01012021-31122021-0"
    life = ledger.provenance("VERRA/VCU", parse_verra(first_row).last_serial)
    assert life is not None
    details: dict[str, str] = life["history"][-1]["details"]
    return details | {"methodology": life["issuance"]["attributes"]["methodology"]}


def as_an_earlier_carbonex(monkeypatch: pytest.MonkeyPatch) -> None:
    """Imports as a Carbonex before free text was checked: text as the file writes it, and a
    ledger that takes any."""
    monkeypatch.setattr(pipeline, "on_one_line", lambda text: text)
    monkeypatch.setattr(ledger_engine, "text_character_failures", lambda record, content: [])


def test_line_breaks_and_tabs_in_a_verra_row_are_recorded_as_spaces(
    ledger: Ledger, tmp_path: Path
) -> None:
    report = import_verra(ledger, verra_with_breaks(tmp_path))
    assert report.ok and report.blocks_imported == VERRA_ROWS, report.problems
    details = details_of_first_verra_row(ledger)
    assert details["beneficiary"] == "Skyways Air"
    assert details["purpose"].startswith("Voluntary offsetting; details: flights of 2024 and 2025")
    assert details["methodology"] == "AM0029"  # stripped, as every value is
    assert ledger.verify().ok


def test_line_breaks_and_tabs_in_a_gold_standard_row_are_recorded_as_spaces(
    ledger: Ledger, tmp_path: Path
) -> None:
    report = import_gold_standard(ledger, gs_with_breaks(tmp_path))
    assert report.ok and report.retired == GS_ROWS, report.problems
    life = ledger.provenance("GS/GS-VER", 19573 * GS_BATCH_SERIALS + 100)
    assert life is not None
    details = life["history"][-1]["details"]
    assert details["beneficiary"] == "Acme Bakery GmbH"
    assert details["purpose"].startswith("offsetting 2021 deliveries; Gold Standard")


@pytest.mark.parametrize(
    ("importer", "with_breaks", "rows"),
    [
        (import_verra, verra_with_breaks, VERRA_ROWS),
        (import_gold_standard, gs_with_breaks, GS_ROWS),
    ],
    ids=["verra", "gold-standard"],
)
def test_a_file_an_earlier_carbonex_imported_with_its_line_breaks_reimports_changing_nothing(
    ledger: Ledger,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    importer: Importer,
    with_breaks: Callable[[Path], Path],
    rows: int,
) -> None:
    path = with_breaks(tmp_path)
    as_an_earlier_carbonex(monkeypatch)
    assert importer(ledger, path).ok
    monkeypatch.undo()
    before = snapshot(ledger)
    report = importer(ledger, path)
    assert report.ok, report.problems
    assert (report.blocks_imported, report.blocks_already_present) == (0, rows)
    assert snapshot(ledger) == before
    assert ledger.verify().ok


@pytest.mark.parametrize(
    ("character", "code_point"), [("\x1b", "U+001B"), ("\u202e", "U+202E")], ids=["ESC", "RLO"]
)
def test_a_row_whose_beneficiary_holds_an_escape_or_an_override_is_refused_with_the_code(
    ledger: Ledger, tmp_path: Path, character: str, code_point: str
) -> None:
    path = edited(VERRA_FILE, tmp_path / "verra.csv", 3, Retirement_Beneficiary=f"Ac{character}me")
    before = snapshot(ledger)
    report = import_verra(ledger, path)
    assert [problem.line for problem in report.problems] == [4] and not report.committed
    reason = report.problems[0].reason
    assert (
        "E_TEXT_CHARACTER_NOT_ALLOWED" in reason and f"'beneficiary' holds {code_point}" in reason
    )
    assert character not in reason
    assert snapshot(ledger) == before
    skipping = import_verra(ledger, path, skip_bad_rows=True)
    assert skipping.blocks_imported == VERRA_ROWS - 1 and skipping.problems_total == 1


def test_a_file_an_earlier_carbonex_imported_with_an_escape_reimports_changing_nothing(
    ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = edited(VERRA_FILE, tmp_path / "verra.csv", 3, Retirement_Beneficiary="Ac\x1b[2Jme")
    as_an_earlier_carbonex(monkeypatch)
    assert import_verra(ledger, path).ok
    monkeypatch.undo()
    before = snapshot(ledger)
    report = import_verra(ledger, path)
    assert report.ok and report.blocks_already_present == VERRA_ROWS
    assert snapshot(ledger) == before
