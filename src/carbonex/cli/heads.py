"""`carbonex head keygen|sign|check`: signed heads a registry publishes and auditors keep (see
`carbonex.ledger.signed_heads`), and the `--signed-head`/`--public-key` options `verify` and
`journal-check` take. Exit codes: 0 done / the statement verifies, 1 it does not, 2 bad usage
(an unusable key file, a file that exists, an empty journal)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from carbonex.cli import render
from carbonex.cli.exits import EXIT_PROBLEMS_FOUND, usage_error
from carbonex.cli.options import DatabaseOption, JsonOption
from carbonex.cli.session import open_ledger
from carbonex.ledger.signed_heads import (
    SIGNED_HEAD_BYTES_MAX,
    KeyFileError,
    SignedHead,
    load_private_key,
    load_public_key,
    new_key_pair,
    public_key_bytes,
    read_signed_head,
    sign_journal_head,
)

Key = TypeVar("Key", Ed25519PrivateKey, Ed25519PublicKey)
SIGNED_HEADS_MAX = 1_000
"""--signed-head options one run takes (as many as --anchor)."""

head_app = typer.Typer(
    help="Signed heads: the registry signs its journal's head; auditors keep and check them.",
    no_args_is_help=True,
)

SignedHeadOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--signed-head",
        metavar="FILE",
        help="A head the registry signed (`carbonex head sign`), checked with --public-key and "
        "held as an anchor; repeatable.",
    ),
]
PublicKeyOption = Annotated[
    Path | None,
    typer.Option("--public-key", metavar="FILE", help="The registry's public key (PEM)."),
]


@head_app.command("keygen")
def keygen(
    private_key: Annotated[Path, typer.Argument(metavar="FILE", help="The new private key.")],
    public_key: Annotated[
        Path | None, typer.Option("--public-key", metavar="FILE", help="Default: FILE.pub.")
    ] = None,
) -> None:
    """Make an Ed25519 key pair for signing heads (new files only; the private one mode 600)."""
    public_path = public_key or private_key.with_name(private_key.name + ".pub")
    for path in (private_key, public_path):
        if path.exists() or path.is_symlink():
            usage_error(f"{path} exists; keygen never replaces a file")
    try:
        key = new_key_pair(private_key, public_path)
    except OSError as error:
        usage_error(f"cannot write the key files: {error.strerror} ({error.filename})")
    fingerprint = public_key_bytes(key).hex()
    typer.echo(f"private key {private_key} (keep it secret), public key {public_path}")
    typer.echo(f"public key (hex): {fingerprint}")


@head_app.command("sign")
def sign(
    key: Annotated[Path, typer.Option("--key", metavar="FILE", help="The private key (PEM).")],
    out: Annotated[
        Path | None, typer.Option("--out", metavar="FILE", help="A new file (default: stdout).")
    ] = None,
    database: DatabaseOption = None,
) -> None:
    """Sign the journal's head: the last entry's number, hash and time, and the time now."""
    private_key = _loaded(load_private_key, key)
    if out is not None and (out.exists() or out.is_symlink()):
        usage_error(f"{out} exists; sign never replaces a file")
    now = dt.datetime.now(dt.UTC)
    with open_ledger(database, must_exist=True) as ledger:
        signed = ledger.read(partial(sign_journal_head, private_key=private_key, now=now), False)
    if signed is None:
        usage_error("the journal is empty: there is no head to sign")
    if out is None:
        typer.echo(signed.to_bytes().decode(), nl=False)
        return
    try:
        with open(out, "xb") as file:
            file.write(signed.to_bytes())
    except OSError as error:
        usage_error(f"cannot write {out}: {error.strerror}")
    typer.echo(f"signed head {signed.seq} ({signed.entry_hash}) written to {out}", err=True)


@head_app.command("check")
def check(
    file: Annotated[Path, typer.Argument(metavar="FILE", help="A signed head.")],
    public_key: PublicKeyOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check a signed head's signature against the registry's public key (no database)."""
    if public_key is None:
        usage_error("--public-key is required: a signature proves something only against a key")
    signed = _read_or_problem(file, _loaded(load_public_key, public_key))
    if isinstance(signed, str):
        if as_json:
            render.json_document({"ok": False, "problem": signed})
        else:
            render.error(f"{file}: {signed}")
        raise typer.Exit(EXIT_PROBLEMS_FOUND)
    if as_json:
        render.json_document({"ok": True, "signed_head": signed.to_record()})
    else:
        typer.echo(
            f"{file}: entry {signed.seq} has hash {signed.entry_hash} "
            f"(recorded {signed.recorded_at}, signed {signed.signed_at}): the signature verifies"
        )


def signed_anchors(files: list[Path] | None, public_key: Path | None) -> dict[int, str]:
    """The entries the signed heads in `files` vouch for, as seq -> hash, every signature
    checked against `public_key` (a usage error names a file that is not one)."""
    if not files:
        if public_key is not None:
            usage_error("--public-key checks --signed-head files: give at least one")
        return {}
    if public_key is None:
        usage_error("--signed-head needs --public-key: the key the registry published")
    if len(files) > SIGNED_HEADS_MAX:
        usage_error(f"at most {SIGNED_HEADS_MAX} --signed-head options")
    pinned = _loaded(load_public_key, public_key)
    anchors: dict[int, str] = {}
    for file in files:
        signed = _read_or_problem(file, pinned)
        if isinstance(signed, str):
            usage_error(f"--signed-head {file}: {signed}")
        anchors = merged_anchors(anchors, {signed.seq: signed.entry_hash})
    return anchors


def merged_anchors(first: dict[int, str], second: dict[int, str]) -> dict[int, str]:
    """Both sets of anchors; a usage error when they give one entry two hashes (the registry
    signed, or someone published, two histories: either is worth a look, not a guess)."""
    for seq, entry_hash in second.items():
        if first.get(seq, entry_hash) != entry_hash:
            usage_error(f"entry {seq} is given two different hashes ({first[seq]}, {entry_hash})")
    return first | second


def _read_or_problem(file: Path, pinned: Ed25519PublicKey) -> SignedHead | str:
    try:
        with open(file, "rb") as opened:
            data = opened.read(SIGNED_HEAD_BYTES_MAX + 1)
    except OSError as error:
        usage_error(f"cannot read {file}: {error.strerror}")
    return read_signed_head(data, pinned)


def _loaded(load: Callable[[Path], Key], path: Path) -> Key:
    try:
        return load(path)
    except KeyFileError as error:
        usage_error(str(error))
