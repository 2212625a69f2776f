"""Deciding a journal's commands again: a history the ledger made is itself byte for byte; an
entry whose effects do not follow from its command is named, even with every hash recomputed."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from carbonex.catalog import Catalog
from carbonex.ledger import (
    Ledger,
    Refused,
    Selection,
    Transfer,
    redecide_entries,
    redecide_ledger,
)
from carbonex.ledger import redecide as redecide_module
from carbonex.ledger.journal import GENESIS_HASH, JournalRow, canonical, chain_hash
from tests.ledger.support import VCU, execute_raw, issue, table_rows
from tests.ledger.test_verify import realistic


def journal(ledger: Ledger) -> list[JournalRow]:
    return ledger.store.journal_rows_after(0, ledger.head()["seq"])


def rewrite_entry(
    ledger: Ledger, seq: int | None, change: Callable[[dict[str, Any]], None]
) -> None:
    """Change entry `seq`'s payload (every entry's, for None) and recompute its hash and every
    later one, as a forger holding the database would: the chain is whole again and only a
    published head tells."""
    ledger.project()
    previous_hash = GENESIS_HASH
    for entry_seq, payload, _ in ledger.store.query(
        "SELECT seq, payload, entry_hash FROM journal ORDER BY seq"
    ):
        payload = bytes(payload)
        if seq is None or entry_seq == seq:
            record = orjson.loads(payload)
            change(record)
            payload = canonical(record)
        entry_hash = chain_hash(previous_hash, payload)
        execute_raw(
            ledger,
            "UPDATE journal SET payload = ?, previous_hash = ?, entry_hash = ? WHERE seq = ?",
            (payload, previous_hash, entry_hash, entry_seq),
        )
        previous_hash = entry_hash
    ledger.state.reset()  # the cache holds the hashes as committed


def seq_of(ledger: Ledger, command_id: str) -> int:
    row = ledger.store.query_one("SELECT seq FROM journal WHERE command_id = ?", (command_id,))
    assert row is not None
    return int(row[0])


def test_a_history_the_ledger_made_is_decided_again_byte_for_byte(ledger: Ledger) -> None:
    realistic(ledger)
    report = redecide_ledger(ledger)
    assert report.ok, report.divergence
    assert report.entries == ledger.head()["seq"] == len(journal(ledger))


def test_a_rewritten_command_with_every_hash_recomputed_passes_verify_but_not_redecide(
    ledger: Ledger,
) -> None:
    realistic(ledger)
    sale = seq_of(ledger, "a-to-b")

    def sell_less(record: dict[str, Any]) -> None:
        record["command"]["selection"]["quantity"] = 30  # the effects still move 300

    rewrite_entry(ledger, sale, sell_less)
    assert ledger.verify().ok  # the chain, the replay and the invariants all hold
    report = redecide_ledger(ledger)
    assert report.divergence is not None
    assert (report.divergence.seq, report.divergence.command_id) == (sale, "a-to-b")
    assert "has other effects: effect 0 recorded" in report.divergence.message
    assert report.entries == sale - 1


def test_an_entry_whose_command_the_rules_refuse_is_named_with_the_codes(ledger: Ledger) -> None:
    realistic(ledger)
    sale = seq_of(ledger, "a-to-b")

    def sell_to_a_stranger(record: dict[str, Any]) -> None:
        record["command"]["target_account_id"] = "NOBODY"

    rewrite_entry(ledger, sale, sell_to_a_stranger)
    report = redecide_ledger(ledger)
    assert report.divergence is not None and report.divergence.seq == sale
    assert "is refused (E_UNKNOWN_ACCOUNT)" in report.divergence.message


def stricter_than(catalog: Catalog) -> Catalog:
    """The catalog with trading accounts that may hold no credits."""
    trading = catalog.account_kinds["trading"]
    return dataclasses.replace(
        catalog,
        account_kinds=catalog.account_kinds
        | {"trading": dataclasses.replace(trading, markets=trading.markets - {"credit"})},
    )


def test_every_entry_names_the_catalog_it_was_decided_under(ledger: Ledger) -> None:
    realistic(ledger)
    named = {orjson.loads(entry.payload)["catalog"] for entry in journal(ledger)}
    assert named == {ledger.catalog.digest}


def test_an_entry_decided_under_a_catalog_not_given_is_named_as_such(ledger: Ledger) -> None:
    realistic(ledger)
    stricter = stricter_than(ledger.catalog)
    report = redecide_entries(journal(ledger), stricter)
    assert report.divergence is not None
    assert (report.divergence.seq, report.divergence.command_id) == (1, "open-a")
    assert f"decided under catalog {ledger.catalog.digest}" in report.divergence.message
    assert f"(given: {stricter.digest})" in report.divergence.message
    assert report.entries == 0


def test_a_history_under_two_catalogs_is_decided_again_under_each(ledger: Ledger) -> None:
    """The rules change mid-history (trading accounts may no longer receive credits): the
    entries before and after name their own catalogs, and each is decided under its own."""
    first_catalog = ledger.catalog
    realistic(ledger)
    ledger.catalog = stricter_than(first_catalog)
    refused = ledger.submit(Transfer("a-to-c", "A", "C", Selection("VCU", quantity=5)))
    assert isinstance(refused, Refused)
    issue(ledger, "A", 10, VCU, command_id="issued-under-stricter-rules")
    changed_at = ledger.head()["seq"]
    named = [orjson.loads(entry.payload)["catalog"] for entry in journal(ledger)]
    assert set(named[: changed_at - 1]) == {first_catalog.digest}
    assert named[changed_at - 1] == ledger.catalog.digest
    kept = {row[0] for row in table_rows(ledger, "catalogs")}
    assert kept == {first_catalog.digest, ledger.catalog.digest}
    assert redecide_ledger(ledger).ok  # each catalog is kept with the first entry naming it
    report = redecide_entries(journal(ledger), ledger.catalog)
    assert report.divergence is not None and report.divergence.seq == 1
    assert redecide_entries(journal(ledger), ledger.catalog, earlier_catalogs=[first_catalog]).ok
    report = redecide_entries(journal(ledger), first_catalog)
    assert report.divergence is not None and report.divergence.seq == changed_at
    assert report.entries == changed_at - 1


def test_entries_naming_no_catalog_are_decided_under_the_catalog_in_force(ledger: Ledger) -> None:
    """Entries recorded before entries named their catalog: under a catalog in which trading
    accounts may hold no credits, the history's first transfer to one (b-to-c) is where the
    rules part, and the message cannot tell a forgery from a rule change."""
    realistic(ledger)
    rewrite_entry(ledger, None, lambda record: record.pop("catalog"))
    execute_raw(ledger, "DELETE FROM catalogs")
    assert ledger.verify().ok
    assert redecide_ledger(ledger).ok
    report = redecide_entries(journal(ledger), stricter_than(ledger.catalog))
    assert report.divergence is not None
    assert report.divergence.command_id == "b-to-c"
    assert "E_ACCOUNT_KIND_CANNOT_HOLD_UNIT_TYPE" in report.divergence.message
    assert "recorded under other ones" in report.divergence.message


def test_an_entry_whose_effects_its_own_catalog_does_not_decide_is_called_forged(
    ledger: Ledger,
) -> None:
    realistic(ledger)
    sale = seq_of(ledger, "a-to-b")
    rewrite_entry(ledger, sale, lambda record: record["effects"].pop())
    report = redecide_ledger(ledger)
    assert report.divergence is not None and report.divergence.seq == sale
    assert f"not what catalog {ledger.catalog.digest}, which it names, decides" in (
        report.divergence.message
    )


def test_a_payload_holding_no_command_is_named_and_nothing_after_it_is_decided(
    ledger: Ledger,
) -> None:
    realistic(ledger)
    entries = journal(ledger)
    garbled = [*entries[:3], entries[3]._replace(payload=b'{"command": 7}'), *entries[4:]]
    report = redecide_entries(garbled, ledger.catalog)
    assert report.divergence is not None and report.divergence.seq == entries[3].seq
    assert "holds no command that can be decided again" in report.divergence.message
    assert report.entries == 3


def test_deciding_again_changes_nothing_in_the_ledger(ledger: Ledger) -> None:
    realistic(ledger)
    before = {table: table_rows(ledger, table) for table in ("journal", "blocks", "accounts")}
    assert redecide_ledger(ledger).ok
    assert {table: table_rows(ledger, table) for table in before} == before


def test_deciding_into_a_ledger_that_is_not_empty_is_a_bug(ledger: Ledger, tmp_path: Path) -> None:
    realistic(ledger)
    used = str(tmp_path / "used.db")
    with Ledger.open(used) as other:
        realistic(other)
    with pytest.raises(ValueError, match="is not empty"):
        redecide_ledger(ledger, None, used)
    empty = str(tmp_path / "empty.db")
    assert redecide_ledger(ledger, None, empty).ok


def test_the_journal_is_read_a_page_at_a_time_up_to_the_head_when_called(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages of 4 entries; an entry committed while the run reads is left for the next run."""
    realistic(ledger)
    head_seq = ledger.head()["seq"]
    monkeypatch.setattr(redecide_module, "REDECIDE_UNIT_ENTRIES", 4)
    pages = redecide_module._journal_pages(ledger, head_seq)
    first = next(pages)
    issue(ledger, "A", 10, VCU, command_id="issued-meanwhile")
    rest = list(pages)
    assert [first.seq, *(entry.seq for entry in rest)] == list(range(1, head_seq + 1))
    report = redecide_ledger(ledger)
    assert report.ok and report.entries == head_seq + 1
