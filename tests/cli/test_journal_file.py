"""The journal as a file: exported whole, and checked alone (no database) by anyone holding it,
against the head hash the registry publishes, with the totals its effects add up to."""

from __future__ import annotations

import gc
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import orjson
import pytest

from carbonex.catalog import load_catalog
from carbonex.cli import journal_file
from carbonex.ledger import Ledger, Retire, Selection, Transfer
from carbonex.ledger.journal import chain_hash
from carbonex.ledger.journal_export import EXPORT_LINE_BYTES_MAX, check_export
from tests.cli.helpers import EXIT_USAGE, earlier_catalog_directory, invoke, invoke_json, seed
from tests.ledger.support import execute_raw

EXIT_PROBLEMS_FOUND = 1
SUMMARY_NAMES = ("issued", "held", "on_hold", "retired", "cancelled", "surrendered", "expired")


def _exported(tmp_path: Path, database: str | None = None) -> tuple[str, Path]:
    database = database or str(tmp_path / "ledger.db")
    seed(database)
    with Ledger.open(database) as ledger:
        ledger.submit(Transfer("t", "DEV", "BUYER", Selection("VCU", quantity=300)))
        ledger.submit(Retire("r", "BUYER", Selection("VCU", quantity=100), "Buyer plc", "2026"))
    export = tmp_path / "journal.jsonl"
    result = invoke("journal-export", str(export), "--db", database)
    assert result.exit_code == 0, result.output
    return database, export


def _head_hash(database: str) -> str:
    with Ledger.open(database) as ledger:
        return str(ledger.head()["entry_hash"])


def test_an_exported_journal_checks_out_alone_with_the_registrys_totals(
    tmp_path: Path, database_url: str
) -> None:
    database, export = _exported(tmp_path, database_url)
    record = invoke_json("journal-check", str(export), "--head-hash", _head_hash(database))
    assert record["ok"] is True and record["entries"] == 6
    with Ledger.open(database) as ledger:
        published = ledger.summary()["by_unit_type"]
    replayed = record["totals_by_unit_type"]
    assert {name: replayed["VCU"][name] for name in SUMMARY_NAMES} == {
        name: published["VCU"][name] for name in SUMMARY_NAMES
    }
    assert replayed["VCU"]["retired"] == 100


def test_a_check_held_to_no_published_head_says_it_proves_only_self_consistency(
    tmp_path: Path,
) -> None:
    database, export = _exported(tmp_path)
    alone = invoke("journal-check", str(export))
    assert alone.exit_code == 0
    assert "no --head-hash, --anchor or --signed-head" in " ".join(alone.output.split())
    assert invoke_json("journal-check", str(export))["held_to_published_heads"] is False
    held = invoke_json("journal-check", str(export), "--head-hash", _head_hash(database))
    assert held["held_to_published_heads"] is True
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert invoke_json("journal-check", str(empty))["held_to_published_heads"] is False


def _rewrite(export: Path, seq: int, change: object) -> None:
    """Change the line of entry `seq` (catalog lines hold no seq)."""
    lines = export.read_bytes().splitlines(keepends=True)
    [number] = [n for n, line in enumerate(lines) if json.loads(line).get("seq") == seq]
    lines[number] = change(lines[number])  # type: ignore[operator]
    export.write_bytes(b"".join(lines))


def _more_retired(line: bytes) -> bytes:
    record = json.loads(line)
    record["payload"] = record["payload"].replace('"quantity":100', '"quantity":99')
    return orjson.dumps(record) + b"\n"


def _rehashed(line: bytes) -> bytes:
    """The entry altered, and its hash recomputed to match (as a forger would)."""
    record = json.loads(_more_retired(line))
    record["entry_hash"] = chain_hash(record["previous_hash"], record["payload"].encode())
    return orjson.dumps(record) + b"\n"


def test_an_altered_entry_is_named(tmp_path: Path) -> None:
    database, export = _exported(tmp_path)
    _rewrite(export, 6, _more_retired)
    result = invoke("journal-check", str(export), "--head-hash", _head_hash(database), "--json")
    assert result.exit_code == EXIT_PROBLEMS_FOUND
    problems = json.loads(result.stdout)["problems"]
    assert any("entry 6: hash does not match its content" in p for p in problems)


def _command_id_forged(line: bytes) -> bytes:
    record = json.loads(line)
    record["command_id"] = "forged"
    return orjson.dumps(record) + b"\n"


def test_a_line_whose_command_id_contradicts_its_hashed_payload_is_named(tmp_path: Path) -> None:
    database, export = _exported(tmp_path)
    _rewrite(export, 6, _command_id_forged)
    result = invoke("journal-check", str(export), "--head-hash", _head_hash(database), "--json")
    assert result.exit_code == EXIT_PROBLEMS_FOUND
    problems = json.loads(result.stdout)["problems"]
    assert problems == ["entry 6: its command_id column says 'forged', its hashed payload 'r'"]


def test_a_history_rewritten_with_fresh_hashes_fails_against_the_published_head(
    tmp_path: Path,
) -> None:
    """Whoever rewrites an entry can recompute every later hash; the published head exposes it."""
    database, export = _exported(tmp_path)

    _rewrite(export, 6, _rehashed)
    assert invoke_json("journal-check", str(export))["ok"] is True  # consistent on its own
    result = invoke("journal-check", str(export), "--head-hash", _head_hash(database))
    assert result.exit_code == EXIT_PROBLEMS_FOUND
    assert "not the published head" in result.stdout


def test_deciding_the_commands_again_exposes_a_rewrite_without_any_published_head(
    tmp_path: Path,
) -> None:
    """The retirement's command rewritten to 99 t, its effects still retiring 100 t."""
    _, export = _exported(tmp_path)
    _rewrite(export, 6, _rehashed)
    human = invoke("journal-check", str(export), "--redecide")
    assert human.exit_code == EXIT_PROBLEMS_FOUND
    record = json.loads(invoke("journal-check", str(export), "--redecide", "--json").stdout)
    assert record["redecided"] == 5
    [problem] = record["problems"]
    assert problem.startswith("decisions: entry 6 (r): its command, decided again, has other")


def test_an_untouched_export_is_decided_again_as_recorded(tmp_path: Path) -> None:
    database, export = _exported(tmp_path)
    human = invoke("journal-check", str(export), "--redecide", "--head-hash", _head_hash(database))
    assert human.exit_code == 0
    assert "every command decided again as recorded" in human.stdout
    record = invoke_json("journal-check", str(export), "--redecide")
    assert (record["ok"], record["redecided"]) == (True, 6)
    assert invoke_json("journal-check", str(export))["redecided"] is None


def test_a_missing_or_garbled_line_is_named(tmp_path: Path) -> None:
    _, export = _exported(tmp_path)
    lines = export.read_bytes().splitlines(keepends=True)
    export.write_bytes(b"".join([*lines[:3], b"not json\n", *lines[4:]]))  # the catalog, then
    record = json.loads(invoke("journal-check", str(export), "--json").stdout)
    assert "line 4: not an exported journal entry" in record["problems"]
    assert any("sequence jumps from 2 to 4" in p for p in record["problems"])


def test_an_overlong_line_is_refused_unread() -> None:
    check = check_export([b"x" * (EXPORT_LINE_BYTES_MAX + 1)])
    assert check.problems == [f"line 1: longer than {EXPORT_LINE_BYTES_MAX} bytes"]


def test_an_export_never_overwrites_and_a_check_needs_a_well_formed_head(tmp_path: Path) -> None:
    database, export = _exported(tmp_path)
    before = export.read_bytes()
    assert invoke("journal-export", str(export), "--db", database).exit_code == EXIT_USAGE
    assert export.read_bytes() == before
    for bad in ("abc", "Z" * 64):
        assert invoke("journal-check", str(export), "--head-hash", bad).exit_code == EXIT_USAGE
    assert invoke("journal-check", str(tmp_path / "none.jsonl")).exit_code == EXIT_USAGE


@pytest.mark.parametrize("lines", [[], [b"{}\n"], [b'{"seq": "1", "payload": 5}\n']])
def test_hostile_files_fail_the_check_without_an_exception(lines: list[bytes]) -> None:
    check = check_export(lines, "0" * 64 if not lines else None)
    assert check.ok is (lines == [])


def _entry_hash(database: str, seq: int) -> str:
    with Ledger.open(database) as ledger:
        return str(ledger.journal(limit=1, after_seq=seq - 1)[0]["entry_hash"])


def test_entries_recorded_earlier_must_still_be_in_the_history(tmp_path: Path) -> None:
    database, export = _exported(tmp_path)
    third = f"3:{_entry_hash(database, 3)}"
    assert invoke_json("journal-check", str(export), "--anchor", third)["ok"] is True
    lines = export.read_bytes().splitlines(keepends=True)
    export.write_bytes(b"".join(lines[:2]))  # a copy cut short before entry 3
    record = json.loads(invoke("journal-check", str(export), "--anchor", third, "--json").stdout)
    assert record["problems"] == ["entry 3, recorded earlier, is not in the file"]


def test_an_anchor_exposes_a_rewrite_even_with_every_hash_recomputed(tmp_path: Path) -> None:
    database, export = _exported(tmp_path)
    sixth = f"6:{_entry_hash(database, 6)}"

    _rewrite(export, 6, _rehashed)
    result = invoke("journal-check", str(export), "--anchor", sixth)
    assert result.exit_code == EXIT_PROBLEMS_FOUND
    assert "entry 6: hash differs from the one recorded earlier" in result.stdout


@pytest.mark.parametrize("anchor", ["3", "x:" + "0" * 64, "0:" + "0" * 64, "²:" + "0" * 64])
def test_a_malformed_anchor_is_bad_usage(tmp_path: Path, anchor: str) -> None:
    _, export = _exported(tmp_path)
    assert invoke("journal-check", str(export), "--anchor", anchor).exit_code == EXIT_USAGE


def test_an_export_that_fails_midway_leaves_no_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = str(tmp_path / "ledger.db")
    seed(database)
    export = tmp_path / "journal.jsonl"

    def disk_full(lines: object, out: BinaryIO, total: int) -> int:
        out.write(b"half a line")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal_file, "_write", disk_full)
    result = invoke("journal-export", str(export), "--db", database)
    assert result.exit_code == EXIT_USAGE and "No space left" in result.stderr
    assert not export.exists() and not Path(f"{export}.partial").exists()


def test_an_export_decided_under_two_catalogs_is_decided_again_under_each(
    tmp_path: Path,
) -> None:
    """Four entries decided under an earlier catalog, then one under the shipped one: the file
    holds both catalogs, each before the first entry naming it, and the check lists them; a file
    without them (written before exports held catalogs) is decided again with a directory."""
    directory = earlier_catalog_directory(tmp_path)
    earlier = load_catalog(directory)
    database = str(tmp_path / "ledger.db")
    seed(database, earlier)
    with Ledger.open(database) as ledger:
        ledger.submit(Transfer("t", "DEV", "BUYER", Selection("VCU", quantity=300)))
        in_force = ledger.catalog.digest
    export = tmp_path / "journal.jsonl"
    exported = invoke("journal-export", str(export), "--db", database)
    assert "Exported 5 entries" in exported.stdout
    lines = [json.loads(line) for line in export.read_bytes().splitlines()]
    assert [line.get("catalog", line.get("seq")) for line in lines] == [
        earlier.digest,
        *range(1, 5),
        in_force,
        5,
    ]
    checked = invoke_json("journal-check", str(export), "--redecide")
    assert (checked["ok"], checked["redecided"]) == (True, 5)
    assert checked["catalogs"] == [
        {"catalog": earlier.digest, "first_seq": 1, "entries": 4},
        {"catalog": in_force, "first_seq": 5, "entries": 1},
    ]
    human = invoke("journal-check", str(export))
    assert f"Decided under catalog {earlier.digest}: 4 entries, the first 1" in human.stdout
    export.write_bytes(b"".join(orjson.dumps(line) + b"\n" for line in lines if "seq" in line))
    without = json.loads(invoke("journal-check", str(export), "--redecide", "--json").stdout)
    assert without["problems"] == [
        f"entry 1 names catalog {earlier.digest}, which the file does not hold before it",
        f"entry 5 names catalog {in_force}, which the file does not hold before it",
        f"decisions: entry 1 (seed-dev): it was decided under catalog {earlier.digest}, which "
        f"no catalog given is (given: {in_force}); decide it again with that catalog",
    ]
    given = json.loads(
        invoke(
            "journal-check", str(export), "--redecide", "--catalog", str(directory), "--json"
        ).stdout
    )
    assert given["redecided"] == 5 and len(given["problems"]) == 2


def _catalog_garbled(line: bytes) -> bytes:
    record = json.loads(line)
    payload = orjson.loads(record["payload"])
    payload["catalog"] = 7
    record["payload"] = orjson.dumps(payload, option=orjson.OPT_SORT_KEYS).decode()
    record["entry_hash"] = chain_hash(record["previous_hash"], record["payload"].encode())
    return orjson.dumps(record) + b"\n"


def test_an_entry_naming_a_catalog_by_no_digest_is_named(tmp_path: Path) -> None:
    _database, export = _exported(tmp_path)
    lines = export.read_bytes().splitlines(keepends=True)
    export.write_bytes(b"".join([*lines[:-1], _catalog_garbled(lines[-1])]))
    result = invoke("journal-check", str(export), "--json")
    assert result.exit_code == EXIT_PROBLEMS_FOUND
    assert json.loads(result.stdout)["problems"] == [
        f"catalogs: entry {len(lines) - 1}: its catalog is not a digest"  # after one catalog line
    ]


def test_an_export_leaves_a_partial_file_it_did_not_make_as_it_was(
    tmp_path: Path, database_url: str
) -> None:
    seed(database_url)
    export = tmp_path / "journal.jsonl"
    someone_elses = Path(f"{export}.partial")
    someone_elses.write_bytes(b"another export, still writing")
    result = invoke("journal-export", str(export), "--db", database_url)
    assert result.exit_code == EXIT_USAGE and "cannot write" in result.stderr
    assert f"{export}.partial exists" in result.stderr
    assert someone_elses.read_bytes() == b"another export, still writing"
    assert not export.exists()


def test_an_export_never_replaces_a_file_made_while_it_wrote(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seed(database_url)
    export = tmp_path / "journal.jsonl"
    writing = journal_file._export_to

    def someone_else_writes_the_file_meanwhile(ledger: Ledger, out: BinaryIO) -> object:
        export.write_bytes(b"someone else's journal")
        return writing(ledger, out)

    monkeypatch.setattr(journal_file, "_export_to", someone_else_writes_the_file_meanwhile)
    result = invoke("journal-export", str(export), "--db", database_url)
    assert result.exit_code == EXIT_USAGE and "cannot write" in result.stderr
    assert export.read_bytes() == b"someone else's journal"
    assert not Path(f"{export}.partial").exists()


def test_an_export_whose_partial_name_is_a_directory_cannot_write(
    tmp_path: Path, database_url: str
) -> None:
    seed(database_url)
    export = tmp_path / "journal.jsonl"
    Path(f"{export}.partial").mkdir()
    result = invoke("journal-export", str(export), "--db", database_url)
    assert result.exit_code == EXIT_USAGE and "cannot write" in result.stderr
    assert Path(f"{export}.partial").is_dir() and not export.exists()


def test_an_export_from_a_database_that_cannot_be_opened_makes_no_partial_file(
    tmp_path: Path,
) -> None:
    export = tmp_path / "journal.jsonl"
    result = invoke("journal-export", str(export), "--db", str(tmp_path / "missing.db"))
    assert result.exit_code == EXIT_USAGE
    assert sorted(path.name for path in tmp_path.iterdir()) == []


def test_an_entry_whose_payload_is_not_utf8_is_named_and_leaves_no_file(
    tmp_path: Path, database_url: str
) -> None:
    seed(database_url)
    with Ledger.open(database_url) as ledger:
        execute_raw(ledger, "UPDATE journal SET payload = ? WHERE seq = 3", (b"\xff",))
    export = tmp_path / "journal.jsonl"
    result = invoke("journal-export", str(export), "--db", database_url)
    assert result.exit_code == EXIT_USAGE, result.output
    assert "journal entry 3" in result.stderr and "not UTF-8" in result.stderr
    assert "Traceback" not in result.output
    assert not export.exists() and not Path(f"{export}.partial").exists()


def test_an_export_that_fails_to_write_closes_its_reading_before_its_database(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Left to the collector, the journal's cursor closed after its connection and printed an
    ignored exception after the command's message."""
    seed(database_url)
    unraisable: list[object] = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)

    def disk_full_after_a_line(lines: Iterator[bytes], out: BinaryIO, total: int) -> int:
        out.write(next(lines))
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal_file, "_write", disk_full_after_a_line)
    export = tmp_path / "journal.jsonl"
    result = invoke("journal-export", str(export), "--db", database_url)
    gc.collect()
    assert result.exit_code == EXIT_USAGE and "No space left" in result.stderr
    assert unraisable == []
    assert not export.exists() and not Path(f"{export}.partial").exists()
