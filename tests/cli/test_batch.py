"""`carbonex batch FILE`: all or nothing; malformed files change nothing and exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from carbonex.cli import batch
from tests.cli.helpers import EXIT_REFUSED, EXIT_USAGE, holdings, invoke, invoke_json, snapshot

OPEN_CAROL = {
    "kind": "open_account",
    "command_id": "open-carol",
    "account_id": "CAROL",
    "account_kind": "person_holding",
    "holder": "Carol",
}


def transfer_record(quantity: Any, target: str = "CAROL") -> dict[str, Any]:
    return {
        "kind": "transfer",
        "source_account_id": "DEV",
        "target_account_id": target,
        "selection": {"unit_type": "VCU", "quantity": quantity},
    }


def write_batch(tmp_path: Path, content: Any) -> str:
    path = tmp_path / "batch.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_batch_applies_every_command(seeded: str, tmp_path: Path) -> None:
    records = [
        OPEN_CAROL,
        transfer_record(100),
        {
            "kind": "transfer",
            "source_account_id": "DEV",
            "target_account_id": "BUYER",
            "selection": {"unit_type": "VCU", "serial_ranges": [[900, 999]]},
        },
    ]
    result = invoke("batch", write_batch(tmp_path, records), "--db", seeded)
    assert result.exit_code == 0, result.output
    assert "all 3 commands" in result.stdout
    assert holdings(seeded, "CAROL") == {"active": 100}
    assert holdings(seeded, "BUYER") == {"active": 100}


def test_batch_with_a_refused_command_applies_nothing_and_exits_one(
    seeded: str, tmp_path: Path
) -> None:
    before = snapshot(seeded)
    path = write_batch(tmp_path, [OPEN_CAROL, transfer_record(100), transfer_record(5_000)])
    result = invoke("batch", path, "--db", seeded, "--json")
    assert result.exit_code == EXIT_REFUSED
    codes = [failure["code"] for failure in json.loads(result.stdout)["failures"]]
    assert codes == ["E_BATCH_COMMAND_REFUSED", "E_UNITS_NOT_HELD"]
    assert snapshot(seeded) == before


BAD_SERIAL_RANGE = {**transfer_record(5), "selection": {"unit_type": "VCU", "serial_ranges": [[1]]}}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('[{"kind": "open_account",', "not valid JSON"),
        ({"kind": "open_account"}, "must hold a JSON list"),
        ([{"kind": "teleport", "command_id": "x"}], "index 0"),
        ([transfer_record(2**70)], "does not fit in 64 bits"),
        ([OPEN_CAROL, transfer_record("ten")], "index 1"),
        ([OPEN_CAROL, {"kind": "teleport"}], "index 1"),
        ([OPEN_CAROL, "open CAROL"], "index 1"),
        ([OPEN_CAROL, BAD_SERIAL_RANGE], "index 1"),
        pytest.param("[" + "1" * 5_000 + "]", "not valid JSON", id="integer-of-5000-digits"),
        pytest.param(
            [OPEN_CAROL, {**OPEN_CAROL, "account_id": "\ud800"}],
            "index 1: field 'account_id' holds text that is not valid Unicode",
            id="lone-surrogate",
        ),
    ],
)
def test_malformed_batch_exits_two_names_the_problem_and_changes_nothing(
    seeded: str, tmp_path: Path, content: Any, message: str
) -> None:
    before = snapshot(seeded)
    result = invoke("batch", write_batch(tmp_path, content), "--db", seeded)
    assert result.exit_code == EXIT_USAGE
    assert message in result.stderr
    assert "Traceback" not in result.output
    assert snapshot(seeded) == before


def test_batch_issuing_units_of_vintage_9999_is_refused_and_changes_nothing(
    seeded: str, tmp_path: Path
) -> None:
    attributes = {
        "unit_type": "GEC",  # valid for two years after its vintage: past 9999 unless refused
        "standard": "I-REC",
        "project_id": "SOLAR-7",
        "vintage_start": "9999-01-01",
        "vintage_end": "9999-12-31",
        "host_country": "SG",
    }
    record = {"kind": "issue", "account_id": "DEV", "quantity": 10, "attributes": attributes}
    before = snapshot(seeded)
    result = invoke("batch", write_batch(tmp_path, [OPEN_CAROL, record]), "--db", seeded, "--json")
    assert result.exit_code == EXIT_REFUSED, result.output
    codes = [failure["code"] for failure in json.loads(result.stdout)["failures"]]
    assert codes == ["E_BATCH_COMMAND_REFUSED", "E_INVALID_ATTRIBUTES"]
    assert snapshot(seeded) == before


def test_batch_of_a_missing_file_exits_two(seeded: str, tmp_path: Path) -> None:
    result = invoke("batch", str(tmp_path / "missing.json"), "--db", seeded)
    assert result.exit_code == EXIT_USAGE
    assert "cannot read batch file" in result.stderr


def test_batch_retried_with_the_same_command_id_acts_once(seeded: str, tmp_path: Path) -> None:
    path = write_batch(tmp_path, [transfer_record(10, "BUYER"), transfer_record(20, "BUYER")])
    first = invoke_json("batch", path, "--command-id", "batch-7", "--db", seeded)
    again = invoke_json("batch", path, "--command-id", "batch-7", "--db", seeded)
    assert [o["command_id"] for o in first["outcomes"]] == ["batch-7-0", "batch-7-1"]
    assert all(outcome["duplicate"] for outcome in again["outcomes"])
    assert holdings(seeded, "BUYER") == {"active": 30}


def test_batch_from_a_file_without_end_reads_only_past_the_limit(
    seeded: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(batch, "BATCH_FILE_BYTES_MAX", 4_096)
    before = snapshot(seeded)
    result = invoke("batch", "/dev/zero", "--db", seeded)
    assert result.exit_code == EXIT_USAGE
    assert "batch file /dev/zero is larger than 4,096 bytes" in result.stderr
    assert snapshot(seeded) == before
