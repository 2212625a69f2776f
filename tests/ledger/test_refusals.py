"""Every check code, triggered through the service, leaves every table exactly as it was.

Each test builds a small registry, then submits commands that must be refused with a stated code,
comparing a snapshot of every table (and the summary, holdings and journal) before and after.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest

from carbonex.catalog import Catalog, default_catalog
from carbonex.ledger import (
    Accepted,
    Cancel,
    CloseAccount,
    Code,
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
    SerialRange,
    Surrender,
    Transfer,
    UnfreezeAccount,
    UnitAttributes,
    command_from_record,
)
from carbonex.ledger.limits import (
    ACCOUNT_ID_LENGTH_MAX,
    BATCH_COMMANDS_MAX,
    LABELS_PER_BLOCK_MAX,
    QUANTITY_MAX,
    SERIAL_MAX,
)
from carbonex.text import QUOTED_TEXT_LENGTH_MAX
from tests.conftest import FixedClock
from tests.ledger.support import (
    CER_2012,
    CER_2014,
    EUA,
    GEC,
    VCU,
    accept,
    assert_unchanged,
    codes_of,
    held,
    issue,
    open_accounts,
    ranges,
    vcu,
)

GHOST = "GHOST"


def funded(ledger: Ledger, quantity: int = 100) -> None:
    """Accounts A and B (company holding); A holds VCU serials 1..quantity."""
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", quantity)


def catalog_without(unit_type: str) -> Catalog:
    """The shipped catalog less one unit type and the rules converting from or to it: the rules
    in force after a programme is withdrawn."""
    catalog = default_catalog()
    unit_types = {code: kind for code, kind in catalog.unit_types.items() if code != unit_type}
    conversions = {
        rule_id: rule
        for rule_id, rule in catalog.conversions.items()
        if unit_type not in (rule.from_unit_type, rule.to_unit_type)
    }
    return replace(catalog, unit_types=unit_types, conversions=conversions)


def vcus(quantity: int) -> Selection:
    return Selection("VCU", quantity=quantity)


def vcu_ranges(*pairs: tuple[int, int]) -> Selection:
    return Selection("VCU", serial_ranges=ranges(*pairs))


def refused_by_submit(ledger: Ledger, command: Command, *codes: Code) -> None:
    assert_unchanged(ledger, lambda: ledger.submit(command), *codes)


# -- accounts --------------------------------------------------------------------------------------


HUGE = "X" * 1_000_000


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (Transfer("t", HUGE, "B", vcus(1)), Code.E_UNKNOWN_ACCOUNT),
        (CloseAccount("c", HUGE), Code.E_UNKNOWN_ACCOUNT),
        (OpenAccount("o", HUGE, "company_holding", "H"), Code.E_INVALID_ACCOUNT_ID),
        (OpenAccount("o", "N", HUGE, "H"), Code.E_UNKNOWN_ACCOUNT_KIND),
        (OpenAccount("o", "N", "company_holding", "H", HUGE), Code.E_UNKNOWN_REGISTRY),
        (Issue("i", "A", 5, vcu(unit_type=HUGE)), Code.E_UNKNOWN_UNIT_TYPE),
        (Issue("i", "A", 5, vcu(host_country=HUGE)), Code.E_INVALID_ATTRIBUTES),
        (Issue("i", "A", 5, VCU, registry=HUGE), Code.E_UNKNOWN_REGISTRY),
        (Transfer("t", "A", "B", Selection(HUGE, quantity=5)), Code.E_UNKNOWN_UNIT_TYPE),
        (ReleaseHold("r", HUGE), Code.E_UNKNOWN_HOLD),
        (Convert("cv", "A", vcus(1), HUGE), Code.E_UNKNOWN_CONVERSION_RULE),
    ],
    ids=lambda value: value.kind if isinstance(value, Command) else str(value),
)
def test_a_refusal_quotes_an_unknown_value_of_any_length_by_its_start(
    ledger: Ledger, command: Command, code: Code
) -> None:
    funded(ledger)
    refused = assert_unchanged(ledger, lambda: ledger.submit(command), code)
    [failure] = [failure for failure in refused.failures if failure.code is code]
    assert "XXXXXXXX" in failure.message
    assert len(failure.message) < 200
    assert all(len(value) <= QUOTED_TEXT_LENGTH_MAX for value in failure.ids)


@pytest.mark.parametrize(
    "command",
    [
        Transfer("t-from-ghost", GHOST, "B", vcus(1)),
        Transfer("t-to-ghost", "A", GHOST, vcus(1)),
        Issue("i-ghost", GHOST, 10, VCU),
        Retire("r-ghost", GHOST, vcus(1), "Beneficiary", "claim"),
        Cancel("c-ghost", GHOST, vcus(1), "correction"),
        PlaceHold("h-ghost", GHOST, vcus(1), "escrow"),
        CloseAccount("close-ghost", GHOST),
        FreezeAccount("freeze-ghost", GHOST, "court order"),
        UnfreezeAccount("unfreeze-ghost", GHOST, "lifted"),
        Retire("r-into-ghost", "A", vcus(1), "Beneficiary", "claim", into_account_id=GHOST),
    ],
    ids=lambda command: command.command_id,
)
def test_commands_naming_an_unknown_account_are_refused(ledger: Ledger, command: Command) -> None:
    funded(ledger)
    refused_by_submit(ledger, command, Code.E_UNKNOWN_ACCOUNT)


def test_a_closed_account_can_neither_receive_nor_act(ledger: Ledger) -> None:
    funded(ledger)
    open_accounts(ledger, "C")
    accept(ledger, CloseAccount("close-c", "C"))
    refused_by_submit(ledger, Transfer("t-to-c", "A", "C", vcus(5)), Code.E_ACCOUNT_CLOSED)
    refused_by_submit(ledger, Issue("i-c", "C", 5, VCU), Code.E_ACCOUNT_CLOSED)
    refused_by_submit(ledger, Transfer("t-from-c", "C", "A", vcus(5)), Code.E_ACCOUNT_CLOSED)
    refused_by_submit(ledger, CloseAccount("close-c-again", "C"), Code.E_ACCOUNT_CLOSED)
    refused_by_submit(ledger, FreezeAccount("freeze-c", "C", "audit"), Code.E_ACCOUNT_CLOSED)
    refused_by_submit(
        ledger, OpenAccount("reopen-c", "C", "company_holding", "C again"), Code.E_ACCOUNT_EXISTS
    )


def test_a_frozen_account_cannot_send_receive_retire_hold_or_take_issuance(
    ledger: Ledger,
) -> None:
    funded(ledger)
    issue(ledger, "B", 10)
    accept(ledger, PlaceHold("hold-before-freeze", "A", vcus(5), "escrow"))
    accept(ledger, FreezeAccount("freeze-a", "A", "court order"))
    frozen = Code.E_ACCOUNT_FROZEN
    refused_by_submit(ledger, Transfer("t-out", "A", "B", vcus(5)), frozen)
    refused_by_submit(ledger, Transfer("t-in", "B", "A", vcus(5)), frozen)
    refused_by_submit(ledger, Retire("r", "A", vcus(5), "Beneficiary", "claim"), frozen)
    refused_by_submit(ledger, Cancel("c", "A", vcus(5), "voluntary"), frozen)
    refused_by_submit(ledger, PlaceHold("h", "A", vcus(5), "escrow"), frozen)
    refused_by_submit(ledger, Issue("i", "A", 5, VCU), frozen)
    refused_by_submit(ledger, Convert("cv", "A", vcus(5), "VCU-CCP-LABEL"), frozen)
    refused_by_submit(ledger, ConsumeHold("consume", "hold-before-freeze", "transfer", "B"), frozen)
    refused_by_submit(ledger, FreezeAccount("freeze-a-again", "A", "again"), frozen)


def test_unfreezing_an_open_account_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    refused_by_submit(ledger, UnfreezeAccount("unfreeze-a", "A", "why"), Code.E_ACCOUNT_NOT_FROZEN)


@pytest.mark.parametrize(
    ("kind", "command_of"),
    [
        ("person_holding", lambda account: Issue("i", account, 5, VCU)),
        ("trading", lambda account: Issue("i", account, 5, VCU)),
        ("retirement", lambda account: Transfer("t", "A", account, vcus(5))),
        ("cancellation", lambda account: Transfer("t", "A", account, vcus(5))),
        ("company_holding", lambda account: Surrender("s", account, vcus(5), "2025")),
        ("person_holding", lambda account: Convert("cv", account, vcus(5), "VCU-CCP-LABEL")),
        ("issuance", lambda account: Retire("r", account, vcus(5), "Beneficiary", "claim")),
        (
            "company_holding",
            lambda account: Retire("r", "A", vcus(5), "B", "p", into_account_id=account),
        ),
    ],
    ids=[
        "person-issue",
        "trading-issue",
        "retirement-receive",
        "cancellation-receive",
        "company-surrender",
        "person-convert",
        "issuance-retire",
        "company-as-retirement-destination",
    ],
)
def test_an_account_kind_may_only_take_its_permitted_actions(
    ledger: Ledger, kind: str, command_of: Callable[[str], Command]
) -> None:
    funded(ledger)
    open_accounts(ledger, "K", kind=kind)
    if kind in ("person_holding", "issuance", "company_holding"):
        accept(ledger, Transfer("fund-k", "A", "K", vcus(10)))
    refused_by_submit(ledger, command_of("K"), Code.E_ACCOUNT_KIND_NOT_PERMITTED)


def test_an_account_kind_cannot_hold_a_unit_type_outside_its_markets(ledger: Ledger) -> None:
    funded(ledger)
    open_accounts(ledger, "BUFFER", kind="buffer_pool")
    open_accounts(ledger, "OPERATOR", kind="operator_holding")
    issue(ledger, "A", 20, GEC)
    cannot_hold = Code.E_ACCOUNT_KIND_CANNOT_HOLD_UNIT_TYPE
    refused_by_submit(ledger, Issue("i-eua-buffer", "BUFFER", 5, EUA), cannot_hold)
    refused_by_submit(
        ledger, Transfer("t-gec", "A", "OPERATOR", Selection("GEC", quantity=5)), cannot_hold
    )
    refused_by_submit(ledger, Issue("i-gec-operator", "OPERATOR", 5, GEC), cannot_hold)


def test_closing_an_account_that_still_holds_active_units_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    refused_by_submit(ledger, CloseAccount("close-a", "A"), Code.E_ACCOUNT_NOT_EMPTY)
    accept(ledger, Transfer("t-all-but-one", "A", "B", vcus(99)))
    refused_by_submit(ledger, CloseAccount("close-a-2", "A"), Code.E_ACCOUNT_NOT_EMPTY)


def test_units_on_hold_keep_an_account_from_closing(ledger: Ledger) -> None:
    funded(ledger, 10)
    accept(ledger, PlaceHold("hold-all", "A", vcus(10), "escrow"))
    refused_by_submit(ledger, CloseAccount("close-a", "A"), Code.E_ACCOUNT_NOT_EMPTY)


def test_opening_an_existing_account_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    refused_by_submit(
        ledger, OpenAccount("open-a-twice", "A", "person_holding", "Other"), Code.E_ACCOUNT_EXISTS
    )


@pytest.mark.parametrize(
    "account_id",
    ["", " ", "-leading-dash", "has space", "slash/ed", "x" * (ACCOUNT_ID_LENGTH_MAX + 1), "é"],
)
def test_an_account_id_outside_the_allowed_alphabet_is_refused(
    ledger: Ledger, account_id: str
) -> None:
    refused_by_submit(
        ledger,
        OpenAccount("open-bad", account_id, "company_holding", "Holder"),
        Code.E_INVALID_ACCOUNT_ID,
    )


def test_an_account_id_of_the_maximum_length_is_accepted(ledger: Ledger) -> None:
    accept(ledger, OpenAccount("open-long", "x" * ACCOUNT_ID_LENGTH_MAX, "trading", "Holder"))


def test_an_unknown_account_kind_is_refused(ledger: Ledger) -> None:
    refused_by_submit(
        ledger, OpenAccount("open-w", "W", "wizard", "Merlin"), Code.E_UNKNOWN_ACCOUNT_KIND
    )


# -- shape of the command --------------------------------------------------------------------------


@pytest.mark.parametrize("quantity", [0, -5])
def test_a_quantity_that_is_not_positive_is_refused(ledger: Ledger, quantity: int) -> None:
    funded(ledger)
    not_positive = Code.E_QUANTITY_NOT_POSITIVE_INTEGER
    refused_by_submit(ledger, Transfer("t", "A", "B", vcus(quantity)), not_positive)
    refused_by_submit(ledger, Issue("i", "A", quantity, VCU), not_positive)
    refused_by_submit(
        ledger, Retire("r", "A", vcus(quantity), "Beneficiary", "claim"), not_positive
    )
    refused_by_submit(ledger, PlaceHold("h", "A", vcus(quantity), "escrow"), not_positive)


@pytest.mark.parametrize("quantity", [True, "5", 2.5, None], ids=["bool", "str", "float", "null"])
def test_a_quantity_that_is_not_an_integer_cannot_enter_through_a_record(
    quantity: object,
) -> None:
    transfer = Transfer("t", "A", "B", vcus(1)).to_record()
    transfer["selection"]["quantity"] = quantity
    issue_record = Issue("i", "A", 1, VCU).to_record()
    issue_record["quantity"] = quantity
    with pytest.raises(CommandFormatError):
        command_from_record(issue_record)
    if quantity is None:  # a selection without quantity names serial ranges instead
        read = command_from_record(transfer)
        assert isinstance(read, Transfer)
        assert read.selection.quantity is None
        return
    with pytest.raises(CommandFormatError):
        command_from_record(transfer)


@pytest.mark.parametrize("quantity", [True, False, "5", 2.5], ids=["true", "false", "str", "float"])
def test_a_quantity_smuggled_past_the_record_reader_is_refused(
    ledger: Ledger, quantity: object
) -> None:
    funded(ledger)
    not_positive = Code.E_QUANTITY_NOT_POSITIVE_INTEGER
    selection = Selection("VCU", quantity=quantity)  # type: ignore[arg-type]
    refused_by_submit(ledger, Transfer("t", "A", "B", selection), not_positive)
    refused_by_submit(ledger, Issue("i", "A", quantity, VCU), not_positive)  # type: ignore[arg-type]


@pytest.mark.parametrize("quantity", [True, "5", 2.5], ids=["bool", "str", "float"])
def test_a_smuggled_quantity_with_an_explicit_first_serial_is_refused(
    ledger: Ledger, quantity: object
) -> None:
    funded(ledger)
    command = Issue("i", "A", quantity, VCU, first_serial=1_000)  # type: ignore[arg-type]
    refused_by_submit(ledger, command, Code.E_QUANTITY_NOT_POSITIVE_INTEGER)


SMUGGLED_RANGES = [(1.5, 3.5), (True, True), (math.nan, math.nan), ("1", "3"), (1, 3.0)]


@pytest.mark.parametrize(
    "pair", SMUGGLED_RANGES, ids=["fractions", "booleans", "nan", "texts", "float-end"]
)
def test_a_serial_range_smuggled_past_the_record_reader_is_refused(
    ledger: Ledger, pair: tuple[object, object]
) -> None:
    # Accepted before: 1.5-3.5 moved fractions of a tonne (blocks 1-0.5 and 4.5-100 left behind),
    # NaN-NaN was an entry that moved nothing, and neither could be decided again or verified.
    funded(ledger)
    selection = Selection("VCU", serial_ranges=(SerialRange(*pair),))  # type: ignore[arg-type]
    invalid = Code.E_INVALID_SERIAL_RANGE
    refused_by_submit(ledger, Transfer("t", "A", "B", selection), invalid)
    refused_by_submit(ledger, PlaceHold("h", "A", selection, "escrow"), invalid)
    assert ledger.verify().ok


@pytest.mark.parametrize(
    ("selection", "code"),
    [
        (Selection("VCU", 5, vintage_year=2021.0), Code.E_INVALID_COMMAND),  # type: ignore[arg-type]
        (Selection("VCU", 5, vintage_year="2021"), Code.E_INVALID_COMMAND),  # type: ignore[arg-type]
        (Selection(["VCU"], 5), Code.E_UNKNOWN_UNIT_TYPE),  # type: ignore[arg-type]
        (Selection("VCU", 5, registry=["VERRA"]), Code.E_UNKNOWN_REGISTRY),  # type: ignore[arg-type]
        (Selection("VCU", 5, registry=0), Code.E_UNKNOWN_REGISTRY),  # type: ignore[arg-type]
    ],
    ids=["float-year", "text-year", "list-unit-type", "list-registry", "zero-registry"],
)
def test_a_selection_smuggled_past_the_record_reader_is_refused(
    ledger: Ledger, selection: Selection, code: Code
) -> None:
    # A float year was accepted (its entry then failed `verify --redecide`); the others raised.
    funded(ledger)
    refused_by_submit(ledger, Transfer("t", "A", "B", selection), code)


AT_FIVE = dt.datetime(2025, 1, 1, 5)
"""A time, where a day belongs: `datetime` is a `date` too, and its record carries the hour."""
INVALID_ATTRIBUTES = Code.E_INVALID_ATTRIBUTES
NUMBER_DETAIL: dict[str, str] = {1: "x", "beneficiary": "B", "purpose": "p"}  # type: ignore[dict-item]


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (Retire("r", "A", vcus(1), "B", "p", AT_FIVE, AT_FIVE), Code.E_INVALID_COMMAND),
        (Retire("r", "A", vcus(1), "B", "p", "2025-01-01", "2025-12-31"), Code.E_INVALID_COMMAND),  # type: ignore[arg-type]
        (Issue("i", "A", 5, vcu(vintage_start=AT_FIVE, vintage_end=AT_FIVE)), INVALID_ATTRIBUTES),
        (Issue("i", "A", 5, vcu(valid_until=AT_FIVE)), Code.E_INVALID_ATTRIBUTES),
        (Issue("i", "A", 5, vcu(vintage_start="2021-01-01")), Code.E_INVALID_ATTRIBUTES),  # type: ignore[arg-type]
        (Issue("i", "A", 5, vcu(host_country=["BR"])), Code.E_INVALID_ATTRIBUTES),  # type: ignore[arg-type]
        (Issue("i", "A", 5, vcu(category=["removal"])), Code.E_INVALID_ATTRIBUTES),  # type: ignore[arg-type]
        (Issue("i", "A", 5, vcu(labels=None)), Code.E_INVALID_ATTRIBUTES),  # type: ignore[arg-type]
        (Issue("i", "A", 5, vcu(unit_type=["VCU"])), Code.E_UNKNOWN_UNIT_TYPE),  # type: ignore[arg-type]
        (Issue("i", "A", 5, VCU, registry=["VERRA"]), Code.E_UNKNOWN_REGISTRY),  # type: ignore[arg-type]
        (OpenAccount("o", "C", ["company_holding"], "H"), Code.E_UNKNOWN_ACCOUNT_KIND),  # type: ignore[arg-type]
        (OpenAccount("o", "C", "company_holding", "H", ["CARBONEX"]), Code.E_UNKNOWN_REGISTRY),  # type: ignore[arg-type]
        (Convert("cv", "A", vcus(1), ["VCU-CCP-LABEL"]), Code.E_UNKNOWN_CONVERSION_RULE),  # type: ignore[arg-type]
        (ConsumeHold("k", "h", "retire", details=None), Code.E_INVALID_COMMAND),  # type: ignore[arg-type]
        (ConsumeHold("k", "h", "retire", details=NUMBER_DETAIL), Code.E_INVALID_COMMAND),
    ],
    ids=[
        "claim-times", "claim-texts", "vintage-times", "validity-time", "vintage-text",
        "country-list", "category-list", "labels-none", "unit-type-list", "registry-list",
        "account-kind-list", "account-registry-list", "rule-list", "details-none", "detail-number",
    ],
)  # fmt: skip
def test_values_of_the_wrong_type_from_a_python_caller_are_refused_not_raised(
    ledger: Ledger, command: Command, code: Code
) -> None:
    # A retirement claiming from 05:00 was accepted, and its entry failed `verify --redecide`
    # (the record reader takes days only); every other one raised inside the ledger.
    funded(ledger)
    refused_by_submit(ledger, command, code)


def test_a_quantity_above_the_limit_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    too_large = Code.E_QUANTITY_TOO_LARGE
    refused_by_submit(ledger, Transfer("t", "A", "B", vcus(QUANTITY_MAX + 1)), too_large)
    refused_by_submit(ledger, Issue("i", "A", QUANTITY_MAX + 1, VCU), too_large)


@pytest.mark.parametrize(
    ("command", "code"),
    [
        (Transfer("t", "A", "B", vcus(2**64)), Code.E_QUANTITY_TOO_LARGE),
        (Transfer("t", "A", "B", vcu_ranges((1, 2**64))), Code.E_INVALID_SERIAL_RANGE),
        (Transfer("t", "A", "B", vcu_ranges((2**64, 2**64 + 1))), Code.E_INVALID_SERIAL_RANGE),
        (Issue("i", "A", 2**64, VCU), Code.E_QUANTITY_TOO_LARGE),
        (Issue("i", "A", 5, VCU, first_serial=2**64), Code.E_INVALID_SERIAL_RANGE),
        (Issue("i", "A", 5, VCU, first_serial=-(2**64)), Code.E_INVALID_SERIAL_RANGE),
        (Transfer("t", "A", "B", Selection("VCU", 1, vintage_year=2**64)), Code.E_INVALID_COMMAND),
    ],
    ids=["quantity", "range-end", "range", "issue-quantity", "first-serial", "negative", "year"],
)
def test_numbers_beyond_64_bits_are_refused_not_crashed_on(
    ledger: Ledger, command: Command, code: Code
) -> None:
    funded(ledger)
    refused_by_submit(ledger, command, code)


@pytest.mark.parametrize(
    "pairs",
    [
        ((5, 3),),
        ((0, 2),),
        ((-4, 2),),
        ((1, 5), (5, 9)),
        ((10, 20), (1, 12)),
        ((1, SERIAL_MAX + 1),),
    ],
    ids=["reversed", "zero", "negative", "touching", "overlapping", "beyond-max"],
)
def test_an_invalid_serial_range_is_refused(
    ledger: Ledger, pairs: tuple[tuple[int, int], ...]
) -> None:
    funded(ledger)
    refused_by_submit(
        ledger, Transfer("t", "A", "B", vcu_ranges(*pairs)), Code.E_INVALID_SERIAL_RANGE
    )


@pytest.mark.parametrize("first_serial", [0, -1, SERIAL_MAX])
def test_an_issue_whose_explicit_serials_leave_the_serial_space_is_refused(
    ledger: Ledger, first_serial: int
) -> None:
    funded(ledger)
    refused_by_submit(
        ledger,
        Issue("i", "A", 5, VCU, first_serial=first_serial),
        Code.E_INVALID_SERIAL_RANGE,
    )


@pytest.mark.parametrize("first_serial", [True, 1.0, 1.5, "1", float("nan")])
def test_an_issue_whose_first_serial_is_no_whole_number_is_refused(
    ledger: Ledger, first_serial: object
) -> None:
    # True was taken for serial 1 and written into the journal as `true`, which verify then
    # named as damage.
    funded(ledger)
    issue = Issue("i", "A", 5, VCU, first_serial=first_serial)  # type: ignore[arg-type]
    refused_by_submit(ledger, issue, Code.E_INVALID_SERIAL_RANGE)


@pytest.mark.parametrize(
    "attributes",
    [
        vcu(host_country="XX"),
        vcu(host_country="br"),
        vcu(vintage_start=dt.date(2021, 6, 1), vintage_end=dt.date(2021, 5, 31)),
        vcu(category="offset"),
        vcu(labels=("CCP", " ")),
    ],
    ids=["unknown-country", "lower-case-country", "vintage-ends-first", "category", "blank-label"],
)
def test_invalid_unit_attributes_are_refused(ledger: Ledger, attributes: UnitAttributes) -> None:
    funded(ledger)
    refused_by_submit(ledger, Issue("i", "A", 5, attributes), Code.E_INVALID_ATTRIBUTES)


def test_every_invalid_attribute_is_reported(ledger: Ledger) -> None:
    funded(ledger)
    attributes = vcu(
        host_country="XX",
        vintage_start=dt.date(2022, 1, 1),
        vintage_end=dt.date(2021, 1, 1),
        category="offset",
    )
    refused_by_submit(
        ledger,
        Issue("i", "A", 5, attributes),
        Code.E_INVALID_ATTRIBUTES,
        Code.E_INVALID_ATTRIBUTES,
        Code.E_INVALID_ATTRIBUTES,
    )


def test_an_unknown_unit_type_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    unknown = Code.E_UNKNOWN_UNIT_TYPE
    refused_by_submit(ledger, Issue("i", "A", 5, vcu(unit_type="XYZ")), unknown)
    refused_by_submit(ledger, Transfer("t", "A", "B", Selection("XYZ", quantity=5)), unknown)
    refused_by_submit(ledger, Retire("r", "A", Selection("vcu", quantity=5), "B", "p"), unknown)


def test_an_unknown_registry_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    unknown = Code.E_UNKNOWN_REGISTRY
    refused_by_submit(ledger, Issue("i", "A", 5, VCU, registry="NOPE"), unknown)
    selection = Selection("VCU", quantity=5, registry="NOPE")
    refused_by_submit(ledger, Transfer("t", "A", "B", selection), unknown)
    refused_by_submit(ledger, OpenAccount("o", "N", "company_holding", "N", "NOPE"), unknown)


@pytest.mark.parametrize(
    "command",
    [
        Transfer("", "A", "B", vcus(1)),
        Transfer("   ", "A", "B", vcus(1)),
        Transfer("x" * 129, "A", "B", vcus(1)),
        OpenAccount("o", "C", "company_holding", ""),
        Retire("r", "A", vcus(1), "", "claim"),
        Retire("r", "A", vcus(1), "Beneficiary", "x" * 1_001),
        Cancel("c", "A", vcus(1), " "),
        Surrender("s", "A", vcus(1), ""),
        FreezeAccount("f", "A", ""),
        PlaceHold("h", "A", vcus(1), ""),
        Transfer("t", "A", "B", Selection("VCU", quantity=1, serial_ranges=ranges((1, 1)))),
        Transfer("t", "A", "B", Selection("VCU")),
        Transfer("t", "A", "B", Selection("VCU", serial_ranges=ranges((1, 2)), vintage_year=2021)),
        Retire("r", "A", vcus(1), "B", "p", dt.date(2025, 12, 31), dt.date(2025, 1, 1)),
        ConsumeHold("k", "h", "burn"),
        ConsumeHold("k", "h", "transfer"),
        ConsumeHold("k", "h", "retire", details={"beneficiary": "B"}),
        Issue("i", "A", 5, vcu(project_id="")),
    ],
    ids=[
        "empty-command-id",
        "blank-command-id",
        "long-command-id",
        "empty-holder",
        "empty-beneficiary",
        "long-purpose",
        "blank-reason",
        "empty-compliance-period",
        "empty-freeze-reason",
        "empty-hold-purpose",
        "quantity-and-ranges",
        "neither-quantity-nor-ranges",
        "filters-on-ranges",
        "claim-period-reversed",
        "unknown-consume-action",
        "consume-transfer-without-target",
        "consume-retire-without-purpose",
        "empty-project",
    ],
)
def test_a_malformed_command_is_refused_as_invalid(ledger: Ledger, command: Command) -> None:
    funded(ledger)
    refused_by_submit(ledger, command, Code.E_INVALID_COMMAND)


LONE_SURROGATE = "\ud800"
"""Half of a UTF-16 pair: a Python text, but not Unicode that UTF-8 (or a database) can hold."""


@pytest.mark.parametrize(
    "command",
    [
        CloseAccount("close", LONE_SURROGATE),
        Transfer(f"t{LONE_SURROGATE}", "A", "B", vcus(1)),
        Transfer("t", "A", LONE_SURROGATE, vcus(1)),
        Retire("r", "A", vcus(1), f"Oslo{LONE_SURROGATE}", "claim"),
        Issue("i", "A", 5, vcu(labels=(LONE_SURROGATE,))),
        ReleaseHold("rel", LONE_SURROGATE),
    ],
    ids=["account-id", "command-id", "target", "beneficiary", "label", "hold-id"],
)
def test_a_command_holding_text_that_is_not_valid_unicode_is_refused_before_any_lookup(
    ledger: Ledger, command: Command
) -> None:
    funded(ledger)
    refused = assert_unchanged(ledger, lambda: ledger.submit(command), Code.E_INVALID_COMMAND)
    assert refused.failures[0].message == "the command holds text that is not valid Unicode"
    assert_unchanged(
        ledger,
        lambda: ledger.submit_batch([command]),
        Code.E_BATCH_COMMAND_REFUSED,
        Code.E_INVALID_COMMAND,
    )


@pytest.mark.parametrize(
    "command",
    [
        OpenAccount("open", "C", "company_holding", "Acme\x1b[2J"),
        Retire("r", "A", vcus(1), "Oslo\u202eolsO", "claim"),
        Issue("i", "A", 5, vcu(labels=("SDG\n13",))),
    ],
    ids=["holder-escape", "beneficiary-override", "label-line-break"],
)
def test_text_holding_a_control_character_or_a_bidi_override_is_refused_before_any_lookup(
    ledger: Ledger, command: Command
) -> None:
    funded(ledger)
    refused_by_submit(ledger, command, Code.E_TEXT_CHARACTER_NOT_ALLOWED)


# -- units -----------------------------------------------------------------------------------------


def test_moving_more_units_than_held_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    not_held = Code.E_UNITS_NOT_HELD
    refused_by_submit(ledger, Transfer("t", "A", "B", vcus(101)), not_held)
    refused_by_submit(ledger, Transfer("t", "B", "A", vcus(1)), not_held)
    refused_by_submit(ledger, Transfer("t", "A", "B", Selection("CER", quantity=1)), not_held)


def test_moving_serials_someone_else_holds_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    refused_by_submit(ledger, Transfer("t", "B", "A", vcu_ranges((1, 10))), Code.E_UNITS_NOT_HELD)


def test_moving_serials_never_issued_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    not_held = Code.E_UNITS_NOT_HELD
    refused_by_submit(ledger, Transfer("t", "A", "B", vcu_ranges((200, 210))), not_held)
    refused_by_submit(ledger, Transfer("t", "A", "B", vcu_ranges((95, 105))), not_held)


def test_units_on_hold_cannot_be_moved_by_anything_but_the_hold(ledger: Ledger) -> None:
    funded(ledger)
    accept(ledger, PlaceHold("hold-60", "A", vcus(60), "exchange order"))
    on_hold = Code.E_UNITS_ON_HOLD
    refused_by_submit(ledger, Transfer("t", "A", "B", vcus(50)), on_hold)
    refused_by_submit(ledger, Transfer("t", "A", "B", vcu_ranges((1, 10))), on_hold)
    refused_by_submit(
        ledger, Retire("r", "A", vcu_ranges((55, 65)), "Beneficiary", "claim"), on_hold
    )
    refused_by_submit(ledger, PlaceHold("hold-again", "A", vcu_ranges((1, 1)), "again"), on_hold)
    accept(ledger, Transfer("t-free", "A", "B", vcus(40)))


def finalize(ledger: Ledger, clock: FixedClock, state: str) -> tuple[str, Selection]:
    """Make serials 1-10 of some unit type final in `state` in account A (or O for surrender);
    return the account and a selection naming exactly those serials."""
    open_accounts(ledger, "A", "B")
    if state == "retired":
        issue(ledger, "A", 20)
        accept(ledger, Retire("final", "A", vcus(10), "Beneficiary", "claim"))
    elif state == "cancelled":
        issue(ledger, "A", 20)
        accept(ledger, Cancel("final", "A", vcus(10), "voluntary cancellation"))
    elif state == "surrendered":
        open_accounts(ledger, "O", kind="operator_holding")
        issue(ledger, "O", 20, EUA)
        accept(ledger, Surrender("final", "O", Selection("EUA", quantity=10), "2025"))
        return "O", Selection("EUA", serial_ranges=ranges((1, 10)))
    elif state == "expired":
        issue(ledger, "A", 10, vcu(valid_until=dt.date(2026, 3, 5)))
        issue(ledger, "A", 10)
        clock.advance(days=10)
        accept(ledger, Expire("final", "A", vcus(10)))
    elif state == "converted":
        issue(ledger, "A", 20, CER_2014)
        accept(ledger, Convert("final", "A", Selection("CER", quantity=10), "CDM-TO-A6.4"))
        return "A", Selection("CER", serial_ranges=ranges((1, 10)))
    return "A", vcu_ranges((1, 10))


FINAL_CODES = {
    "retired": Code.E_RETIRED_UNITS_CANNOT_MOVE,
    "cancelled": Code.E_CANCELLED_UNITS_CANNOT_MOVE,
    "surrendered": Code.E_SURRENDERED_UNITS_CANNOT_MOVE,
    "expired": Code.E_EXPIRED_UNITS_CANNOT_MOVE,
    "converted": Code.E_CONVERTED_UNITS_CANNOT_MOVE,
}


@pytest.mark.parametrize("state", list(FINAL_CODES))
def test_units_in_a_final_state_never_move_again(
    ledger: Ledger, clock: FixedClock, state: str
) -> None:
    account, final = finalize(ledger, clock, state)
    code = FINAL_CODES[state]
    refused_by_submit(ledger, Transfer("t", account, "B", final), code)
    refused_by_submit(ledger, Retire("r", account, final, "Beneficiary", "claim"), code)
    refused_by_submit(ledger, Cancel("c", account, final, "again"), code)
    refused_by_submit(ledger, PlaceHold("h", account, final, "escrow"), code)
    refused_by_submit(ledger, Expire("e", account, final), code)
    refused_by_submit(ledger, Transfer("t", "B", account, final), code)
    # A quantity only ever draws on active units: the final ones are simply not there.
    quantity = Selection(final.unit_type, quantity=11)
    refused_by_submit(ledger, Transfer("t", account, "B", quantity), Code.E_UNITS_NOT_HELD)


def test_retired_units_keep_their_state_after_a_refused_second_retirement(ledger: Ledger) -> None:
    funded(ledger, 10)
    accept(ledger, Retire("retire-all", "A", vcus(10), "Beneficiary", "claim"))
    refused_by_submit(
        ledger,
        Retire("retire-again", "A", vcu_ranges((1, 10)), "Other", "double claim"),
        Code.E_RETIRED_UNITS_CANNOT_MOVE,
    )
    assert held(ledger, "A", "retired") == 10


def test_issuing_serials_that_overlap_an_earlier_issuance_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    overlaps = Code.E_SERIAL_RANGE_OVERLAPS
    refused_by_submit(ledger, Issue("i", "A", 10, VCU, first_serial=50), overlaps)
    refused_by_submit(ledger, Issue("i", "A", 10, VCU, first_serial=1), overlaps)
    refused_by_submit(ledger, Issue("i", "A", 10, VCU, first_serial=100), overlaps)
    accept(ledger, Issue("i-after", "A", 10, VCU, first_serial=101))
    accept(ledger, Issue("i-gap", "A", 10, VCU, first_serial=1_000))
    refused_by_submit(ledger, Issue("i2", "A", 1_000, VCU, first_serial=500), overlaps)
    # The same serial numbers in another registry's space are other serials.
    accept(ledger, Issue("i-other-registry", "A", 10, VCU, registry="GS", first_serial=1))


def test_moving_units_to_their_own_account_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    refused_by_submit(ledger, Transfer("t", "A", "A", vcus(5)), Code.E_SAME_SOURCE_AND_TARGET)
    accept(ledger, PlaceHold("hold-5", "A", vcus(5), "escrow"))
    refused_by_submit(
        ledger, ConsumeHold("k", "hold-5", "transfer", "A"), Code.E_SAME_SOURCE_AND_TARGET
    )


def catalog_where_holding_accounts_also_receive_final_units() -> Catalog:
    """The shipped catalog, but a company holding account may also surrender and be named as
    the destination of a retirement, cancellation or surrender: a catalog may say so."""
    catalog = default_catalog()
    kinds = dict(catalog.account_kinds)
    company = kinds["company_holding"]
    extra = {"surrender", "receive_retired", "receive_cancelled", "receive_surrendered"}
    kinds["company_holding"] = replace(company, actions=company.actions | extra)
    return replace(catalog, account_kinds=kinds)


@pytest.mark.parametrize(
    ("command", "final_state"),
    [
        (Retire("r", "A", vcus(5), "Beneficiary", "claim", into_account_id="A"), "retired"),
        (Cancel("c", "A", vcus(5), "voluntary", into_account_id="A"), "cancelled"),
        (Surrender("s", "A", vcus(5), "2025", into_account_id="A"), "surrendered"),
    ],
    ids=["retire", "cancel", "surrender"],
)
def test_retiring_cancelling_or_surrendering_into_the_source_account_itself_is_refused(
    database_url: str, clock: FixedClock, command: Command, final_state: str
) -> None:
    catalog = catalog_where_holding_accounts_also_receive_final_units()
    with Ledger.open(database_url, catalog, clock) as ledger:
        funded(ledger)
        refused_by_submit(ledger, command, Code.E_SAME_SOURCE_AND_TARGET)
        accept(ledger, replace(command, command_id="into-b", into_account_id="B"))
        assert held(ledger, "B", final_state) == 5


def test_units_past_their_validity_cannot_move_and_units_within_it_cannot_expire(
    ledger: Ledger, clock: FixedClock
) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 10, vcu(valid_until=dt.date(2026, 3, 10)))
    refused_by_submit(ledger, Expire("e", "A", vcus(5)), Code.E_VALIDITY_PERIOD_NOT_PASSED)
    refused_by_submit(
        ledger, Expire("e", "A", vcu_ranges((1, 5))), Code.E_VALIDITY_PERIOD_NOT_PASSED
    )
    clock.advance(days=9)  # 2026-03-10: the last valid day
    accept(ledger, Transfer("t-last-day", "A", "B", vcus(2)))
    refused_by_submit(ledger, Expire("e", "A", vcus(5)), Code.E_VALIDITY_PERIOD_NOT_PASSED)
    clock.advance(days=1)  # 2026-03-11
    passed = Code.E_VALIDITY_PERIOD_PASSED
    refused_by_submit(ledger, Transfer("t", "A", "B", vcus(5)), passed)
    refused_by_submit(ledger, Transfer("t", "A", "B", vcu_ranges((3, 4))), passed)
    refused_by_submit(ledger, Retire("r", "A", vcus(1), "Beneficiary", "claim"), passed)
    refused_by_submit(ledger, PlaceHold("h", "A", vcus(1), "escrow"), passed)
    accept(ledger, Expire("e-a", "A", vcus(8)))
    accept(ledger, Expire("e-b", "B", vcu_ranges((1, 2))))
    assert held(ledger, "A", "expired") == 8
    assert held(ledger, "B", "expired") == 2


# -- holds and conversions -------------------------------------------------------------------------


def test_releasing_or_consuming_an_unknown_hold_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    refused_by_submit(ledger, ReleaseHold("rel", "no-such-hold"), Code.E_UNKNOWN_HOLD)
    refused_by_submit(
        ledger, ConsumeHold("k", "no-such-hold", "transfer", "B"), Code.E_UNKNOWN_HOLD
    )


def test_consuming_an_unknown_hold_also_reports_what_is_wrong_with_its_target(
    ledger: Ledger,
) -> None:
    funded(ledger)
    open_accounts(ledger, "C")
    accept(ledger, CloseAccount("close-c", "C"))
    accept(ledger, FreezeAccount("freeze-b", "B", "audit"))
    unknown_hold = Code.E_UNKNOWN_HOLD
    for target, code in (
        (GHOST, Code.E_UNKNOWN_ACCOUNT),
        ("C", Code.E_ACCOUNT_CLOSED),
        ("B", Code.E_ACCOUNT_FROZEN),
    ):
        refused_by_submit(
            ledger, ConsumeHold("k", "no-such-hold", "transfer", target), code, unknown_hold
        )
    details = {"beneficiary": "Beneficiary", "purpose": "claim"}
    refused_by_submit(
        ledger,
        ConsumeHold("k", "no-such-hold", "retire", "A", details),
        Code.E_ACCOUNT_KIND_NOT_PERMITTED,
        unknown_hold,
    )


def test_consuming_a_hold_no_longer_pending_also_reports_its_accounts_failures(
    ledger: Ledger,
) -> None:
    funded(ledger)
    accept(ledger, PlaceHold("consumed", "A", vcus(10), "escrow"))
    accept(ledger, ConsumeHold("consume-1", "consumed", "transfer", "B"))
    accept(ledger, FreezeAccount("freeze-a", "A", "audit"))
    refused_by_submit(
        ledger,
        ConsumeHold("k", "consumed", "transfer", GHOST),
        Code.E_UNKNOWN_ACCOUNT,
        Code.E_ACCOUNT_FROZEN,
        Code.E_HOLD_NOT_PENDING,
    )
    refused_by_submit(
        ledger,
        ConsumeHold("k", "consumed", "transfer", "A"),
        Code.E_ACCOUNT_FROZEN,
        Code.E_ACCOUNT_FROZEN,
        Code.E_SAME_SOURCE_AND_TARGET,
        Code.E_HOLD_NOT_PENDING,
    )
    # Releasing checks no account (it moves nothing): only the hold is wrong.
    refused_by_submit(ledger, ReleaseHold("rel", "consumed"), Code.E_HOLD_NOT_PENDING)


def test_a_hold_on_a_frozen_account_is_not_consumed_and_its_released_units_stay_frozen(
    ledger: Ledger,
) -> None:
    funded(ledger)
    accept(ledger, PlaceHold("hold-10", "A", vcus(10), "escrow"))
    accept(ledger, FreezeAccount("freeze-a", "A", "court order"))
    details = {"beneficiary": "Beneficiary", "purpose": "claim"}
    refused_by_submit(
        ledger, ConsumeHold("k", "hold-10", "retire", details=details), Code.E_ACCOUNT_FROZEN
    )
    # Releasing moves no unit between accounts: the units stay in A, frozen with it.
    accept(ledger, ReleaseHold("release", "hold-10"))
    assert held(ledger, "A") == 100
    assert held(ledger, "A", on_hold=True) == 0
    refused_by_submit(ledger, Transfer("t", "A", "B", vcus(10)), Code.E_ACCOUNT_FROZEN)


def test_placing_a_hold_with_a_used_hold_id_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    accept(ledger, PlaceHold("h-1", "A", vcus(10), "escrow", hold_id="order-7"))
    refused_by_submit(
        ledger, PlaceHold("h-2", "A", vcus(10), "escrow", hold_id="order-7"), Code.E_HOLD_EXISTS
    )
    accept(ledger, ReleaseHold("release-7", "order-7"))
    refused_by_submit(
        ledger, PlaceHold("h-3", "A", vcus(10), "escrow", hold_id="order-7"), Code.E_HOLD_EXISTS
    )
    # Without a hold id, the command id names the hold.
    refused_by_submit(ledger, PlaceHold("h-1", "A", vcus(3), "other"), Code.E_COMMAND_ID_REUSED)
    accept(ledger, PlaceHold("h-5", "A", vcus(3), "named by its command"))
    refused_by_submit(
        ledger, PlaceHold("h-6", "A", vcus(3), "x", hold_id="h-5"), Code.E_HOLD_EXISTS
    )


def test_a_hold_that_is_no_longer_pending_cannot_be_released_or_consumed(ledger: Ledger) -> None:
    funded(ledger)
    accept(ledger, PlaceHold("released", "A", vcus(10), "escrow"))
    accept(ledger, ReleaseHold("release-1", "released"))
    accept(ledger, PlaceHold("consumed", "A", vcus(10), "escrow"))
    accept(ledger, ConsumeHold("consume-1", "consumed", "transfer", "B"))
    not_pending = Code.E_HOLD_NOT_PENDING
    for hold_id in ("released", "consumed"):
        refused_by_submit(ledger, ReleaseHold(f"rel-{hold_id}", hold_id), not_pending)
        refused_by_submit(
            ledger, ConsumeHold(f"k-{hold_id}", hold_id, "transfer", "B"), not_pending
        )
        details = {"beneficiary": "B", "purpose": "p"}
        refused_by_submit(
            ledger, ConsumeHold(f"r-{hold_id}", hold_id, "retire", details=details), not_pending
        )


def test_an_unknown_conversion_rule_is_refused(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 20, CER_2014)
    refused_by_submit(
        ledger,
        Convert("cv", "A", Selection("CER", quantity=5), "CDM-TO-NOWHERE"),
        Code.E_UNKNOWN_CONVERSION_RULE,
    )


def test_cers_with_a_vintage_before_2013_cannot_become_article_6_4_units(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 20, CER_2012)  # serials 1-20
    issue(ledger, "A", 20, CER_2014)  # serials 21-40
    not_allowed = Code.E_CONVERSION_NOT_ALLOWED
    old = Selection("CER", serial_ranges=ranges((1, 5)))
    refused_by_submit(ledger, Convert("cv-old", "A", old, "CDM-TO-A6.4"), not_allowed)
    mixed = Selection("CER", serial_ranges=ranges((15, 25)))
    refused_by_submit(ledger, Convert("cv-mixed", "A", mixed, "CDM-TO-A6.4"), not_allowed)
    lowest_first = Selection("CER", quantity=5)  # lowest serials are the 2012 ones
    refused_by_submit(ledger, Convert("cv-q", "A", lowest_first, "CDM-TO-A6.4"), not_allowed)
    recent = Selection("CER", quantity=5, vintage_year=2014)
    accept(ledger, Convert("cv-recent", "A", recent, "CDM-TO-A6.4"))


def test_a_rule_cannot_convert_a_unit_type_it_does_not_name(ledger: Ledger) -> None:
    funded(ledger)
    refused_by_submit(
        ledger, Convert("cv", "A", vcus(5), "CDM-TO-A6.4"), Code.E_CONVERSION_NOT_ALLOWED
    )


def test_a_conversion_under_a_rule_for_another_unit_type_is_refused_for_its_account_first(
    ledger: Ledger,
) -> None:
    # E_CONVERSION_NOT_ALLOWED comes after the account codes: an unknown or frozen account was
    # answered with the rule's unit type alone.
    funded(ledger)
    cer_rule = "CDM-TO-A6.4"
    refused_by_submit(ledger, Convert("cv", GHOST, vcus(5), cer_rule), Code.E_UNKNOWN_ACCOUNT)
    accept(ledger, FreezeAccount("freeze-a", "A", "audit"))
    refused_by_submit(ledger, Convert("cv", "A", vcus(5), cer_rule), Code.E_ACCOUNT_FROZEN)
    accept(ledger, UnfreezeAccount("unfreeze-a", "A", "audit over"))
    refused_by_submit(
        ledger,
        Convert("cv", "A", vcus(500), cer_rule),
        Code.E_UNITS_NOT_HELD,
        Code.E_CONVERSION_NOT_ALLOWED,
    )


def test_consuming_a_hold_of_a_unit_type_the_catalog_in_force_no_longer_lists_is_refused(
    database_url: str, clock: FixedClock
) -> None:
    with Ledger.open(database_url, clock=clock) as ledger:
        funded(ledger)
        accept(ledger, PlaceHold("h", "A", vcus(10), "exchange order", hold_id="order-1"))
    with Ledger.open(database_url, catalog_without("VCU"), clock) as ledger:
        unknown = Code.E_UNKNOWN_UNIT_TYPE
        refused_by_submit(ledger, ConsumeHold("k-t", "order-1", "transfer", "B"), unknown)
        details = {"beneficiary": "Oslo", "purpose": "claim"}
        refused_by_submit(ledger, ConsumeHold("k-r", "order-1", "retire", details=details), unknown)
        accept(ledger, ReleaseHold("release", "order-1"))  # the units can still come off hold


def test_a_conversion_giving_units_more_labels_than_a_block_holds_is_refused(
    ledger: Ledger,
) -> None:
    """The rule's label on top of a full set: the new units would fail the checks an issue of
    them would pass."""
    open_accounts(ledger, "A")
    full = tuple(f"label-{number:02d}" for number in range(LABELS_PER_BLOCK_MAX))
    issue(ledger, "A", 10, vcu(labels=full))
    refused = assert_unchanged(
        ledger,
        lambda: ledger.submit(Convert("cv-label", "A", vcus(5), "VCU-CCP-LABEL")),
        Code.E_INVALID_ATTRIBUTES,
    )
    assert f"at most {LABELS_PER_BLOCK_MAX}" in refused.failures[0].message


def test_a_conversion_whose_new_serials_would_pass_the_last_serial_is_refused(
    ledger: Ledger,
) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 10, first_serial=SERIAL_MAX - 14)  # up to SERIAL_MAX - 5
    accept(ledger, Convert("cv-fits", "A", vcus(5), "VCU-CCP-LABEL"))  # up to SERIAL_MAX
    full = Code.E_SERIAL_SPACE_FULL
    refused = assert_unchanged(
        ledger, lambda: ledger.submit(Convert("cv-full", "A", vcus(1), "VCU-CCP-LABEL")), full
    )
    assert f"beyond the last serial {SERIAL_MAX}" in refused.failures[0].message
    refused = assert_unchanged(ledger, lambda: ledger.submit(Issue("i-full", "A", 1, VCU)), full)
    assert f"beyond the last serial {SERIAL_MAX}" in refused.failures[0].message


# -- idempotency and batches -----------------------------------------------------------------------


def test_a_command_id_reused_for_other_content_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    accept(ledger, Transfer("move-1", "A", "B", vcus(10)))
    reused = Code.E_COMMAND_ID_REUSED
    refused_by_submit(ledger, Transfer("move-1", "A", "B", vcus(11)), reused)
    refused_by_submit(ledger, Transfer("move-1", "B", "A", vcus(1)), reused)
    refused_by_submit(ledger, OpenAccount("move-1", "Z", "trading", "Z"), reused)


def test_a_command_id_reused_for_content_that_would_fail_is_refused_as_reused(
    ledger: Ledger,
) -> None:
    """The reuse check comes first: the other content is never decided."""
    funded(ledger)
    accept(ledger, Transfer("move-1", "A", "B", vcus(10)))
    refused_by_submit(ledger, Transfer("move-1", "A", "B", vcus(1_000)), Code.E_COMMAND_ID_REUSED)
    refused_by_submit(ledger, Transfer("move-1", GHOST, "B", vcus(1)), Code.E_COMMAND_ID_REUSED)


def test_a_command_id_reused_inside_one_call_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    first, second = ledger.submit_many(
        [Transfer("dup", "A", "B", vcus(1)), Transfer("dup", "A", "B", vcus(2))]
    )
    assert first.accepted
    assert codes_of(second) == [Code.E_COMMAND_ID_REUSED]
    assert held(ledger, "B") == 1
    refused = ledger.submit_batch(
        [Transfer("dup-2", "A", "B", vcus(1)), Transfer("dup-2", "A", "B", vcus(3))]
    )
    assert codes_of(refused) == [Code.E_BATCH_COMMAND_REFUSED, Code.E_COMMAND_ID_REUSED]
    assert held(ledger, "B") == 1


def test_an_empty_batch_is_refused(ledger: Ledger) -> None:
    funded(ledger)
    assert_unchanged(ledger, lambda: ledger.submit_batch([]), Code.E_BATCH_EMPTY)
    assert_unchanged(ledger, lambda: ledger.submit_many([]), Code.E_BATCH_EMPTY)


def test_a_batch_above_the_limit_is_refused_before_any_command_runs(ledger: Ledger) -> None:
    funded(ledger)
    commands = [Transfer(f"t-{n}", "A", "B", vcus(1)) for n in range(BATCH_COMMANDS_MAX + 1)]
    assert_unchanged(ledger, lambda: ledger.submit_batch(commands), Code.E_BATCH_TOO_LARGE)
    assert_unchanged(ledger, lambda: ledger.submit_many(commands), Code.E_BATCH_TOO_LARGE)


def test_a_batch_whose_third_command_fails_leaves_nothing_of_the_first_two(
    ledger: Ledger,
) -> None:
    funded(ledger)
    batch: list[Command] = [
        OpenAccount("open-c", "C", "company_holding", "C"),
        Transfer("a-to-c", "A", "C", vcus(40)),
        Transfer("c-to-ghost", "C", GHOST, vcus(10)),
    ]
    refused = assert_unchanged(
        ledger,
        lambda: ledger.submit_batch(batch),
        Code.E_BATCH_COMMAND_REFUSED,
        Code.E_UNKNOWN_ACCOUNT,
        accounts=["C"],
    )
    assert refused.command_id == "c-to-ghost"
    assert refused.failures[0].ids == ("2", "c-to-ghost")
    assert ledger.account("C") is None
    # Nothing of the batch was kept, not even in the ledger's cache: all of it can run again.
    outcome = ledger.submit_batch([*batch[:2], Transfer("c-to-b", "C", "B", vcus(10))])
    assert isinstance(outcome, list)
    assert [o.seq for o in outcome] == [4, 5, 6]
    assert held(ledger, "C") == 30
    assert ledger.verify().ok


def test_a_batch_refused_for_units_of_its_own_earlier_commands_keeps_nothing(
    ledger: Ledger,
) -> None:
    funded(ledger)
    batch: list[Command] = [
        Transfer("a-to-b", "A", "B", vcus(60)),
        Retire("b-retires", "B", vcus(60), "Beneficiary", "claim"),
        Transfer("b-moves-retired", "B", "A", vcu_ranges((1, 1))),
    ]
    assert_unchanged(
        ledger,
        lambda: ledger.submit_batch(batch),
        Code.E_BATCH_COMMAND_REFUSED,
        Code.E_RETIRED_UNITS_CANNOT_MOVE,
    )
    assert held(ledger, "A") == 100


def test_a_refused_command_inside_submit_many_leaves_no_trace(ledger: Ledger) -> None:
    funded(ledger)
    outcomes = ledger.submit_many(
        [
            Transfer("ok-1", "A", "B", vcus(10)),
            Transfer("bad", "A", GHOST, vcus(10)),
            Transfer("ok-2", "A", "B", vcus(10)),
        ]
    )
    assert [o.accepted for o in outcomes] == [True, False, True]
    assert [o.seq for o in outcomes if isinstance(o, Accepted)] == [4, 5]
    assert [row["command_id"] for row in ledger.journal(limit=10)][-2:] == ["ok-1", "ok-2"]
    assert held(ledger, "B") == 20


# -- precedence ------------------------------------------------------------------------------------


def test_an_open_account_lists_every_shape_failure_in_precedence_order(ledger: Ledger) -> None:
    refused_by_submit(
        ledger,
        OpenAccount("open-x", "bad id!", "wizard", "", registry="NOPE"),
        Code.E_INVALID_COMMAND,
        Code.E_UNKNOWN_REGISTRY,
        Code.E_INVALID_ACCOUNT_ID,
        Code.E_UNKNOWN_ACCOUNT_KIND,
    )


def test_an_issue_lists_every_shape_failure_in_precedence_order(ledger: Ledger) -> None:
    funded(ledger)
    attributes = vcu(unit_type="XYZ", host_country="XX", project_id="")
    refused_by_submit(
        ledger,
        Issue("i", "A", 0, attributes, registry="NOPE"),
        Code.E_INVALID_COMMAND,
        Code.E_UNKNOWN_UNIT_TYPE,
        Code.E_UNKNOWN_REGISTRY,
        Code.E_QUANTITY_NOT_POSITIVE_INTEGER,
        Code.E_INVALID_ATTRIBUTES,
    )


def test_account_failures_of_both_sides_come_in_precedence_order(ledger: Ledger) -> None:
    funded(ledger)
    open_accounts(ledger, "C")
    accept(ledger, CloseAccount("close-c", "C"))
    accept(ledger, FreezeAccount("freeze-a", "A", "audit"))
    # The source's failure is found first, the target's is listed first.
    refused_by_submit(
        ledger,
        Transfer("t", "A", "C", vcus(1)),
        Code.E_ACCOUNT_CLOSED,
        Code.E_ACCOUNT_FROZEN,
    )
    refused_by_submit(
        ledger,
        Transfer("t", "A", "A", vcus(1)),
        Code.E_ACCOUNT_FROZEN,
        Code.E_ACCOUNT_FROZEN,
        Code.E_SAME_SOURCE_AND_TARGET,
    )
    open_accounts(ledger, "R", kind="retirement")
    refused_by_submit(
        ledger,
        Transfer("t", GHOST, "R", vcus(1)),
        Code.E_UNKNOWN_ACCOUNT,
        Code.E_ACCOUNT_KIND_NOT_PERMITTED,
    )


def test_unit_failures_of_several_ranges_come_in_precedence_order(ledger: Ledger) -> None:
    funded(ledger)
    accept(ledger, Retire("retire-1-10", "A", vcus(10), "Beneficiary", "claim"))
    accept(ledger, PlaceHold("hold-11-20", "A", vcus(10), "escrow"))
    accept(ledger, Transfer("to-b", "A", "B", vcu_ranges((21, 30))))
    selection = vcu_ranges((95, 105), (25, 26), (15, 16), (5, 6))
    refused_by_submit(
        ledger,
        Transfer("t", "A", "B", selection),
        Code.E_RETIRED_UNITS_CANNOT_MOVE,
        Code.E_UNITS_NOT_HELD,
        Code.E_UNITS_NOT_HELD,
        Code.E_UNITS_ON_HOLD,
    )


def test_shape_failures_stop_a_command_before_its_accounts_are_looked_at(ledger: Ledger) -> None:
    funded(ledger)
    refused_by_submit(
        ledger, Transfer("t", GHOST, GHOST, vcus(0)), Code.E_QUANTITY_NOT_POSITIVE_INTEGER
    )
    refused_by_submit(
        ledger, Issue("i", GHOST, 5, vcu(host_country="XX")), Code.E_INVALID_ATTRIBUTES
    )
    refused_by_submit(ledger, Transfer("t", "A", GHOST, vcus(1_000)), Code.E_UNKNOWN_ACCOUNT)


def test_every_check_code_is_triggered_by_a_test_in_this_module() -> None:
    source = Path(__file__).read_text(encoding="utf-8")
    triggered = set(re.findall(r"Code\.(E_[A-Z_]+)", source))
    assert [code.name for code in Code if code.name not in triggered] == []


def test_the_readme_lists_every_check_code_in_precedence_order() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### Check codes (in precedence order)", 1)[1].split("\n#", 1)[0]
    assert re.findall(r"`(E_[A-Z_]+)`", section) == [code.value for code in Code]
