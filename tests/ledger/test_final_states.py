"""Units leave the active state once: retired (with a claim), cancelled, surrendered, expired or
converted (into new units that keep their lineage). Statements and provenance tell the story."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import replace

from carbonex.ledger import (
    Cancel,
    Convert,
    Expire,
    Ledger,
    Retire,
    Selection,
    Surrender,
    Transfer,
)
from carbonex.ledger.failures import Code
from tests.conftest import FixedClock
from tests.ledger.support import (
    A64_SPACE,
    CER_2012,
    CER_2014,
    CER_SPACE,
    EUA,
    VCU_SPACE,
    accept,
    assert_conserved,
    assert_unchanged,
    held,
    issue,
    open_accounts,
    ranges,
    ranges_of,
    table_rows,
    vcu,
)


def test_a_retirement_records_its_beneficiary_and_claim_period(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 100)
    accept(
        ledger,
        Retire(
            "retire-25",
            "A",
            Selection("VCU", quantity=25),
            beneficiary="Oslo Kommune",
            purpose="2025 municipal footprint",
            claim_period_start=dt.date(2025, 1, 1),
            claim_period_end=dt.date(2025, 12, 31),
        ),
    )
    assert held(ledger, "A", "retired") == 25
    assert held(ledger, "A") == 75
    [line] = [line for line in ledger.statement("A") if line["action"] == "retire"]
    assert line["quantity"] == 25
    assert (line["first_serial"], line["last_serial"]) == (1, 25)
    assert line["direction"] == "out"
    assert line["details"] == {
        "beneficiary": "Oslo Kommune",
        "purpose": "2025 municipal footprint",
        "claim_period_start": "2025-01-01",
        "claim_period_end": "2025-12-31",
    }
    provenance = ledger.provenance(VCU_SPACE, 10)
    assert provenance is not None
    assert provenance["current"]["state"] == "retired"
    assert [step["action"] for step in provenance["history"]] == ["issue", "retire"]
    assert provenance["history"][-1]["details"]["beneficiary"] == "Oslo Kommune"
    untouched = ledger.provenance(VCU_SPACE, 26)
    assert untouched is not None
    assert untouched["current"]["state"] == "active"
    assert [step["action"] for step in untouched["history"]] == ["issue"]


def test_provenance_follows_a_serial_through_every_holder(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B", "C")
    issue(ledger, "A", 100)
    accept(ledger, Transfer("a-b", "A", "B", Selection("VCU", quantity=50)))
    accept(ledger, Transfer("b-c", "B", "C", Selection("VCU", serial_ranges=ranges((20, 29)))))
    accept(ledger, Retire("c-retires", "C", Selection("VCU", quantity=10), "Beneficiary", "p"))
    provenance = ledger.provenance(VCU_SPACE, 25)
    assert provenance is not None
    history = [(s["action"], s["from_account"], s["to_account"]) for s in provenance["history"]]
    assert history == [
        ("issue", None, "A"),
        ("transfer", "A", "B"),
        ("transfer", "B", "C"),
        ("retire", "C", "C"),
    ]
    assert provenance["current"]["account_id"] == "C"
    assert provenance["issuance"]["attributes"]["project_id"] == "VCS-1"
    assert ledger.provenance(VCU_SPACE, 101) is None
    assert ledger.provenance("NOWHERE/VCU", 1) is None


def test_a_retirement_into_a_retirement_account_arrives_retired(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    open_accounts(ledger, "R", kind="retirement")
    issue(ledger, "A", 100)
    accept(
        ledger,
        Retire("r", "A", Selection("VCU", quantity=10), "B", "claim", into_account_id="R"),
    )
    assert ranges_of(ledger, "R", "retired") == [(1, 10)]
    assert held(ledger, "A", "retired") == 0
    [line] = [line for line in ledger.statement("R") if line["command_id"] == "r"]
    assert line["direction"] == "in"


def test_cancellation_and_surrender_end_units_in_their_states(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    open_accounts(ledger, "O", kind="operator_holding")
    issue(ledger, "A", 100)
    issue(ledger, "O", 100, EUA)
    accept(ledger, Cancel("cancel", "A", Selection("VCU", quantity=10), "buffer reversal"))
    accept(ledger, Surrender("surrender", "O", Selection("EUA", quantity=60), "2025"))
    assert held(ledger, "A", "cancelled") == 10
    assert held(ledger, "O", "surrendered") == 60
    [cancel] = [line for line in ledger.statement("A") if line["action"] == "cancel"]
    assert cancel["details"] == {"reason": "buffer reversal"}
    [surrender] = [line for line in ledger.statement("O") if line["action"] == "surrender"]
    assert surrender["details"] == {"compliance_period": "2025"}
    totals = ledger.summary()["totals"]
    assert (totals["cancelled"], totals["surrendered"], totals["held"]) == (10, 60, 130)


def test_converting_cers_keeps_their_lineage(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 100, CER_2014)
    accept(ledger, Convert("to-a64", "A", Selection("CER", quantity=40), "CDM-TO-A6.4"))
    assert ranges_of(ledger, "A", "converted", CER_SPACE) == [(1, 40)]
    assert ranges_of(ledger, "A", "active", CER_SPACE) == [(41, 100)]
    assert ranges_of(ledger, "A", "active", A64_SPACE) == [(1, 40)]
    issuances = table_rows(ledger, "issuances")
    [converted] = [row for row in issuances if row[1] == A64_SPACE]
    lineage = json.loads(converted[7])
    assert lineage == {"rule": "CDM-TO-A6.4", "from": [[CER_SPACE, 1, 40]]}
    provenance = ledger.provenance(A64_SPACE, 1)
    assert provenance is not None
    assert json.loads(provenance["issuance"]["lineage"])["rule"] == "CDM-TO-A6.4"
    attributes = provenance["issuance"]["attributes"]
    assert attributes["unit_type"] == "A6.4ER"
    assert attributes["standard"] == "A6.4M"
    assert (attributes["project_id"], attributes["vintage_start"]) == ("CDM-1", "2014-01-01")
    source = ledger.provenance(CER_SPACE, 1)
    assert source is not None
    assert source["current"]["state"] == "converted"
    totals = ledger.summary()["by_unit_type"]
    assert totals["CER"]["converted"] == 40
    assert totals["A6.4ER"]["issued"] == totals["A6.4ER"]["held"] == 40
    assert_conserved(ledger)
    assert ledger.verify().ok


def test_converting_ranges_of_two_projects_makes_one_issuance_per_project(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 10, CER_2014)  # 1-10
    issue(ledger, "A", 10, CER_2012)  # 11-20: too old for the rule
    issue(ledger, "A", 10, replace(CER_2014, project_id="CDM-3"))  # 21-30
    selection = Selection("CER", serial_ranges=ranges((5, 10), (21, 24)))
    accept(ledger, Convert("to-a64", "A", selection, "CDM-TO-A6.4"))
    converted = [row for row in table_rows(ledger, "issuances") if row[1] == A64_SPACE]
    assert [(row[2], row[3]) for row in converted] == [(1, 6), (7, 10)]
    assert [json.loads(row[7])["from"] for row in converted] == [
        [[CER_SPACE, 5, 10]],
        [[CER_SPACE, 21, 24]],
    ]
    assert ledger.verify().ok


def test_a_labelling_conversion_adds_its_label_in_the_same_serial_space(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 50)
    accept(ledger, Convert("label", "A", Selection("VCU", quantity=20), "VCU-CCP-LABEL"))
    assert ranges_of(ledger, "A", "converted") == [(1, 20)]
    assert ranges_of(ledger, "A") == [(21, 50), (51, 70)]
    accept(ledger, Transfer("t-ccp", "A", "B", Selection("VCU", quantity=5, label="ICVCM-CCP")))
    assert ranges_of(ledger, "B") == [(51, 55)]
    assert ledger.verify().ok


def test_units_that_already_carry_the_label_are_not_converted_again(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 50)
    accept(ledger, Convert("label", "A", Selection("VCU", quantity=20), "VCU-CCP-LABEL"))
    labelled = Selection("VCU", serial_ranges=ranges((51, 60)))
    assert_unchanged(
        ledger,
        lambda: ledger.submit(Convert("again", "A", labelled, "VCU-CCP-LABEL")),
        Code.E_CONVERSION_NOT_ALLOWED,
    )
    assert ledger.summary()["totals"]["issued"] == 70


def test_units_past_their_validity_expire(ledger: Ledger, clock: FixedClock) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 30, vcu(valid_until=dt.date(2026, 6, 30)))
    issue(ledger, "A", 30)
    clock.advance(days=200)
    accept(ledger, Expire("expire", "A", Selection("VCU", quantity=30)))
    assert ranges_of(ledger, "A", "expired") == [(1, 30)]
    assert ranges_of(ledger, "A") == [(31, 60)]
    assert ledger.summary()["totals"]["expired"] == 30
    assert ledger.verify().ok


def test_retired_units_are_never_counted_as_held_again(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 10)
    accept(ledger, Retire("r", "A", Selection("VCU", quantity=10), "Beneficiary", "claim"))
    assert held(ledger, "A") == 0
    totals = ledger.summary()["totals"]
    assert (totals["issued"], totals["held"], totals["retired"]) == (10, 0, 10)
