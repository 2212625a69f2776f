"""Read-only commands: holdings, blocks, statement, provenance, journal and summary."""

from __future__ import annotations

import itertools
import json

from tests.cli.helpers import (
    EXIT_REFUSED,
    EXIT_USAGE,
    ISSUED_QUANTITY,
    invoke,
    invoke_json,
)


def move_to_buyer(database_url: str, quantity: int) -> None:
    invoke_json(
        "transfer",
        "--from",
        "DEV",
        "--to",
        "BUYER",
        "--unit-type",
        "VCU",
        "--quantity",
        str(quantity),
        "--db",
        database_url,
    )


def test_holdings_show_quantities_by_project_and_vintage(seeded: str) -> None:
    [row] = invoke_json("holdings", "DEV", "--db", seeded)
    assert (row["project_id"], row["vintage_start"], row["quantity"]) == (
        "VCS-1736",
        "2021-01-01",
        ISSUED_QUANTITY,
    )
    result = invoke("holdings", "DEV", "--db", seeded)
    assert "VCS-1736" in result.stdout
    assert "1,000" in result.stdout


def test_holdings_of_an_unknown_account_exits_one(seeded: str) -> None:
    result = invoke("holdings", "NOBODY", "--db", seeded)
    assert result.exit_code == EXIT_REFUSED
    assert "unknown account" in result.stderr


def test_blocks_page_by_block_id(seeded: str) -> None:
    for serials in ("100-199", "300-399"):
        invoke_json(
            "transfer",
            "--from",
            "DEV",
            "--to",
            "BUYER",
            "--unit-type",
            "VCU",
            "--serials",
            serials,
            "--db",
            seeded,
        )
    first = invoke_json("blocks", "DEV", "--limit", "2", "--db", seeded)
    rest = invoke_json("blocks", "DEV", "--after", str(first[-1]["block_id"]), "--db", seeded)
    assert sum(b["quantity"] for b in first + rest) == ISSUED_QUANTITY - 200
    assert len(first) == 2
    assert "More may follow" in invoke("blocks", "DEV", "--limit", "2", "--db", seeded).stdout


def test_statement_lists_movements_in_and_out(seeded: str) -> None:
    move_to_buyer(seeded, 40)
    lines = invoke_json("statement", "DEV", "--db", seeded)
    assert [(line["action"], line["direction"]) for line in lines] == [
        ("issue", "in"),
        ("transfer", "out"),
    ]
    later = invoke_json("statement", "DEV", "--after-seq", str(lines[0]["seq"]), "--db", seeded)
    assert [line["action"] for line in later] == ["transfer"]
    assert "transfer" in invoke("statement", "DEV", "--db", seeded).stdout


def test_provenance_follows_one_serial(seeded: str) -> None:
    move_to_buyer(seeded, 40)
    record = invoke_json("provenance", "VERRA/VCU", "7", "--db", seeded)
    assert [step["action"] for step in record["history"]] == ["issue", "transfer"]
    assert record["current"]["account_id"] == "BUYER"
    assert "VCS-1736" in invoke("provenance", "VERRA/VCU", "7", "--db", seeded).stdout


def test_provenance_pages_its_history_and_shows_how_the_serial_ended_on_each_page(
    seeded: str,
) -> None:
    # Changed: the history held the first 1,000 entries only, the retirement then missing.
    move_to_buyer(seeded, 40)
    retire = ["--account", "BUYER", "--unit-type", "VCU", "--quantity", "15"]
    invoke_json("retire", *retire, "--beneficiary", "Buyer plc", "--purpose", "Scope 3",
                "--db", seeded)  # fmt: skip
    actions, after_seq = [], 0
    while after_seq is not None:
        page = invoke_json("provenance", "VERRA/VCU", "7", "--limit", "1",
                           "--after-seq", str(after_seq), "--db", seeded)  # fmt: skip
        actions += [step["action"] for step in page["history"]]
        assert page["final"]["details"]["beneficiary"] == "Buyer plc"
        after_seq = page["next_after_seq"]
    assert actions == ["issue", "transfer", "retire"]
    shown = invoke("provenance", "VERRA/VCU", "7", "--limit", "1", "--db", seeded).stdout
    assert "More may follow: --after-seq" in shown and "Buyer plc" in shown
    assert "More may follow" not in invoke("provenance", "VERRA/VCU", "7", "--db", seeded).stdout


def test_provenance_of_a_serial_never_issued_exits_one(seeded: str) -> None:
    result = invoke("provenance", "VERRA/VCU", "5000", "--db", seeded, "--json")
    assert result.exit_code == EXIT_REFUSED
    assert json.loads(result.stdout) is None


def test_provenance_of_a_malformed_serial_space_exits_two(seeded: str) -> None:
    assert invoke("provenance", "VCU", "1", "--db", seeded).exit_code == EXIT_USAGE


def test_journal_lists_entries_with_their_hash_chain(seeded: str) -> None:
    entries = invoke_json("journal", "--db", seeded)
    assert [e["command_kind"] for e in entries] == [
        "open_account",
        "open_account",
        "open_account",
        "issue",
    ]
    assert all(e["previous_hash"] == p["entry_hash"] for p, e in itertools.pairwise(entries))
    tail = invoke_json("journal", "--after-seq", "3", "--limit", "1", "--db", seeded)
    assert [e["seq"] for e in tail] == [4]
    assert "issue" in invoke("journal", "--db", seeded).stdout


def test_summary_gives_totals_per_unit_type_and_state(seeded: str) -> None:
    move_to_buyer(seeded, 40)
    invoke_json(
        "retire",
        "--account",
        "BUYER",
        "--unit-type",
        "VCU",
        "--quantity",
        "15",
        "--beneficiary",
        "Buyer plc",
        "--purpose",
        "Scope 3",
        "--db",
        seeded,
    )
    document = invoke_json("summary", "--db", seeded)
    totals = document["by_unit_type"]["VCU"]
    assert (totals["issued"], totals["held"], totals["retired"]) == (1_000, 985, 15)
    assert document["by_metric"]["tCO2e"] == totals
    result = invoke("summary", "--db", seeded)
    assert "Totals by metric" in result.stdout and "tCO2e" in result.stdout
    assert "By unit type" in result.stdout
    assert "985" in result.stdout
