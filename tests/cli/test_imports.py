"""`carbonex import verra|gold-standard FILE`: counts, exit codes, and the summary afterwards."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from carbonex.imports.pipeline import LINE_CHARACTERS_MAX
from carbonex.imports.report import PROBLEMS_KEPT_MAX
from tests.cli.helpers import EXIT_REFUSED, EXIT_USAGE, invoke, invoke_json, snapshot
from tests.imports.support import GS_RETIREMENTS, VERRA_FILE, corrupted_copy

VERRA_ROWS = 92
VERRA_QUANTITY = 272_119


def test_import_verra_prints_counts_and_summary_shows_the_totals(database_url: str) -> None:
    report = invoke_json("import", "verra", str(VERRA_FILE), "--db", database_url)
    assert (report["rows_read"], report["blocks_imported"], report["retired"]) == (92, 92, 92)
    totals = invoke_json("summary", "--db", database_url)["totals"]
    assert totals["issued"] == totals["retired"] == VERRA_QUANTITY


def test_import_verra_human_output(database_url: str) -> None:
    result = invoke("import", "verra", str(VERRA_FILE), "--db", database_url)
    assert result.exit_code == 0, result.output
    assert "blocks imported" in result.stdout and "272,119" in result.stdout


def test_bad_row_exits_1_with_its_line_and_changes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    bad = corrupted_copy(VERRA_FILE, tmp_path / "bad.csv", 3, "2024-06-27", "2024-13-27")
    before = snapshot(database_url)
    result = invoke("import", "verra", str(bad), "--db", database_url, "--json")
    assert result.exit_code == EXIT_REFUSED
    problems = json.loads(result.stdout)["problems"]
    assert [problem["line"] for problem in problems] == [3]
    assert snapshot(database_url) == before
    skipped = invoke_json("import", "verra", str(bad), "--db", database_url, "--skip-bad-rows")
    assert (skipped["blocks_imported"], len(skipped["problems"])) == (VERRA_ROWS - 1, 1)


def test_unreadable_file_exits_2(database_url: str, tmp_path: Path) -> None:
    result = invoke("import", "verra", str(tmp_path / "missing.csv"), "--db", database_url)
    assert result.exit_code == EXIT_USAGE
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert invoke("import", "verra", str(binary), "--db", database_url).exit_code == EXIT_USAGE


def test_import_gold_standard(database_url: str) -> None:
    report = invoke_json("import", "gold-standard", str(GS_RETIREMENTS), "--db", database_url)
    assert (report["blocks_imported"], report["retired"]) == (4, 4)


def test_a_header_naming_a_column_twice_exits_2_and_changes_nothing(
    database_url: str, tmp_path: Path
) -> None:
    header, first_row = VERRA_FILE.read_text(encoding="utf-8-sig").splitlines()[:2]
    other = "16257-900000001-900000427-VCS-VCU-997-VER-SG-1-1736-01012021-31122021-0"
    repeated = tmp_path / "repeated.csv"
    repeated.write_text(f"{header},Serial Number\n{first_row},{other}\n", encoding="utf-8")
    before = snapshot(database_url)
    result = invoke("import", "verra", str(repeated), "--db", database_url)
    assert result.exit_code == EXIT_USAGE
    assert "header repeats column(s) ['Serial Number']" in result.stderr
    assert snapshot(database_url) == before


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="needs Linux's /proc")
def test_a_file_that_fails_when_read_exits_2_naming_it(database_url: str) -> None:
    before = snapshot(database_url)
    result = invoke("import", "verra", "/proc/self/mem", "--db", database_url)
    assert result.exit_code == EXIT_USAGE
    assert "cannot read /proc/self/mem" in result.stderr
    assert snapshot(database_url) == before


def test_a_file_without_end_is_refused_after_one_overlong_line(database_url: str) -> None:
    before = snapshot(database_url)
    result = invoke("import", "gold-standard", "/dev/zero", "--db", database_url)
    assert result.exit_code == EXIT_USAGE
    assert f"/dev/zero: line 1 is longer than {LINE_CHARACTERS_MAX:,} characters" in result.stderr
    assert snapshot(database_url) == before


def test_a_file_of_many_bad_rows_shows_the_first_and_counts_the_rest(
    database_url: str, tmp_path: Path
) -> None:
    header = VERRA_FILE.read_text(encoding="utf-8-sig").splitlines(keepends=True)[0]
    junk = tmp_path / "junk.csv"
    junk.write_text(header + "x\n" * (PROBLEMS_KEPT_MAX + 7), encoding="utf-8")
    result = invoke("import", "verra", str(junk), "--db", database_url)
    assert result.exit_code == EXIT_REFUSED
    assert "and 7 more bad rows" in result.stdout
    as_json = invoke("import", "verra", str(junk), "--db", database_url, "--json")
    document = json.loads(as_json.stdout)
    assert len(document["problems"]) == PROBLEMS_KEPT_MAX
    assert document["problems_total"] == PROBLEMS_KEPT_MAX + 7
