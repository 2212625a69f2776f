"""`carbonex verify`: exit 0 on a consistent ledger, 1 with each problem after tampering."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

from tests.cli.helpers import EXIT_REFUSED, EXIT_USAGE, invoke, seed


def test_verify_of_a_consistent_ledger_exits_zero(seeded: str) -> None:
    result = invoke("verify", "--db", seeded)
    assert result.exit_code == 0
    assert "OK" in result.stdout


def test_verify_with_json_prints_the_report(seeded: str) -> None:
    result = invoke("verify", "--db", seeded, "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert (report["ok"], report["entries"], report["problems"]) == (True, 4, [])


def test_verify_exits_one_after_a_block_row_is_tampered_with(tmp_path: Path) -> None:
    database = str(tmp_path / "tampered.db")
    seed(database)
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE blocks SET last_serial = last_serial - 1")
    human = invoke("verify", "--db", database)
    assert human.exit_code == EXIT_REFUSED
    assert "FAILED" in human.stdout
    assert "conservation" in human.stdout
    report = json.loads(invoke("verify", "--db", database, "--json").stdout)
    assert report["ok"] is False
    assert {"replay", "conservation"} <= {p["invariant"] for p in report["problems"]}


def test_a_head_set_back_by_hand_is_named_and_no_command_writes_on_it(tmp_path: Path) -> None:
    """The next command would otherwise have written its block over block 1."""
    database = str(tmp_path / "damaged.db")
    seed(database)
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE journal SET next_block_id = 1 WHERE seq = (SELECT MAX(seq) FROM journal)"
        )
    connection.close()
    report = json.loads(invoke("verify", "--db", database, "--json").stdout)
    assert "head" in {p["invariant"] for p in report["problems"]}
    before = Path(database).read_bytes()
    transfer = invoke(
        "transfer", "--from", "DEV", "--to", "BUYER", "--unit-type", "VCU", "--quantity", "5",
        "--db", database,
    )  # fmt: skip
    assert transfer.exit_code == EXIT_USAGE
    assert "head is damaged" in transfer.stderr
    assert Path(database).read_bytes() == before
