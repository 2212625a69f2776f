"""Commands on units: issue, transfer, retire, cancel, surrender, expire and convert."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.helpers import (
    EXIT_REFUSED,
    EXIT_USAGE,
    holdings,
    invoke,
    invoke_json,
    snapshot,
)

VCU_OPTIONS = ("--unit-type", "VCU")


def issue(
    database_url: str, account_id: str, unit_type: str, quantity: int, year: int, *extra: str
) -> dict[str, object]:
    record: dict[str, object] = invoke_json(
        "issue",
        "--account",
        account_id,
        "--unit-type",
        unit_type,
        "--quantity",
        str(quantity),
        "--standard",
        "Test standard",
        "--project",
        f"{unit_type}-PROJECT",
        "--vintage-start",
        f"{year}-01-01",
        "--vintage-end",
        f"{year}-12-31",
        "--country",
        "SG",
        "--db",
        database_url,
        *extra,
    )
    return record


def test_issue_creates_units_in_the_account(seeded: str) -> None:
    record = issue(
        seeded,
        "BUYER",
        "VCU",
        500,
        2022,
        "--methodology",
        "VM0047",
        "--category",
        "removal",
        "--label",
        "ARR",
        "--label",
        "CORSIA",
        "--first-serial",
        "5001",
    )
    moves = [effect for effect in record["effects"] if effect[0] == "move"]  # type: ignore[attr-defined]
    assert moves == [["move", "issue", "VERRA/VCU", 5001, 5500, None, "BUYER"]]
    assert holdings(seeded, "BUYER") == {"active": 500}


def test_issue_with_a_malformed_date_exits_two_and_submits_nothing(seeded: str) -> None:
    before = snapshot(seeded)
    result = invoke(
        "issue",
        "--account",
        "DEV",
        *VCU_OPTIONS,
        "--quantity",
        "5",
        "--standard",
        "S",
        "--project",
        "P",
        "--vintage-start",
        "2021-13-01",
        "--vintage-end",
        "2021-12-31",
        "--country",
        "SG",
        "--db",
        seeded,
    )
    assert result.exit_code == EXIT_USAGE
    assert "ISO date" in result.stderr
    assert snapshot(seeded) == before


def test_transfer_of_part_of_a_block_splits_it(seeded: str) -> None:
    record = invoke_json(
        "transfer",
        "--from",
        "DEV",
        "--to",
        "BUYER",
        *VCU_OPTIONS,
        "--quantity",
        "250",
        "--project",
        "VCS-1736",
        "--vintage",
        "2021",
        "--db",
        seeded,
    )
    assert record["accepted"] is True
    blocks = invoke_json("blocks", "DEV", "--db", seeded)
    assert [(b["first_serial"], b["last_serial"]) for b in blocks] == [(251, 1000)]
    assert holdings(seeded, "BUYER") == {"active": 250}


def test_transfer_by_serial_ranges_moves_exactly_those_serials(seeded: str) -> None:
    issue(seeded, "DEV", "VCU", 500, 2022)  # serials 1001-1500, a second block
    result = invoke(
        "transfer",
        "--from",
        "DEV",
        "--to",
        "BUYER",
        *VCU_OPTIONS,
        "--serials",
        "10-19, 1200",
        "--db",
        seeded,
    )
    assert result.exit_code == 0, result.output
    assert "10-19" in result.stdout
    blocks = invoke_json("blocks", "BUYER", "--db", seeded)
    assert sorted((b["first_serial"], b["last_serial"]) for b in blocks) == [(10, 19), (1200, 1200)]
    assert invoke("verify", "--db", seeded).exit_code == 0


def test_transfer_of_two_ranges_of_one_block_keeps_the_ledger_consistent(seeded: str) -> None:
    invoke_json(
        "transfer",
        "--from",
        "DEV",
        "--to",
        "BUYER",
        *VCU_OPTIONS,
        "--serials",
        "100-199,300-399",
        "--db",
        seeded,
    )
    assert holdings(seeded, "DEV") == {"active": 800}
    assert invoke("verify", "--db", seeded).exit_code == 0


def test_refused_transfer_exits_one_and_prints_its_code(seeded: str) -> None:
    before = snapshot(seeded)
    result = invoke(
        "transfer",
        "--from",
        "DEV",
        "--to",
        "BUYER",
        *VCU_OPTIONS,
        "--quantity",
        "1001",
        "--db",
        seeded,
    )
    assert result.exit_code == EXIT_REFUSED
    assert "E_UNITS_NOT_HELD" in result.stderr
    assert snapshot(seeded) == before


@pytest.mark.parametrize(
    "selection",
    [
        ("--serials", "1-x"),
        ("--serials", "1-2-3"),
        ("--quantity", "ten"),
        ("--quantity", "5", "--serials", "1-5"),
        ("--quantity", str(2**70)),
        ("--serials", f"1-{2**70}"),
        (),
    ],
)
def test_transfer_with_a_malformed_selection_exits_two_before_opening_the_database(
    tmp_path: Path, selection: tuple[str, ...]
) -> None:
    database = tmp_path / "never-opened.db"
    result = invoke(
        "transfer",
        "--from",
        "DEV",
        "--to",
        "BUYER",
        *VCU_OPTIONS,
        *selection,
        "--db",
        str(database),
    )
    assert result.exit_code == EXIT_USAGE
    assert "Traceback" not in result.output
    assert not database.exists()


def test_retire_into_a_retirement_account_records_beneficiary_and_claim_period(
    seeded: str,
) -> None:
    invoke_json(
        "retire",
        "--account",
        "DEV",
        *VCU_OPTIONS,
        "--quantity",
        "100",
        "--beneficiary",
        "Skyways plc",
        "--purpose",
        "CORSIA",
        "--claim-start",
        "2024-01-01",
        "--claim-end",
        "2026-12-31",
        "--into",
        "RETIRE",
        "--db",
        seeded,
    )
    assert holdings(seeded, "RETIRE") == {"retired": 100}
    lines = invoke_json("statement", "RETIRE", "--db", seeded)
    assert lines[0]["details"] == {
        "beneficiary": "Skyways plc",
        "purpose": "CORSIA",
        "claim_period_start": "2024-01-01",
        "claim_period_end": "2026-12-31",
    }


@pytest.mark.parametrize("character", ["\x1b", "\u202e"], ids=["ESC", "RIGHT-TO-LEFT OVERRIDE"])
def test_retire_refuses_a_beneficiary_holding_an_escape_or_an_override_naming_its_code_point(
    seeded: str, character: str
) -> None:
    before = snapshot(seeded)
    retire = ("retire", "--account", "DEV", *VCU_OPTIONS, "--quantity", "100", "--beneficiary",
              f"Skyways{character}[2J plc", "--purpose", "CORSIA", "--db", seeded)  # fmt: skip
    result = invoke(*retire)
    assert result.exit_code == EXIT_REFUSED
    code_point = f"U+{ord(character):04X}"
    assert "E_TEXT_CHARACTER_NOT_ALLOWED" in result.stderr and code_point in result.stderr
    assert character not in result.output
    refused = invoke(*retire, "--json")
    assert refused.exit_code == EXIT_REFUSED
    assert json.loads(refused.stdout)["failures"][0]["ids"] == ["beneficiary", code_point]
    assert snapshot(seeded) == before


def test_retired_units_cannot_be_transferred(seeded: str) -> None:
    invoke_json(
        "retire",
        "--account",
        "DEV",
        *VCU_OPTIONS,
        "--serials",
        "1-10",
        "--beneficiary",
        "Ada",
        "--purpose",
        "Flights",
        "--db",
        seeded,
    )
    result = invoke(
        "transfer",
        "--from",
        "DEV",
        "--to",
        "BUYER",
        *VCU_OPTIONS,
        "--serials",
        "1-10",
        "--db",
        seeded,
    )
    assert result.exit_code == EXIT_REFUSED
    assert "E_RETIRED_UNITS_CANNOT_MOVE" in result.stderr


def test_cancel_puts_units_in_their_final_state(seeded: str) -> None:
    invoke_json(
        "cancel",
        "--account",
        "DEV",
        *VCU_OPTIONS,
        "--quantity",
        "40",
        "--reason",
        "Reversal",
        "--db",
        seeded,
    )
    assert holdings(seeded, "DEV") == {"active": 960, "cancelled": 40}


def test_surrender_of_allowances_for_a_compliance_period(database_url: str) -> None:
    invoke_json(
        "account",
        "open",
        "OPERATOR",
        "--kind",
        "operator_holding",
        "--holder",
        "Zement GmbH",
        "--registry",
        "EU",
        "--db",
        database_url,
    )
    issue(database_url, "OPERATOR", "EUA", 1_000, 2025)
    invoke_json(
        "surrender",
        "--account",
        "OPERATOR",
        "--unit-type",
        "EUA",
        "--quantity",
        "700",
        "--period",
        "2025",
        "--db",
        database_url,
    )
    assert holdings(database_url, "OPERATOR") == {"active": 300, "surrendered": 700}


def test_expire_takes_units_past_their_validity(seeded: str) -> None:
    issue(seeded, "DEV", "VCU", 20, 2019, "--valid-until", "2020-12-31")
    invoke_json(
        "expire",
        "--account",
        "DEV",
        *VCU_OPTIONS,
        "--quantity",
        "20",
        "--project",
        "VCU-PROJECT",
        "--db",
        seeded,
    )
    assert holdings(seeded, "DEV") == {"active": 1_000, "expired": 20}


def test_convert_turns_cers_into_article_six_four_units(seeded: str) -> None:
    issue(seeded, "DEV", "CER", 300, 2016)
    invoke_json(
        "convert",
        "--account",
        "DEV",
        "--unit-type",
        "CER",
        "--quantity",
        "200",
        "--rule",
        "CDM-TO-A6.4",
        "--db",
        seeded,
    )
    units = {
        (h["unit_type"], h["state"]): h["quantity"]
        for h in invoke_json("holdings", "DEV", "--db", seeded)
    }
    assert units[("A6.4ER", "active")] == 200
    assert units[("CER", "converted")] == 200
    assert units[("CER", "active")] == 100


@pytest.mark.parametrize("date", ["2021-W01-1", "20210101", "2021-001"])
def test_issue_with_a_date_not_written_yyyy_mm_dd_exits_two_and_submits_nothing(
    seeded: str, date: str
) -> None:
    before = snapshot(seeded)
    result = invoke(
        "issue", "--account", "DEV", *VCU_OPTIONS, "--quantity", "5", "--standard", "S",
        "--project", "P", "--vintage-start", date, "--vintage-end", "2021-12-31",
        "--country", "SG", "--db", seeded,
    )  # fmt: skip
    assert result.exit_code == EXIT_USAGE
    assert "YYYY-MM-DD" in result.stderr
    assert snapshot(seeded) == before
