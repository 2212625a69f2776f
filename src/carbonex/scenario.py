"""The demo's script: a day in a registry, as a fixed list of ledger commands.

Verra issues VCUs for a grid-power project in Singapore and a removal project in Kenya; the
developer sells part of them through a hold, an airline retires some for CORSIA, a person retires
a few, the buffer pool cancels some after a reversal; the EU issues allowances that an operator
surrenders; CDM units are converted to Article 6.4 units; and one command is refused because it
tries to move retired units. Command ids and the clock are fixed, so every run writes the same
journal and ends at the same head hash.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from carbonex.ledger import (
    Cancel,
    Command,
    ConsumeHold,
    Convert,
    Issue,
    OpenAccount,
    PlaceHold,
    Retire,
    Selection,
    SerialRange,
    Surrender,
    Transfer,
    UnitAttributes,
)

SCENARIO_START = dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC)
SCENARIO_TICK = dt.timedelta(minutes=5)

VERRA_ISSUANCE = "VERRA-ISSUANCE"
DEVELOPER = "MERLION-DEV"
AIRLINE = "SKYWAYS-AIR"
PERSON = "AMELIA-TAN"
BUFFER = "VERRA-BUFFER"
RETIREMENT = "VERRA-RETIREMENT"
OPERATOR = "RHEIN-ZEMENT"
EU_ISSUANCE = "EU-ISSUANCE"

SALE_HOLD_ID = "TRADE-2026-0142"
PROVENANCE_SERIAL_SPACE = "VERRA/VCU"
PROVENANCE_SERIAL = 1


class ScenarioClock:
    """A clock that moves one tick forward each time the ledger reads it."""

    def __init__(self, start: dt.datetime = SCENARIO_START) -> None:
        self.now = start - SCENARIO_TICK

    def __call__(self) -> dt.datetime:
        self.now += SCENARIO_TICK
        return self.now


@dataclass(frozen=True, slots=True)
class Step:
    title: str
    command: Command
    refusal_expected: bool = False
    show_blocks_of: tuple[str, ...] = ()


def vintage(year: int) -> tuple[dt.date, dt.date]:
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


GRID_POWER = UnitAttributes(
    "VCU", "Verra VCS", "VCS-1736", *vintage(2021), "SG", methodology="AM0029", labels=("CORSIA",)
)
REFORESTATION = UnitAttributes(
    "VCU",
    "Verra VCS",
    "VCS-2551",
    *vintage(2022),
    "KE",
    methodology="VM0047",
    category="removal",
    labels=("ARR",),
)
ALLOWANCES = UnitAttributes("EUA", "EU ETS", "EU-ETS-2025-DE", *vintage(2025), "DE")
CDM_WIND = UnitAttributes("CER", "CDM", "CDM-6573", *vintage(2016), "IN", methodology="ACM0002")


def account_steps() -> list[Step]:
    accounts = [
        (VERRA_ISSUANCE, "issuance", "VERRA", "Verra Registry issuance account"),
        (DEVELOPER, "company_holding", "VERRA", "Merlion Power Pte. Ltd. (project developer)"),
        (AIRLINE, "company_holding", "VERRA", "Skyways Airlines plc"),
        (PERSON, "person_holding", "VERRA", "Amelia Tan"),
        (BUFFER, "buffer_pool", "VERRA", "Verra AFOLU pooled buffer account"),
        (RETIREMENT, "retirement", "VERRA", "Verra retirement account"),
        (OPERATOR, "operator_holding", "EU", "Rhein Zement GmbH, installation DE-0421"),
        (EU_ISSUANCE, "issuance", "EU", "Union Registry EU ETS issuance account"),
    ]
    return [
        Step(
            f"Open {account_id}: {holder} ({kind})",
            OpenAccount(f"demo-open-{account_id.lower()}", account_id, kind, holder, registry),
        )
        for account_id, kind, registry, holder in accounts
    ]


def issuance_steps() -> list[Step]:
    vcs_1736 = Selection("VCU", quantity=100_000, project_id="VCS-1736")
    return [
        Step(
            "Issue 100,000 VCUs of VCS-1736 (Singapore, AM0029, vintage 2021)",
            Issue("demo-issue-vcs-1736", VERRA_ISSUANCE, 100_000, GRID_POWER),
        ),
        Step(
            "Issue 40,000 removal VCUs of VCS-2551 (Kenya, VM0047, vintage 2022)",
            Issue("demo-issue-vcs-2551", VERRA_ISSUANCE, 40_000, REFORESTATION),
        ),
        Step(
            "Deliver all 100,000 VCS-1736 units to the developer (the whole block moves)",
            Transfer("demo-deliver-vcs-1736", VERRA_ISSUANCE, DEVELOPER, vcs_1736),
        ),
        Step(
            "Set 6,000 VCS-2551 units aside in the buffer pool (the block splits)",
            Transfer(
                "demo-buffer-vcs-2551",
                VERRA_ISSUANCE,
                BUFFER,
                Selection("VCU", quantity=6_000, project_id="VCS-2551"),
            ),
            show_blocks_of=(VERRA_ISSUANCE, BUFFER),
        ),
        Step(
            "Deliver the other 34,000 VCS-2551 units to the developer",
            Transfer(
                "demo-deliver-vcs-2551",
                VERRA_ISSUANCE,
                DEVELOPER,
                Selection("VCU", quantity=34_000, project_id="VCS-2551"),
            ),
        ),
    ]


def trading_steps() -> list[Step]:
    sale = Selection("VCU", quantity=25_000, project_id="VCS-1736")
    gift = Selection("VCU", serial_ranges=(SerialRange(40_001, 41_000),))
    return [
        Step(
            f"Hold 25,000 VCS-1736 units for a pending sale to Skyways ({SALE_HOLD_ID})",
            PlaceHold(
                "demo-hold-sale",
                DEVELOPER,
                sale,
                "Sale to Skyways Airlines, awaiting payment",
                SALE_HOLD_ID,
            ),
        ),
        Step(
            "Payment received: consume the hold, the units go to Skyways",
            ConsumeHold("demo-consume-sale", SALE_HOLD_ID, "transfer", AIRLINE),
        ),
        Step(
            "Sell serials 40,001-41,000 to Amelia Tan (the developer's block splits in three)",
            Transfer("demo-sell-person", DEVELOPER, PERSON, gift),
            show_blocks_of=(DEVELOPER,),
        ),
    ]


def retirement_steps() -> list[Step]:
    return [
        Step(
            "Skyways retires 10,000 VCUs into the retirement account for CORSIA 2024-2026",
            Retire(
                "demo-retire-airline",
                AIRLINE,
                Selection("VCU", quantity=10_000),
                "Skyways Airlines plc",
                "CORSIA first-phase offsetting requirement",
                dt.date(2024, 1, 1),
                dt.date(2026, 12, 31),
                RETIREMENT,
            ),
        ),
        Step(
            "Amelia Tan retires 250 VCUs for her 2025 flights",
            Retire(
                "demo-retire-person",
                PERSON,
                Selection("VCU", quantity=250),
                "Amelia Tan",
                "Offsetting personal air travel",
                dt.date(2025, 1, 1),
                dt.date(2025, 12, 31),
            ),
        ),
        Step(
            "The buffer pool cancels 1,200 units after a wildfire reversal in VCS-2551",
            Cancel(
                "demo-cancel-buffer",
                BUFFER,
                Selection("VCU", quantity=1_200),
                "Reversal: 2025 wildfire in the VCS-2551 project area",
            ),
        ),
    ]


def compliance_steps() -> list[Step]:
    return [
        Step(
            "Issue 150,000 EU allowances of vintage 2025",
            Issue("demo-issue-eua-2025", EU_ISSUANCE, 150_000, ALLOWANCES),
        ),
        Step(
            "Allocate 80,000 EUAs free of charge to Rhein Zement",
            Transfer("demo-allocate-eua", EU_ISSUANCE, OPERATOR, Selection("EUA", quantity=80_000)),
        ),
        Step(
            "Rhein Zement surrenders 72,500 EUAs for its 2025 emissions",
            Surrender("demo-surrender-eua", OPERATOR, Selection("EUA", quantity=72_500), "2025"),
        ),
    ]


def refused_step() -> Step:
    retired = Selection("VCU", serial_ranges=(SerialRange(1, 10_000),))
    return Step(
        "Skyways tries to transfer the serials it retired (must be refused)",
        Transfer("demo-move-retired", AIRLINE, PERSON, retired),
        refusal_expected=True,
    )


def conversion_steps() -> list[Step]:
    return [
        Step(
            "Issue 20,000 CERs of CDM-6573 (India, ACM0002, vintage 2016) to the developer",
            Issue("demo-issue-cer", DEVELOPER, 20_000, CDM_WIND),
        ),
        Step(
            "Convert 12,000 CERs to Article 6.4 units (rule CDM-TO-A6.4, lineage kept)",
            Convert(
                "demo-convert-cer", DEVELOPER, Selection("CER", quantity=12_000), "CDM-TO-A6.4"
            ),
        ),
    ]


def scenario() -> list[Step]:
    return [
        *account_steps(),
        *issuance_steps(),
        *trading_steps(),
        *retirement_steps(),
        *compliance_steps(),
        refused_step(),
        *conversion_steps(),
    ]
