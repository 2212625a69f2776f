"""`carbonex verify`: exit 0 on a consistent ledger, 1 with each problem after tampering."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from pathlib import Path
from typing import Any

import orjson
import pytest

from carbonex.catalog import load_catalog
from carbonex.ledger import Ledger
from carbonex.ledger.journal import GENESIS_HASH, canonical, chain_hash
from carbonex.store import open_store
from tests.cli.helpers import EXIT_REFUSED, EXIT_USAGE, earlier_catalog_directory, invoke, seed
from tests.ledger.support import execute_raw
from tests.ledger.test_redecide import rewrite_entry
from tests.ledger.test_verify_writes_nothing import as_committed, assert_lagging, lagging_ledger
from tests.store.test_sqlite import run_unprivileged


def test_verify_of_a_consistent_ledger_exits_zero(seeded: str) -> None:
    result = invoke("verify", "--db", seeded)
    assert result.exit_code == 0
    assert "OK" in result.stdout


def test_verify_with_json_prints_the_report(seeded: str) -> None:
    result = invoke("verify", "--db", seeded, "--json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert (report["ok"], report["entries"], report["problems"]) == (True, 4, [])


def test_verify_exits_one_after_a_block_row_is_tampered_with(tmp_path: Path) -> None:
    database = str(tmp_path / "tampered.db")
    seed(database)
    with sqlite3.connect(database) as connection:
        connection.execute("UPDATE blocks SET last_serial = last_serial - 1")
    human = invoke("verify", "--db", database)
    assert human.exit_code == EXIT_REFUSED
    assert "FAILED" in human.stdout
    assert "conservation" in human.stdout
    report = json.loads(invoke("verify", "--db", database, "--json").stdout)
    assert report["ok"] is False
    assert {"replay", "conservation"} <= {p["invariant"] for p in report["problems"]}


def test_a_head_set_back_by_hand_is_named_and_no_command_writes_on_it(tmp_path: Path) -> None:
    """The next command would otherwise have written its block over block 1."""
    database = str(tmp_path / "damaged.db")
    seed(database)
    with sqlite3.connect(database) as connection:
        connection.execute(
            "UPDATE journal SET next_block_id = 1 WHERE seq = (SELECT MAX(seq) FROM journal)"
        )
    connection.close()
    report = json.loads(invoke("verify", "--db", database, "--json").stdout)
    assert "head" in {p["invariant"] for p in report["problems"]}
    before = Path(database).read_bytes()
    transfer = invoke(
        "transfer", "--from", "DEV", "--to", "BUYER", "--unit-type", "VCU", "--quantity", "5",
        "--db", database,
    )  # fmt: skip
    assert transfer.exit_code == EXIT_USAGE
    assert "head is damaged" in transfer.stderr
    assert Path(database).read_bytes() == before


def test_verify_redecide_decides_every_command_again(seeded: str) -> None:
    human = invoke("verify", "--db", seeded, "--redecide")
    assert human.exit_code == 0
    assert "every command decided again as recorded (4)" in human.stdout
    report = json.loads(invoke("verify", "--db", seeded, "--redecide", "--json").stdout)
    assert (report["ok"], report["redecided"]) == (True, 4)


def test_verify_redecide_names_an_entry_whose_effects_its_command_does_not_make(
    tmp_path: Path,
) -> None:
    """The issuance's command rewritten and every hash recomputed: the chain, the replay and
    the invariants all hold, and only deciding the command again tells."""
    database = str(tmp_path / "forged.db")
    seed(database)
    with sqlite3.connect(database) as connection:
        previous_hash = GENESIS_HASH
        rows = connection.execute("SELECT seq, payload FROM journal ORDER BY seq").fetchall()
        for seq, payload in rows:
            record = orjson.loads(payload)
            if record["command"]["kind"] == "issue":
                record["command"]["quantity"] += 1
            payload = canonical(record)
            entry_hash = chain_hash(previous_hash, payload)
            connection.execute(
                "UPDATE journal SET payload = ?, previous_hash = ?, entry_hash = ? WHERE seq = ?",
                (payload, previous_hash, entry_hash, seq),
            )
            previous_hash = entry_hash
    connection.close()
    assert invoke("verify", "--db", database).exit_code == 0
    before = Path(database).read_bytes()
    report = json.loads(invoke("verify", "--db", database, "--redecide", "--json").stdout)
    assert report["ok"] is False
    [problem] = report["problems"]
    assert problem["invariant"] == "decisions"
    assert "its command, decided again, has other effects" in problem["message"]
    assert Path(database).read_bytes() == before


def test_verify_redecide_decides_entries_under_the_earlier_catalog_they_name(
    tmp_path: Path,
) -> None:
    """The ledger keeps the catalog its entries were decided under; a ledger that lost it (an
    older ledger, say, made before catalogs were kept) is decided again with its directory."""
    directory = earlier_catalog_directory(tmp_path)
    earlier = load_catalog(directory)
    database = str(tmp_path / "ledger.db")
    seed(database, earlier)
    result = invoke("verify", "--db", database, "--redecide")
    assert result.exit_code == 0, result.output
    with sqlite3.connect(database) as connection:
        connection.execute("DELETE FROM catalogs")
    connection.close()
    report = json.loads(invoke("verify", "--db", database, "--redecide", "--json").stdout)
    messages = {problem["invariant"]: problem["message"] for problem in report["problems"]}
    assert (
        f"decided under catalog {earlier.digest}, which no catalog given is"
        in (messages["decisions"])
    )
    assert "which the ledger does not keep" in messages["catalogs"]
    report = json.loads(
        invoke(
            "verify", "--db", database, "--redecide", "--catalog", str(directory), "--json"
        ).stdout
    )
    assert [problem["invariant"] for problem in report["problems"]] == ["catalogs"]
    assert report["redecided"] == 4


def test_an_earlier_catalog_that_cannot_be_used_is_a_usage_error(
    seeded: str, tmp_path: Path
) -> None:
    broken = earlier_catalog_directory(tmp_path)
    (broken / "unit_types.toml").write_text("[[unit_type]\n")
    cases = {
        ("--catalog", str(broken)): "add --redecide",
        ("--redecide", "--catalog", str(tmp_path / "missing")): "not a directory",
        ("--redecide", "--catalog", str(broken)): "unit_types.toml: not valid TOML",
    }
    for options, message in cases.items():
        result = invoke("verify", "--db", seeded, *options)
        assert result.exit_code == EXIT_USAGE, options
        assert message in " ".join(result.output.split()), result.output


def test_verify_names_a_move_whose_serial_lies_past_64_bits_and_prints_its_report(
    seeded: str,
) -> None:
    """A serial no 64-bit integer holds, or a number for a serial space, once raised from the
    history digests: verify printed a traceback and no report."""
    with Ledger.open(seeded) as ledger:
        [(seq, payload)] = ledger.store.query(
            "SELECT seq, payload FROM journal WHERE command_kind = 'issue'"
        )
        move = b'["move","issue","VERRA/VCU",1,'
        assert move in bytes(payload)
        for altered in (
            b'["move","issue","VERRA/VCU",9223372036854775808,',
            b'["move","issue",7,1,',
        ):
            changed = bytes(payload).replace(move, altered)
            execute_raw(ledger, "UPDATE journal SET payload = ? WHERE seq = ?", (changed, seq))
            result = invoke("verify", "--db", seeded, "--json")
            assert result.exit_code == EXIT_REFUSED, result.output
            report = json.loads(result.stdout)
            assert report["ok"] is False and "Traceback" not in result.output
            assert any(
                p["invariant"] == "replay" and p["message"].startswith(f"entry {seq}, effect ")
                for p in report["problems"]
            ), report["problems"]


def journal_hashes(database: str) -> dict[int, str]:
    with Ledger.open(database) as ledger:
        rows = ledger.store.query("SELECT seq, entry_hash FROM journal ORDER BY seq")
    return {int(seq): str(entry_hash) for seq, entry_hash in rows}


def published_problems(database: str, *options: str) -> list[str]:
    result = invoke("verify", "--db", database, "--json", *options)
    report = json.loads(result.stdout)
    assert result.exit_code == (0 if report["ok"] else EXIT_REFUSED)
    return [p["message"] for p in report["problems"] if p["invariant"] == "published"]


def test_verify_holds_the_journal_to_the_heads_the_registry_published(seeded: str) -> None:
    hashes = journal_hashes(seeded)
    head = f"{hashes[4]}"
    assert published_problems(seeded, "--head-hash", head, "--anchor", f"2:{hashes[2]}") == []
    opened = invoke("account", "open", "LATER", "--kind", "company_holding", "--holder", "L",
                    "--db", seeded)  # fmt: skip
    assert opened.exit_code == 0
    # The head published before that command is no longer the head; entry 4 still stands.
    [moved] = published_problems(seeded, "--head-hash", head, "--anchor", f"4:{hashes[4]}")
    assert "is not the published head" in moved
    [missing] = published_problems(seeded, "--anchor", f"9:{hashes[4]}")
    assert missing == "entry 9, recorded earlier, is not in the journal"


def test_verify_names_a_history_rewritten_with_every_hash_recomputed(seeded: str) -> None:
    anchor = f"2:{journal_hashes(seeded)[2]}"
    with Ledger.open(seeded) as ledger:

        def renamed(record: dict[str, Any]) -> None:
            record["command"]["command_id"] = "rewritten"

        rewrite_entry(ledger, 2, renamed)
        execute_raw(ledger, "UPDATE journal SET command_id = 'rewritten' WHERE seq = 2")
    assert invoke("verify", "--db", seeded).exit_code == 0  # the chain alone cannot tell
    [rewritten] = published_problems(seeded, "--anchor", anchor)
    assert rewritten == "entry 2: hash differs from the one recorded earlier (history rewritten)"


def test_a_malformed_published_hash_is_a_usage_error(seeded: str) -> None:
    for options in (("--head-hash", "abc"), ("--anchor", "2"), ("--anchor", f"0:{'a' * 64}")):
        result = invoke("verify", "--db", seeded, *options)
        assert result.exit_code == EXIT_USAGE, options


def committed_hashes(database: str) -> dict[int, str]:
    """Each entry's hash, read over a connection of its own that projects nothing."""
    store = open_store(database, migrate=False, must_exist=True)
    try:
        rows = store.query("SELECT seq, entry_hash FROM journal ORDER BY seq")
    finally:
        store.close()
    return {int(seq): str(entry_hash) for seq, entry_hash in rows}


def file_bytes(database: str) -> bytes | None:
    """A SQLite ledger's file as it is on disk (None for a PostgreSQL one)."""
    return None if database.startswith("postgresql") else Path(database).read_bytes()


@pytest.mark.parametrize(
    "options", [(), ("--redecide",), ("--head-hash", "--anchor")], ids=["", "redecide", "heads"]
)
def test_verify_writes_nothing_to_a_ledger_whose_read_models_lag(
    database_url: str, options: tuple[str, ...]
) -> None:
    """A writer killed before projecting left the read models behind the journal: verify (and
    deciding again, and holding the journal to published heads) checks them as the journal
    brings them up, and leaves every table, and a SQLite file every byte, as it was."""
    lagging_ledger(database_url)
    if options == ("--head-hash", "--anchor"):
        hashes = committed_hashes(database_url)
        options = ("--head-hash", hashes[max(hashes)], "--anchor", f"1:{hashes[1]}")
    before, file_before = as_committed(database_url), file_bytes(database_url)
    assert_lagging(before[1])
    result = invoke("verify", "--db", database_url, "--json", *options)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["problems"] == []
    assert as_committed(database_url) == before
    assert file_bytes(database_url) == file_before


def test_verify_reads_a_ledger_file_its_user_may_only_read() -> None:
    """Mode 0444 in a directory the user may write (SQLite makes the WAL's -shm file there): the
    read models lag, and verify brings them up in copies of its own, not in the file."""
    directory = Path(tempfile.mkdtemp(prefix="carbonex-read-only-file-"))  # nobody enters /tmp's
    database = str(directory / "ledger.db")
    lagging_ledger(database)
    before, file_before = as_committed(database), file_bytes(database)
    assert_lagging(before[1])
    Path(database).chmod(0o444)
    directory.chmod(0o777)

    def check(database: str) -> None:
        result = invoke("verify", "--db", database, "--json")
        if result.exit_code != 0 or json.loads(result.stdout)["problems"]:
            raise AssertionError(result.output)

    # The same run as we are, on another lagging ledger first: nobody may not read the checkout
    # (CI's clone lies in a directory only root enters), so every module and catalog file the
    # run loads lazily is loaded before the fork. (--redecide makes a scratch ledger, whose
    # migrations Alembic reads from the checkout each time: it is run as we are, below.)
    warm_up = Path(tempfile.mkdtemp(prefix="carbonex-warm-up-"))
    try:
        lagging_ledger(str(warm_up / "ledger.db"))
        check(str(warm_up / "ledger.db"))
    finally:
        shutil.rmtree(warm_up)
    try:
        run_unprivileged(lambda: check(database))
        redecided = invoke("verify", "--db", database, "--redecide", "--json")
        assert redecided.exit_code == 0, redecided.output
        assert as_committed(database) == before
        assert file_bytes(database) == file_before
    finally:
        shutil.rmtree(directory)
