"""The process the crash test kills: submits all-or-nothing batches in a loop.

    python -m carbonex.bench.crash_writer DATABASE --prefix P --seed S --accounts N
        [--writer-socket PATH]

With `--writer-socket` it is instead a client of a `carbonex writer` process (the one the
writer-crash test kills): it submits single commands through that writer, each its own "batch"
of one id, until the writer goes away; then it resubmits its command in flight directly.

Writes one JSON line per event to stdout, flushed at once:

    {"ready": true}                          the ledger is open
    {"intent": B, "ids": [...]}              batch B is about to be submitted
    {"ack": B, "ids": [...]}                 batch B was accepted (only after submit returned)
    {"refused": B, "codes": [...]}           batch B was refused whole (the workload avoids it)
    {"writer_gone": B}                       the writer went away while B was in flight
    {"resubmitted": B, "duplicate": D}       B, submitted again directly: D if it had committed

Stops by itself after `WRITER_SECONDS_MAX` or `WRITER_BATCHES_MAX`, whichever comes first.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence

from carbonex.bench.workload import crash_account_id
from carbonex.ledger import (
    Accepted,
    Command,
    Ledger,
    PlaceHold,
    Refused,
    Retire,
    Selection,
    Transfer,
)
from carbonex.ledger.writer import WriterError

WRITER_SECONDS_MAX = 120.0
WRITER_BATCHES_MAX = 100_000
BATCH_COMMANDS_MIN = 50
BATCH_COMMANDS_MAX = 200
QUANTITY_MIN_T = 1
QUANTITY_MAX_T = 5
UNIT_TYPE = "VCU"
TRANSFER_SHARE = 0.6
RETIRE_SHARE = 0.2
"""The rest of the commands place holds."""


def random_command(rng: random.Random, command_id: str, accounts: int) -> Command:
    source, target = rng.sample(range(accounts), 2)
    selection = Selection(UNIT_TYPE, quantity=rng.randint(QUANTITY_MIN_T, QUANTITY_MAX_T))
    draw = rng.random()
    if draw < TRANSFER_SHARE:
        return Transfer(command_id, crash_account_id(source), crash_account_id(target), selection)
    if draw < TRANSFER_SHARE + RETIRE_SHARE:
        return Retire(
            command_id, crash_account_id(source), selection, "Crash Test Beneficiary", "crash test"
        )
    return PlaceHold(command_id, crash_account_id(source), selection, "crash test")


def random_batch(rng: random.Random, prefix: str, number: int, accounts: int) -> list[Command]:
    size = rng.randint(BATCH_COMMANDS_MIN, BATCH_COMMANDS_MAX)
    return [
        random_command(rng, f"{prefix}-b{number}-{position}", accounts) for position in range(size)
    ]


def emit(record: dict[str, object]) -> None:
    sys.stdout.write(json.dumps(record, separators=(",", ":")) + "\n")
    sys.stdout.flush()


def run(database: str, prefix: str, seed: int, accounts: int) -> None:
    rng = random.Random(seed)
    started = time.perf_counter()
    with Ledger.open(database) as ledger:
        emit({"ready": True})
        for number in range(WRITER_BATCHES_MAX):
            if time.perf_counter() - started >= WRITER_SECONDS_MAX:
                break
            submit_one(ledger, random_batch(rng, prefix, number, accounts), number)


def submit_one(ledger: Ledger, batch: Sequence[Command], number: int) -> None:
    ids = [command.command_id for command in batch]
    emit({"intent": number, "ids": ids})
    _emit_outcome(ledger.submit_batch(batch), number, ids)


def run_through_writer(
    database: str, writer_socket: str, prefix: str, seed: int, accounts: int
) -> None:
    """Single commands through the writer until it goes away; then the one in flight again,
    directly: a client that lost its answer learns its command's fate by resubmitting it."""
    with Ledger.open(database, writer_socket=writer_socket) as ledger:
        emit({"ready": True})
        in_flight = _submit_until_writer_gone(ledger, random.Random(seed), prefix, accounts)
    if in_flight is None:
        return
    number, command = in_flight
    with Ledger.open(database) as direct:
        outcome = direct.submit(command)
    duplicate = isinstance(outcome, Accepted) and outcome.duplicate
    emit({"resubmitted": number, "duplicate": duplicate})
    _emit_outcome(outcome, number, [command.command_id])


def _submit_until_writer_gone(
    ledger: Ledger, rng: random.Random, prefix: str, accounts: int
) -> tuple[int, Command] | None:
    """The command in flight when the writer went away (None: it never did, time ran out)."""
    started = time.perf_counter()
    for number in range(WRITER_BATCHES_MAX):
        if time.perf_counter() - started >= WRITER_SECONDS_MAX:
            break
        command = random_command(rng, f"{prefix}-c{number}", accounts)
        emit({"intent": number, "ids": [command.command_id]})
        try:
            outcome = ledger.submit(command)
        except WriterError:
            emit({"writer_gone": number})
            return number, command
        _emit_outcome(outcome, number, [command.command_id])
    return None


def _emit_outcome(outcome: object, number: int, ids: list[str]) -> None:
    if isinstance(outcome, Refused):
        emit({"refused": number, "codes": outcome.codes})
    else:
        emit({"ack": number, "ids": ids})


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("database")
    parser.add_argument("--prefix", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--accounts", type=int, required=True)
    parser.add_argument("--writer-socket")
    arguments = parser.parse_args(argv)
    if arguments.writer_socket:
        run_through_writer(
            arguments.database,
            arguments.writer_socket,
            arguments.prefix,
            arguments.seed,
            arguments.accounts,
        )
    else:
        run(arguments.database, arguments.prefix, arguments.seed, arguments.accounts)


if __name__ == "__main__":
    main()
