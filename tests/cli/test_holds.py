"""`carbonex hold place|release|consume`."""

from __future__ import annotations

from tests.cli.helpers import EXIT_REFUSED, holdings, invoke, invoke_json

PLACE = ("hold", "place", "--account", "DEV", "--unit-type", "VCU", "--purpose", "Pending sale")


def test_held_units_cannot_move_until_the_hold_is_released(seeded: str) -> None:
    invoke_json(*PLACE, "--quantity", "1000", "--hold-id", "SALE-1", "--db", seeded)
    refused = invoke(
        "transfer",
        "--from",
        "DEV",
        "--to",
        "BUYER",
        "--unit-type",
        "VCU",
        "--quantity",
        "1",
        "--db",
        seeded,
    )
    assert refused.exit_code == EXIT_REFUSED
    assert "E_UNITS_ON_HOLD" in refused.stderr
    invoke_json("hold", "release", "SALE-1", "--db", seeded)
    invoke_json(
        "transfer",
        "--from",
        "DEV",
        "--to",
        "BUYER",
        "--unit-type",
        "VCU",
        "--quantity",
        "1",
        "--db",
        seeded,
    )


def test_consuming_a_hold_transfers_its_units(seeded: str) -> None:
    invoke_json(*PLACE, "--quantity", "300", "--hold-id", "SALE-1", "--db", seeded)
    on_hold = [
        h["quantity"] for h in invoke_json("holdings", "DEV", "--db", seeded) if h["on_hold"]
    ]
    assert on_hold == [300]
    invoke_json(
        "hold", "consume", "SALE-1", "--action", "transfer", "--to", "BUYER", "--db", seeded
    )
    assert holdings(seeded, "BUYER") == {"active": 300}


def test_consuming_a_hold_can_retire_its_units(seeded: str) -> None:
    placed = invoke_json(*PLACE, "--serials", "1-50", "--command-id", "hold-1", "--db", seeded)
    assert placed["command_id"] == "hold-1"
    invoke_json(
        "hold",
        "consume",
        "hold-1",
        "--action",
        "retire",
        "--beneficiary",
        "Ada",
        "--purpose",
        "Flights",
        "--db",
        seeded,
    )
    assert holdings(seeded, "DEV") == {"active": 950, "retired": 50}


def test_consuming_a_released_hold_is_refused_with_its_code(seeded: str) -> None:
    invoke_json(*PLACE, "--quantity", "10", "--hold-id", "SALE-1", "--db", seeded)
    invoke_json("hold", "release", "SALE-1", "--db", seeded)
    result = invoke(
        "hold", "consume", "SALE-1", "--action", "cancel", "--reason", "x", "--db", seeded
    )
    assert result.exit_code == EXIT_REFUSED
    assert "E_HOLD_NOT_PENDING" in result.stderr
