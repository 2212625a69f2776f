"""`carbonex head keygen|sign|check`, and signed heads held as anchors by `verify` and
`journal-check`."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import orjson

from carbonex.ledger import Ledger
from tests.cli.helpers import EXIT_REFUSED, EXIT_USAGE, invoke, invoke_json, seed
from tests.ledger.support import execute_raw
from tests.ledger.test_redecide import rewrite_entry


def keys(directory: Path) -> tuple[Path, Path]:
    private, public = directory / "registry.key", directory / "registry.key.pub"
    result = invoke("head", "keygen", str(private))
    assert result.exit_code == 0, result.output
    return private, public


def signed_head(database: str, private: Path, out: Path) -> dict[str, Any]:
    result = invoke("head", "sign", "--key", str(private), "--db", database, "--out", str(out))
    assert result.exit_code == 0, result.output
    return dict(orjson.loads(out.read_bytes()))


def test_keygen_writes_a_private_key_for_its_owner_only_and_never_replaces_one(
    tmp_path: Path,
) -> None:
    private, public = keys(tmp_path)
    assert stat.S_IMODE(os.stat(private).st_mode) == 0o600
    before = private.read_bytes()
    again = invoke("head", "keygen", str(private))
    assert again.exit_code == EXIT_USAGE
    assert "exists" in again.output
    assert private.read_bytes() == before
    assert public.exists()


def test_a_signed_head_names_the_journals_last_entry_and_checks_out(
    seeded: str, tmp_path: Path
) -> None:
    private, public = keys(tmp_path)
    statement = signed_head(seeded, private, tmp_path / "head.json")
    head = invoke_json("journal", "--db", seeded, "--limit", "1000")
    last = head[-1] if isinstance(head, list) else head["entries"][-1]
    assert (statement["seq"], statement["entry_hash"]) == (last["seq"], last["entry_hash"])
    checked = invoke_json("head", "check", str(tmp_path / "head.json"), "--public-key", str(public))
    assert checked["ok"] is True
    assert checked["signed_head"] == statement


def test_a_changed_statement_or_another_key_fails_the_check(seeded: str, tmp_path: Path) -> None:
    private, public = keys(tmp_path)
    statement = signed_head(seeded, private, tmp_path / "head.json")
    changed = tmp_path / "changed.json"
    changed.write_bytes(orjson.dumps(statement | {"seq": statement["seq"] - 1}))
    result = invoke("head", "check", str(changed), "--public-key", str(public), "--json")
    assert result.exit_code == EXIT_REFUSED
    assert "signature does not verify" in json.loads(result.stdout)["problem"]
    other = tmp_path / "other"
    other.mkdir()
    _, other_public = keys(other)
    result = invoke("head", "check", str(tmp_path / "head.json"), "--public-key", str(other_public))
    assert result.exit_code == EXIT_REFUSED


def test_sign_refuses_an_open_key_an_empty_journal_and_an_existing_file(
    seeded: str, tmp_path: Path
) -> None:
    private, _ = keys(tmp_path)
    taken = tmp_path / "taken.json"
    taken.write_text("mine")
    result = invoke("head", "sign", "--key", str(private), "--db", seeded, "--out", str(taken))
    assert result.exit_code == EXIT_USAGE
    assert taken.read_text() == "mine"
    os.chmod(private, 0o644)
    result = invoke("head", "sign", "--key", str(private), "--db", seeded)
    assert result.exit_code == EXIT_USAGE
    assert "owner only" in result.output
    os.chmod(private, 0o600)
    empty = str(tmp_path / "empty.db")
    with Ledger.open(empty):
        pass
    result = invoke("head", "sign", "--key", str(private), "--db", empty)
    assert result.exit_code == EXIT_USAGE
    assert "empty" in result.output


def test_verify_holds_a_ledger_to_the_heads_the_registry_signed(
    database_url: str, tmp_path: Path
) -> None:
    seed(database_url)
    private, public = keys(tmp_path)
    signed_head(database_url, private, tmp_path / "head.json")
    options = ("--signed-head", str(tmp_path / "head.json"), "--public-key", str(public))
    assert invoke("verify", "--db", database_url, *options).exit_code == 0
    with Ledger.open(database_url) as ledger:

        def renamed(record: dict[str, Any]) -> None:
            record["command"]["command_id"] = "rewritten"

        rewrite_entry(ledger, 2, renamed)
        execute_raw(ledger, "UPDATE journal SET command_id = 'rewritten' WHERE seq = 2")
    assert invoke("verify", "--db", database_url).exit_code == 0  # the chain alone cannot tell
    result = invoke("verify", "--db", database_url, "--json", *options)
    assert result.exit_code == EXIT_REFUSED
    problems = [p["message"] for p in json.loads(result.stdout)["problems"]]
    assert any("history rewritten" in message for message in problems), problems


def test_journal_check_holds_an_export_to_a_signed_head(seeded: str, tmp_path: Path) -> None:
    private, public = keys(tmp_path)
    signed_head(seeded, private, tmp_path / "head.json")
    export = tmp_path / "journal.jsonl"
    assert invoke("journal-export", str(export), "--db", seeded).exit_code == 0
    options = ("--signed-head", str(tmp_path / "head.json"), "--public-key", str(public))
    assert invoke("journal-check", str(export), *options).exit_code == 0
    truncated = tmp_path / "truncated.jsonl"
    truncated.write_bytes(b"".join(export.read_bytes().splitlines(keepends=True)[:-1]))
    result = invoke("journal-check", str(truncated), *options)
    assert result.exit_code == EXIT_REFUSED


def test_signed_heads_need_the_public_key_and_a_bad_one_is_bad_usage(
    seeded: str, tmp_path: Path
) -> None:
    private, public = keys(tmp_path)
    statement = signed_head(seeded, private, tmp_path / "head.json")
    forged = tmp_path / "forged.json"
    forged.write_bytes(orjson.dumps(statement | {"entry_hash": "0" * 64}))
    head = str(tmp_path / "head.json")
    contradicting = f"{statement['seq']}:{'1' * 64}"
    for options in (
        ("--signed-head", head),
        ("--public-key", str(public)),
        ("--signed-head", str(forged), "--public-key", str(public)),
        ("--signed-head", head, "--public-key", str(private)),
        ("--signed-head", head, "--public-key", str(public), "--anchor", contradicting),
    ):
        assert invoke("verify", "--db", seeded, *options).exit_code == EXIT_USAGE, options
