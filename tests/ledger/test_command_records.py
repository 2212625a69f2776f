"""Command records: what `to_record` writes, `command_from_record` reads back unchanged, and a
malformed record is refused with CommandFormatError before it reaches the ledger."""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson
import pytest

from carbonex.ledger import (
    Cancel,
    CloseAccount,
    Command,
    CommandFormatError,
    ConsumeHold,
    Convert,
    Expire,
    FreezeAccount,
    Issue,
    Ledger,
    OpenAccount,
    PlaceHold,
    ReleaseHold,
    Retire,
    Selection,
    Surrender,
    Transfer,
    UnfreezeAccount,
    command_from_record,
)
from carbonex.ledger.commands import COMMAND_TYPES
from tests.ledger.support import accept, issue, open_accounts, ranges, vcu

SELECTION = Selection("VCU", quantity=5, vintage_year=2021, project_id="VCS-1", label="CCP")
RANGES = Selection("VCU", serial_ranges=ranges((1, 5), (10, 12)), registry="GS")
ATTRIBUTES = vcu(labels=("CCP", "CORSIA"), valid_until=dt.date(2030, 12, 31), authorization="A6")

ONE_OF_EACH: list[Command] = [
    OpenAccount("c1", "A", "company_holding", "Acme", registry="CARBONEX"),
    CloseAccount("c2", "A"),
    FreezeAccount("c3", "A", "court order"),
    UnfreezeAccount("c4", "A", "lifted"),
    Issue("c5", "A", 100, ATTRIBUTES, registry="GS", first_serial=1_000),
    Issue("c5b", "A", 100, vcu()),
    Transfer("c6", "A", "B", SELECTION),
    Transfer("c6b", "A", "B", RANGES),
    Retire("c7", "A", SELECTION, "Oslo", "claim", dt.date(2025, 1, 1), dt.date(2025, 12, 31), "R"),
    Retire("c7b", "A", RANGES, "Oslo", "claim"),
    Cancel("c8", "A", SELECTION, "correction", into_account_id="X"),
    Surrender("c9", "O", Selection("EUA", quantity=3), "2025", into_account_id=None),
    Expire("c10", "A", SELECTION),
    PlaceHold("c11", "A", SELECTION, "order", hold_id="order-7"),
    PlaceHold("c11b", "A", RANGES, "order"),
    ReleaseHold("c12", "order-7"),
    ConsumeHold("c13", "order-7", "transfer", "B"),
    ConsumeHold("c13b", "order-7", "retire", details={"beneficiary": "Oslo", "purpose": "p"}),
    Convert("c14", "A", Selection("CER", quantity=5), "CDM-TO-A6.4"),
]


def _json_native(value: Any) -> bool:
    """Only what JSON has: the record must not lean on orjson encoding other types its way."""
    if isinstance(value, dict):
        return all(isinstance(k, str) and _json_native(v) for k, v in value.items())
    if isinstance(value, list):
        return all(_json_native(item) for item in value)
    return value is None or isinstance(value, str | int | float | bool)


def test_every_command_kind_has_a_round_trip_case() -> None:
    assert {command.kind for command in ONE_OF_EACH} == set(COMMAND_TYPES)


@pytest.mark.parametrize("command", ONE_OF_EACH, ids=lambda c: f"{c.kind}-{c.command_id}")
def test_a_command_read_back_from_its_json_record_is_the_same_command(command: Command) -> None:
    assert _json_native(command.to_record()), command.to_record()
    record = orjson.loads(orjson.dumps(command.to_record()))
    assert record["kind"] == command.kind
    again = command_from_record(record)
    assert again == command
    assert again.to_record() == command.to_record()


def test_the_command_in_a_journal_entry_reads_back_as_the_submitted_command(
    ledger: Ledger,
) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100, ATTRIBUTES)
    transfer = Transfer("t", "A", "B", Selection("VCU", quantity=5, label="CCP"))
    accept(ledger, transfer)
    [entry] = [row for row in ledger.journal(limit=10) if row["command_id"] == "t"]
    assert command_from_record(entry["entry"]["command"]) == transfer


def valid(kind: str) -> dict[str, Any]:
    [command] = [c for c in ONE_OF_EACH if c.kind == kind][:1]
    return orjson.loads(orjson.dumps(command.to_record()))  # type: ignore[no-any-return]


def changed(kind: str, path: tuple[str, ...], value: Any) -> dict[str, Any]:
    record = valid(kind)
    target = record
    for key in path[:-1]:
        target = target[key]
    if value is REMOVE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return record


REMOVE = object()


@pytest.mark.parametrize(
    "record",
    [
        [],
        "transfer",
        {"kind": "teleport", "command_id": "x"},
        {"command_id": "x"},
        changed("transfer", ("selection",), REMOVE),
        changed("transfer", ("source_account_id",), REMOVE),
        changed("transfer", ("source_account_id",), 7),
        changed("transfer", ("command_id",), None),
        changed("transfer", ("selection",), "VCU"),
        changed("transfer", ("selection", "unit_type"), None),
        changed("transfer", ("selection", "serial_ranges"), [[1]]),
        changed("transfer", ("selection", "serial_ranges"), [[1, "2"]]),
        changed("transfer", ("selection", "serial_ranges"), [[True, 2]]),
        changed("transfer", ("selection", "serial_ranges"), {"1": 2}),
        changed("transfer", ("selection", "quantity"), "5"),
        changed("transfer", ("selection", "quantity"), 5.0),
        changed("transfer", ("selection", "vintage_year"), True),
        changed("issue", ("quantity",), False),
        changed("issue", ("first_serial",), "1"),
        changed("issue", ("attributes",), REMOVE),
        changed("issue", ("attributes", "vintage_start"), "2021-13-01"),
        changed("issue", ("attributes", "vintage_end"), 2021),
        changed("issue", ("attributes", "labels"), [1]),
        changed("issue", ("attributes", "labels"), "CCP"),
        changed("issue", ("attributes", "host_country"), None),
        changed("retire", ("claim_period_start",), "January"),
        changed("consume", ("details",), {"beneficiary": 1}),
        changed("consume", ("details",), ["beneficiary"]),
        changed("open_account", ("registry",), None),
    ],
    ids=lambda record: str(record)[:60],
)
def test_a_malformed_record_is_refused_before_the_ledger_sees_it(record: Any) -> None:
    with pytest.raises(CommandFormatError):
        command_from_record(record)


LONE_SURROGATE = "\ud800"
"""Half of a UTF-16 pair: a Python text, but not Unicode that UTF-8 (or a database) can hold."""


@pytest.mark.parametrize(
    ("record", "field"),
    [
        (changed("close_account", ("account_id",), LONE_SURROGATE), "account_id"),
        (changed("transfer", ("command_id",), f"t{LONE_SURROGATE}"), "command_id"),
        (changed("transfer", ("selection", "project_id"), LONE_SURROGATE), "selection"),
        (changed("issue", ("attributes", "labels"), ["CCP", LONE_SURROGATE]), "attributes"),
        (changed("consume", ("details",), {"beneficiary": LONE_SURROGATE}), "details"),
        (changed("consume", ("details",), {LONE_SURROGATE: "Oslo"}), "details"),
    ],
    ids=["account-id", "command-id", "selection", "label", "detail-value", "detail-key"],
)
def test_text_that_is_not_valid_unicode_is_refused_before_the_ledger_sees_it(
    record: dict[str, Any], field: str
) -> None:
    with pytest.raises(CommandFormatError) as refused:
        command_from_record(record)
    assert str(refused.value) == f"field '{field}' holds text that is not valid Unicode"


def test_optional_fields_may_be_left_out_of_a_record() -> None:
    record = {
        "kind": "retire",
        "command_id": "r",
        "account_id": "A",
        "selection": {"unit_type": "VCU", "quantity": 5},
        "beneficiary": "Oslo",
        "purpose": "claim",
    }
    assert command_from_record(record) == Retire("r", "A", Selection("VCU", 5), "Oslo", "claim")


def test_a_record_missing_fields_names_them_in_the_records_own_words() -> None:
    with pytest.raises(CommandFormatError) as refused:
        command_from_record({"kind": "transfer", "command_id": "t", "source_account_id": "A"})
    assert str(refused.value) == "transfer: missing field(s) ['target_account_id', 'selection']"
