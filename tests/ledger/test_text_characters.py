"""Free text in a new command holds no control character, line separator, bidirectional
control or noncharacter: a command holding one is refused with E_TEXT_CHARACTER_NOT_ALLOWED,
naming the field and the code point, and changes nothing; the joiners and marks real names need
are kept. A history an earlier Carbonex recorded with such text stays as it was: resubmitted, it
returns its first outcome; decided again, it is as recorded."""

from __future__ import annotations

import dataclasses
import itertools
import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from carbonex.ledger import (
    Accepted,
    Cancel,
    Command,
    ConsumeHold,
    FreezeAccount,
    Issue,
    Ledger,
    OpenAccount,
    PlaceHold,
    Refused,
    Retire,
    Selection,
    Surrender,
    Transfer,
    UnfreezeAccount,
    redecide_ledger,
)
from carbonex.ledger.failures import Code
from carbonex.ledger.journal import decode_payload
from tests.ledger.support import (
    VCU,
    accept,
    assert_unchanged,
    hypothesis_settings,
    issue,
    open_accounts,
)

ESC = "\x1b"
RLO = "\u202e"
TEN = Selection("VCU", quantity=10)
REFUSED = {
    "ESC": ESC,
    "CSI (C1)": "\x9b",
    "DEL": "\x7f",
    "NUL": "\x00",
    "LF": "\n",
    "CR": "\r",
    "TAB": "\t",
    "NEL": "\x85",
    "LINE SEPARATOR": "\u2028",
    "PARAGRAPH SEPARATOR": "\u2029",
    "RIGHT-TO-LEFT OVERRIDE": RLO,
    "LEFT-TO-RIGHT EMBEDDING": "\u202a",
    "RIGHT-TO-LEFT ISOLATE": "\u2067",
    "POP DIRECTIONAL ISOLATE": "\u2069",
    "noncharacter U+FDD0": "\ufdd0",
    "noncharacter U+FFFE": "\ufffe",
    "noncharacter U+10FFFF": "\U0010ffff",
}
ACCEPTED = {
    "Persian with ZWNJ": "\u06af\u0632\u0627\u0631\u0634\u200c\u0647\u0627",
    "Hindi with ZWJ": "\u0915\u094d\u200d\u0937",
    "emoji with ZWJ": "\U0001f469\u200d\U0001f52c",
    "flag of Scotland (tag characters)": "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063"
    "\U000e0074\U000e007f",
    "Hebrew with RLM": "\u05e9\u05dc\u05d5\u05dd\u200f 2026",
    "LRM": "Acme\u200e Ltd",
    "CJK extension B": "\U00020000\U0002a6d6",
    "Arabic": "\u0634\u0631\u0643\u0629",
    "quotes and a backslash": 'Acme "Green" \\ Ltd',
}
_ids = itertools.count(1)


def retire(beneficiary: str, account_id: str = "A") -> Retire:
    return Retire(f"r-{next(_ids)}", account_id, TEN, beneficiary, "offsetting")


def recorded_as_an_earlier_carbonex(ledger: Ledger, commands: list[Command]) -> None:
    """Record `commands` as a Carbonex that took any text did: decided as recorded entries are
    (`decide_recorded`, which applies the rules that shape entries, not those that admit new
    commands), at the ledger's time and under its catalog."""
    at = ledger.clock().isoformat()
    outcomes = ledger.decide_recorded([(c, at) for c in commands], ledger.catalog, True)
    assert all(isinstance(outcome, Accepted) for outcome in outcomes), outcomes


def recorded_beneficiary(ledger: Ledger, command_id: str) -> str:
    row = ledger.store.find_journal_row(command_id)
    assert row is not None
    beneficiary: str = decode_payload(row.payload)["command"]["beneficiary"]
    return beneficiary


@pytest.mark.parametrize("character", [ESC, RLO], ids=["ESC", "RIGHT-TO-LEFT OVERRIDE"])
def test_a_retirement_whose_beneficiary_holds_an_escape_or_an_override_is_refused_naming_it(
    ledger: Ledger, character: str
) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 100)
    command = retire(f"Acme{character}[31m Ltd")
    refused = assert_unchanged(
        ledger, lambda: ledger.submit(command), Code.E_TEXT_CHARACTER_NOT_ALLOWED
    )
    failure = refused.failures[0]
    code_point = f"U+{ord(character):04X}"
    assert failure.ids == ("beneficiary", code_point)
    assert f"'beneficiary' holds {code_point}" in failure.message
    assert "at character 5" in failure.message
    assert character not in failure.message


@pytest.mark.parametrize("character", list(REFUSED.values()), ids=list(REFUSED))
def test_every_character_of_the_refused_set_is_refused_in_a_beneficiary(
    ledger: Ledger, character: str
) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 100)
    command = retire(f"Acme {character}Ltd")
    assert_unchanged(ledger, lambda: ledger.submit(command), Code.E_TEXT_CHARACTER_NOT_ALLOWED)


@pytest.mark.parametrize("text", list(ACCEPTED.values()), ids=list(ACCEPTED))
def test_joiners_marks_and_every_script_are_accepted_and_recorded_unchanged(
    ledger: Ledger, text: str
) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 100)
    command = retire(text)
    accept(ledger, command)
    assert recorded_beneficiary(ledger, command.command_id) == text


def commands_with_text(text: str) -> dict[str, Command]:
    """One command per free-text field a command has, the field holding `text`; the account
    A (holding VCUs, hold H pending on some) and B exist."""
    attributes = {
        name: dataclasses.replace(VCU, **{name: text})
        for name in ("standard", "project_id", "methodology", "authorization")
    }
    return {
        "holder": OpenAccount("o", "C", "company_holding", text),
        "reason": FreezeAccount("f", "A", text),
        **{f"attributes.{name}": Issue("i", "A", 5, value) for name, value in attributes.items()},
        "attributes.labels[1]": Issue("i", "A", 5, dataclasses.replace(VCU, labels=("ok", text))),
        "purpose": Retire("r", "A", TEN, "Acme", text),
        "selection.label": Transfer("t", "A", "B", Selection("VCU", quantity=1, label=text)),
        "compliance_period": Surrender("s", "A", TEN, text),
        "hold_id": PlaceHold("h", "A", TEN, "escrow", text),
        "details.beneficiary": ConsumeHold("c", "H", "retire", None, {"beneficiary": text,
                                                                      "purpose": "p"}),
        "command_id": Cancel(f"c{text}", "A", TEN, "reason"),
    }  # fmt: skip


@pytest.mark.parametrize("field", list(commands_with_text(ESC)))
def test_each_free_text_field_of_each_command_is_checked_and_named(
    ledger: Ledger, field: str
) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    accept(ledger, PlaceHold("hold", "A", TEN, "escrow", "H"))
    command = commands_with_text(f"x{ESC}")[field]
    refused = assert_unchanged(
        ledger, lambda: ledger.submit(command), Code.E_TEXT_CHARACTER_NOT_ALLOWED
    )
    assert refused.failures[0].ids == (field, "U+001B")


def test_an_unfreezing_reason_is_checked_too(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    accept(ledger, FreezeAccount("f", "A", "court order"))
    unfreeze = UnfreezeAccount("u", "A", f"lifted{RLO}")
    assert_unchanged(ledger, lambda: ledger.submit(unfreeze), Code.E_TEXT_CHARACTER_NOT_ALLOWED)


def test_the_characters_are_checked_before_anything_else_of_the_command(ledger: Ledger) -> None:
    """A shape check: a retirement from an account that does not exist, of units nobody holds,
    is refused for its text alone."""
    command = retire(f"x{ESC}", account_id="NOBODY")
    assert_unchanged(ledger, lambda: ledger.submit(command), Code.E_TEXT_CHARACTER_NOT_ALLOWED)


def test_a_batch_holding_one_such_command_is_refused_whole(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 100)
    batch = [retire("Acme"), retire(f"Acme{RLO}")]
    assert_unchanged(
        ledger,
        lambda: ledger.submit_batch(batch),
        Code.E_BATCH_COMMAND_REFUSED,
        Code.E_TEXT_CHARACTER_NOT_ALLOWED,
    )


def test_a_history_an_earlier_carbonex_recorded_with_such_text_is_decided_again_as_recorded(
    ledger: Ledger,
) -> None:
    """The rule admits new commands; deciding again applies the rules that shape entries, so
    the history is not called divergent for text it was given before the rule existed."""
    labelled = dataclasses.replace(VCU, labels=(f"SDG{ESC}[2J",), methodology="VM\n0007")
    earlier = [
        OpenAccount("open-a", "A", "company_holding", f"Acme{RLO}dtL"),
        Issue("issue-a", "A", 100, labelled),
        Retire("retire-a", "A", TEN, f"Acme{ESC}[31m", "line one\nline two"),
    ]
    recorded_as_an_earlier_carbonex(ledger, earlier)
    accept(ledger, retire("Acme"))  # today's entries after them
    report = redecide_ledger(ledger)
    assert report.ok, report.divergence
    assert report.entries == 4
    assert ledger.verify().ok


def test_a_command_an_earlier_carbonex_recorded_returns_its_first_outcome_when_resubmitted(
    ledger: Ledger,
) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 100)
    command = retire(f"Acme{ESC}[31m")
    recorded_as_an_earlier_carbonex(ledger, [command])
    again = ledger.submit(command)
    assert isinstance(again, Accepted) and again.duplicate
    other = dataclasses.replace(command, command_id="new-id")
    assert_unchanged(ledger, lambda: ledger.submit(other), Code.E_TEXT_CHARACTER_NOT_ALLOWED)


ANY_CHARACTER = st.characters(codec=None, categories=None) | st.sampled_from(
    [*REFUSED.values(), *"\u200c\u200d\u200e\u200f\ud800\udfff", "\U000e0067", "\U0002fffe"]
)


def holds_refused(text: str) -> bool:
    """The refused set as Unicode's own tables and the ranges it names give it."""
    return any(
        unicodedata.category(character) in ("Cc", "Cs")
        or 0x202A <= ord(character) <= 0x202E
        or 0x2066 <= ord(character) <= 0x2069
        or character in "\u2028\u2029"
        or 0xFDD0 <= ord(character) <= 0xFDEF
        or ord(character) & 0xFFFE == 0xFFFE
        for character in text
    )


@settings(
    hypothesis_settings("pure"),
    max_examples=100,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(text=st.text(ANY_CHARACTER, max_size=40))
def test_any_beneficiary_is_accepted_unchanged_or_refused_with_the_code_never_raising(
    ledger: Ledger, text: str
) -> None:
    """Prefixed with a letter so that it is never blank. A lone surrogate is no text at all and
    keeps its own refusal (E_INVALID_COMMAND: not valid Unicode)."""
    if ledger.head()["seq"] == 0:
        open_accounts(ledger, "A")
        issue(ledger, "A", 10**6)
    beneficiary = f"x{text}"
    command = Retire(f"r-{next(_ids)}", "A", Selection("VCU", quantity=1), beneficiary, "p")
    outcome = ledger.submit(command)
    if any(unicodedata.category(character) == "Cs" for character in beneficiary):
        assert isinstance(outcome, Refused) and outcome.codes == ["E_INVALID_COMMAND"]
    elif holds_refused(beneficiary):
        assert isinstance(outcome, Refused), outcome
        assert outcome.codes == ["E_TEXT_CHARACTER_NOT_ALLOWED"]
        assert not holds_refused(outcome.failures[0].message)
    else:
        assert isinstance(outcome, Accepted), outcome
        assert recorded_beneficiary(ledger, command.command_id) == beneficiary
