"""Executing commands against the cached state: idempotency, checks, effects, journal entry.

`execute` never raises for a refused command; it returns `Refused` and leaves the state as it
was. An exception here is a bug: the service rolls back and drops the cache.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sized

import orjson

from carbonex.catalog import Catalog
from carbonex.ledger.checks import text_character_failures
from carbonex.ledger.commands import Command, holds_unencodable_text
from carbonex.ledger.context import Context
from carbonex.ledger.failures import Code, Failure, in_precedence_order
from carbonex.ledger.handlers import decide
from carbonex.ledger.journal import (
    JournalRow,
    canonical,
    chain_hash,
    decode_payload,
    encode_payload,
)
from carbonex.ledger.limits import BATCH_COMMANDS_MAX, COMMAND_ID_LENGTH_MAX
from carbonex.ledger.outcomes import Accepted, Outcome, Refused
from carbonex.ledger.state import LedgerState


def _check_command_id(command: Command) -> list[Failure]:
    command_id = command.command_id
    if not isinstance(command_id, str) or not command_id.strip() or "\x00" in command_id:
        return [Failure(Code.E_INVALID_COMMAND, "command_id must be a non-empty text, no NUL")]
    if len(command_id) > COMMAND_ID_LENGTH_MAX:
        return [
            Failure(
                Code.E_INVALID_COMMAND,
                f"command_id is longer than {COMMAND_ID_LENGTH_MAX} characters",
            )
        ]
    return []


def _replayed(row: JournalRow) -> Accepted:
    effects = tuple(tuple(effect) for effect in decode_payload(row.payload)["effects"])
    return Accepted(row.command_id, row.seq, row.entry_hash, effects, duplicate=True)


def _resubmitted(command: Command, content: bytes, existing: JournalRow) -> Outcome:
    """The first result for the same content; a refusal for a reused id."""
    if canonical(decode_payload(existing.payload)["command"]) == content:
        return _replayed(existing)
    return Refused(
        command.command_id,
        (
            Failure(
                Code.E_COMMAND_ID_REUSED,
                f"command id {command.command_id} was used for different content (entry "
                f"{existing.seq})",
                (command.command_id,),
            ),
        ),
    )


def _unencodable(
    state: LedgerState, catalog: Catalog, command: Command, now: dt.datetime, admitting: bool
) -> Refused:
    """A command the journal cannot encode is refused: text that is not valid Unicode before
    any lookup (no store can take it as a parameter); a number beyond 64 bits after the checks,
    which say which field is out of bounds where they can."""
    record = command.to_record()
    if holds_unencodable_text(record):
        return Refused(
            command.command_id,
            (Failure(Code.E_INVALID_COMMAND, "the command holds text that is not valid Unicode"),),
        )
    text_failures = text_character_failures(record, None) if admitting else []
    decision = text_failures or decide(Context(state, catalog, now.date()), command)
    if isinstance(decision, list) and decision:
        return Refused(command.command_id, in_precedence_order(decision))
    return Refused(
        command.command_id,
        (
            Failure(
                Code.E_INVALID_COMMAND, "the command holds a number outside the signed 64-bit range"
            ),
        ),
    )


def execute(
    state: LedgerState,
    catalog: Catalog,
    command: Command,
    now: dt.datetime,
    recorded_at: str | None = None,
    catalog_named: bool = True,
    admitting: bool = True,
) -> Outcome:
    """Check one command and, if it passes, apply it to the cache and queue its entry, which
    names the catalog's digest (`catalog_named` False only to decide again an entry recorded
    before entries named it).

    `admitting`: the command is a new one, so the rules that only admit new commands apply
    first (the characters its text may hold); False to decide again an entry recorded when
    those rules may not have existed yet, which is decided by the rules that shape entries. A
    resubmitted id returns its first outcome either way."""
    failures = _check_command_id(command)
    if failures:
        return Refused(str(command.command_id), tuple(failures))
    record = command.to_record()
    try:
        content = canonical(record)
    except orjson.JSONEncodeError:
        return _unencodable(state, catalog, command, now, admitting)
    existing = state.journal_row(command.command_id)
    if existing is not None:
        return _resubmitted(command, content, existing)
    context = Context(state, catalog, now.date())
    admission = text_character_failures(record, content) if admitting else []
    decision = admission or decide(context, command)
    if isinstance(decision, list):
        # Lookups are skipped while optimistic (see LedgerState); a resubmission whose first run
        # would now be refused is caught here, before it is reported as a refusal.
        existing = state.committed_journal_row(command.command_id)
        if existing is not None:
            return _resubmitted(command, content, existing)
        return Refused(command.command_id, in_precedence_order(decision))
    decision()
    seq = state.seq + 1
    recorded_at = recorded_at or now.isoformat()
    digest = catalog.digest if catalog_named else None
    payload = encode_payload(seq, content, context.effects, recorded_at, digest)
    entry_hash = chain_hash(state.head_hash, payload)
    row = JournalRow(
        seq, command.command_id, command.kind, payload, state.head_hash, entry_hash, recorded_at
    )
    state.record(row, context.effects)
    return Accepted(command.command_id, seq, entry_hash, context.effects)


def check_batch_size(commands: Sized) -> Refused | None:
    if not commands:
        return Refused("", (Failure(Code.E_BATCH_EMPTY, "a batch needs at least one command"),))
    if len(commands) > BATCH_COMMANDS_MAX:
        return Refused(
            "",
            (
                Failure(
                    Code.E_BATCH_TOO_LARGE,
                    f"batch of {len(commands)} commands exceeds the limit of {BATCH_COMMANDS_MAX}",
                ),
            ),
        )
    return None


def batch_refusal(position: int, refused: Refused) -> Refused:
    """A batch is refused whole; its failures name the command that failed and why."""
    head = Failure(
        Code.E_BATCH_COMMAND_REFUSED,
        f"command {position} ({refused.command_id}) of the batch was refused; "
        "nothing in the batch was applied",
        (str(position), refused.command_id),
    )
    return Refused(refused.command_id, (head, *refused.failures))
