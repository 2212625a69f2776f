"""Text stored before the character rule reaches the terminal as escapes, never as control
characters: an escape sequence in a holder's name or a beneficiary does not recolour or clear an
administrator's terminal, and an override does not reverse a name. `--json` keeps the text as
stored."""

from __future__ import annotations

import json

from carbonex.ledger import Issue, Ledger, OpenAccount, Retire
from carbonex.ledger.commands import Selection
from tests.cli.helpers import EXIT_REFUSED, GRID_POWER, invoke

ESC = "\x1b"
RLO = "\u202e"
CSI = "\x9b"
HOLDER = f"Acme{ESC}[2J{RLO}dtL"
BENEFICIARY = f"Buyer{CSI}31m plc"


def recorded_before_the_character_rule(database_url: str) -> None:
    """An account and a retirement as a Carbonex that took any text recorded them."""
    commands = [
        OpenAccount("open-a", "A", "company_holding", HOLDER),
        Issue("issue-a", "A", 100, GRID_POWER),
        Retire("retire-a", "A", Selection(unit_type="VCU", quantity=10), BENEFICIARY, "claim"),
    ]
    with Ledger.open(database_url) as ledger:
        at = ledger.clock().isoformat()
        outcomes = ledger.decide_recorded([(c, at) for c in commands], ledger.catalog, True)
    assert all(outcome.accepted for outcome in outcomes)


def shows_no_control_character(output: str) -> bool:
    return not any(character in output for character in (ESC, RLO, CSI))


def test_a_holder_and_a_beneficiary_stored_with_escapes_are_shown_escaped(
    database_url: str,
) -> None:
    recorded_before_the_character_rule(database_url)
    for args in (("account", "list"), ("statement", "A"), ("provenance", "VERRA/VCU", "1")):
        output = invoke(*args, "--db", database_url).stdout
        assert shows_no_control_character(output), args
    listed = invoke("account", "list", "--db", database_url).stdout
    assert "Acme\\x1b[2J\\u202edtL" in listed
    provenance = invoke("provenance", "VERRA/VCU", "1", "--db", database_url).stdout
    assert "Buyer\\x9b31m plc" in provenance


def test_json_output_keeps_the_text_as_stored(database_url: str) -> None:
    recorded_before_the_character_rule(database_url)
    result = invoke("account", "list", "--db", database_url, "--json")
    assert HOLDER in [account["holder"] for account in json.loads(result.stdout)]


def test_a_refusal_quoting_an_id_with_an_escape_shows_the_escape(database_url: str) -> None:
    recorded_before_the_character_rule(database_url)
    result = invoke("holdings", f"NO{ESC}[2JSUCH", "--db", database_url)
    assert result.exit_code == EXIT_REFUSED
    assert shows_no_control_character(result.output)
    assert "\\x1b[2J" in result.output
