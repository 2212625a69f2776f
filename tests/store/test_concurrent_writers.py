"""Concurrent writers on one database never double-spend and never fail with a deadlock."""

from __future__ import annotations

import datetime as dt
import random
import threading

from carbonex.ledger import (
    Issue,
    Ledger,
    OpenAccount,
    Refused,
    Selection,
    SerialRange,
    Transfer,
    UnitAttributes,
)

WRITERS = 4
COMMANDS_PER_WRITER = 60
ACCOUNTS = ("A", "B", "C", "D")
ISSUED_T = 2_000


def _setup(ledger: Ledger) -> None:
    attributes = UnitAttributes(
        "VCU", "Verra VCS", "VCS-9", dt.date(2022, 1, 1), dt.date(2022, 12, 31), "BR"
    )
    commands = [OpenAccount(f"open-{a}", a, "company_holding", a) for a in ACCOUNTS]
    commands.append(Issue("issue", "A", ISSUED_T, attributes))
    assert all(outcome.accepted for outcome in ledger.submit_many(commands))


def _writer(
    database_url: str, writer: int, errors: list[BaseException], refusals: list[Refused]
) -> None:
    rng = random.Random(writer)
    try:
        with Ledger.open(database_url) as ledger:
            for number in range(COMMANDS_PER_WRITER):
                source, target = rng.sample(ACCOUNTS, 2)
                if number % 3 == 0:
                    first = rng.randint(1, ISSUED_T - 50)
                    selection = Selection("VCU", serial_ranges=(SerialRange(first, first + 49),))
                else:
                    selection = Selection("VCU", quantity=rng.randint(1, 400))
                outcome = ledger.submit(Transfer(f"w{writer}-{number}", source, target, selection))
                if isinstance(outcome, Refused):
                    refusals.append(outcome)
    except BaseException as error:  # collected and asserted on by the test thread
        errors.append(error)


def test_concurrent_writers_on_overlapping_units_conserve_every_serial(
    ledger: Ledger, database_url: str
) -> None:
    _setup(ledger)
    errors: list[BaseException] = []
    refusals: list[Refused] = []
    threads = [
        threading.Thread(target=_writer, args=(database_url, w, errors, refusals))
        for w in range(WRITERS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert {code for refused in refusals for code in refused.codes} <= {"E_UNITS_NOT_HELD"}
    totals = ledger.summary()["totals"]
    assert totals["issued"] == totals["held"] == ISSUED_T
    journal_length = len(ledger.journal(limit=1000))
    accepted = WRITERS * COMMANDS_PER_WRITER - len(refusals)
    assert journal_length == len(ACCOUNTS) + 1 + accepted
    report = ledger.verify()
    assert report.ok, report.problems
