"""`carbonex verify`: replay the journal and check the ledger's invariants, with progress."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    Progress,
    SpinnerColumn,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)

from carbonex.catalog import Catalog, CatalogError, load_catalog
from carbonex.cli import render
from carbonex.cli.exits import EXIT_PROBLEMS_FOUND, usage_error
from carbonex.cli.heads import PublicKeyOption, SignedHeadOption, merged_anchors, signed_anchors
from carbonex.cli.options import DatabaseOption, JsonOption
from carbonex.cli.session import open_ledger
from carbonex.ledger import Ledger, RedecideReport, VerifyReport, redecide_ledger
from carbonex.projects.registry import ProjectRegistry
from carbonex.store import SqlStore

REDECIDE_HELP = (
    "Also decide every entry's command again, at its recorded time and under the catalog it "
    "names, on a scratch ledger: each must give the recorded entry byte for byte (catches "
    "effects that do not follow from their command, even with every hash recomputed)."
)
RedecideOption = Annotated[bool, typer.Option("--redecide", help=REDECIDE_HELP)]
EARLIER_CATALOGS_MAX = 100
CATALOG_HELP = (
    "With --redecide: a directory holding an earlier catalog (the TOML files of its time), for "
    "entries decided under it; repeatable. Entries name their catalog's digest."
)
CatalogOption = Annotated[
    list[Path] | None, typer.Option("--catalog", metavar="DIR", help=CATALOG_HELP)
]


HeadHashOption = Annotated[
    str | None,
    typer.Option("--head-hash", help="The head hash the registry published (64 hex)."),
]
AnchorOption = Annotated[
    list[str] | None,
    typer.Option(
        "--anchor",
        metavar="SEQ:HASH",
        help="An entry's hash recorded earlier (e.g. last month's head); repeatable.",
    ),
]
HEX_DIGITS = frozenset("0123456789abcdef")
ANCHORS_MAX = 1_000


def checked_anchors(head_hash: str | None, texts: list[str] | None) -> dict[int, str]:
    """The --anchor options as seq -> hash, after checking them and --head-hash (a usage error
    names a malformed one)."""
    if head_hash is not None and not _is_hash(head_hash):
        usage_error("--head-hash takes 64 lowercase hexadecimal characters")
    if len(texts or []) > ANCHORS_MAX:
        usage_error(f"at most {ANCHORS_MAX} --anchor options")
    anchors: dict[int, str] = {}
    for text in texts or []:
        seq, _, entry_hash = text.partition(":")
        valid_seq = seq.isascii() and seq.isdigit() and 0 < int(seq) < 2**63
        if not valid_seq or not _is_hash(entry_hash):
            usage_error(f"--anchor {text!r}: expected SEQ:HASH (a positive entry number, 64 hex)")
        anchors[int(seq)] = entry_hash
    return anchors


def _is_hash(text: str) -> bool:
    return len(text) == 64 and set(text) <= HEX_DIGITS


def published_problems(ledger: Ledger, head_hash: str | None, anchors: dict[int, str]) -> list[str]:
    """Where the ledger's journal contradicts what the registry published: its head is not
    `head_hash`, or an entry recorded earlier (seq -> hash) is missing or has another hash. With
    the chain checked, an entry whose hash still matches proves every entry up to it unchanged."""
    problems = []
    head = ledger.head()
    if head_hash is not None and head["entry_hash"] != head_hash:
        problems.append(
            f"the last entry's hash {head['entry_hash']} (entry {head['seq']}) is not the "
            f"published head {head_hash}: entries were added since, or its history was rewritten"
        )
    hashes = ledger.read(partial(_entry_hashes, seqs=sorted(anchors)), read_models=False)
    for seq, expected in sorted(anchors.items()):
        found = hashes.get(seq)
        if found is None:
            problems.append(f"entry {seq}, recorded earlier, is not in the journal")
        elif found != expected:
            problems.append(
                f"entry {seq}: hash differs from the one recorded earlier (history rewritten)"
            )
    return problems


def _entry_hashes(store: SqlStore, seqs: list[int]) -> dict[int, str]:
    found = {}
    for seq in seqs:
        row = store.query_one("SELECT entry_hash FROM journal WHERE seq = ?", (seq,))
        if row is not None:
            found[seq] = str(row[0])
    return found


def earlier_catalogs(directories: list[Path] | None, redecide: bool) -> list[Catalog]:
    """The catalogs in `directories`, loaded and checked; a usage error names a bad one."""
    if not directories:
        return []
    if not redecide:
        usage_error("--catalog is for deciding entries again: add --redecide")
    if len(directories) > EARLIER_CATALOGS_MAX:
        usage_error(f"at most {EARLIER_CATALOGS_MAX} --catalog directories")
    catalogs = []
    for directory in directories:
        if not directory.is_dir():
            usage_error(f"--catalog {directory}: not a directory")
        try:
            catalogs.append(load_catalog(directory))
        except CatalogError as error:
            usage_error(f"--catalog {directory}: {error}")
    return catalogs


@contextmanager
def entries_progress(show: bool, verb: str) -> Iterator[Callable[[int, int], None] | None]:
    """A callback (entries done, entries in all) drawing a progress bar on stderr, or None."""
    if not show:
        yield None
        return
    columns = (
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=render.stderr_console(), transient=True) as progress:
        task = progress.add_task(f"{verb} the journal", total=None)

        def advance(entries: int, total_entries: int) -> None:
            progress.update(
                task,
                completed=entries,
                total=total_entries,
                description=f"{verb} {entries:,} of {total_entries:,} entries",
            )

        yield advance


def verify_with_progress(ledger: Ledger, show_progress: bool) -> VerifyReport:
    """Run `Ledger.verify`, showing the journal entries replayed so far on stderr."""
    with entries_progress(show_progress, "Verified") as advance:
        return ledger.verify(advance)


def redecide_with_progress(
    ledger: Ledger, show_progress: bool, catalogs: list[Catalog]
) -> RedecideReport:
    """Run `redecide_ledger`, showing the entries decided again so far on stderr."""
    with entries_progress(show_progress, "Decided again") as advance:
        return redecide_ledger(ledger, advance, earlier_catalogs=catalogs)


def render_report(report: VerifyReport) -> None:
    checked = (
        f"{report.entries:,} journal entries, {report.blocks:,} blocks, "
        f"{report.issuances:,} issuances"
    )
    if report.ok:
        redecided = (
            ""
            if report.redecided is None
            else f"; every command decided again as recorded ({report.redecided:,})"
        )
        render.line(f"OK: {checked} checked; every invariant holds{redecided}", style="green bold")
        return
    if report.redecided is not None:
        checked += f", {report.redecided:,} commands decided again as recorded"
    render.line(f"FAILED: {len(report.problems)} problems in {checked}", style="red bold")
    render.print_table(
        render.records_table(
            "Problems",
            [("invariant", "invariant"), ("message", "problem")],
            [{"invariant": p.invariant, "message": p.message} for p in report.problems],
        )
    )


def verify(
    database: DatabaseOption = None,
    as_json: JsonOption = False,
    redecide: RedecideOption = False,
    catalog: CatalogOption = None,
    head_hash: HeadHashOption = None,
    anchor: AnchorOption = None,
    signed_head: SignedHeadOption = None,
    public_key: PublicKeyOption = None,
) -> None:
    """Check the hash chains, replay the journal and project histories, check every invariant;
    with --redecide, decide every command again under the catalog it names; with --head-hash,
    --anchor and --signed-head, hold the journal to heads the registry published. Writes nothing
    to the database (read models that lag behind the journal are checked in private copies), so
    it runs on a copy, on a file the user may only read, or beside a live registry's writers."""
    anchors = merged_anchors(
        checked_anchors(head_hash, anchor), signed_anchors(signed_head, public_key)
    )
    catalogs = earlier_catalogs(catalog, redecide)
    with open_ledger(database, must_exist=True, project_at_close=False) as ledger:
        report = verify_with_progress(ledger, show_progress=not as_json)
        for problem in published_problems(ledger, head_hash, anchors):
            report.add("published", problem)
        for problem in ProjectRegistry(ledger).verify():
            report.add("projects", problem)
        if redecide:
            redecided = redecide_with_progress(ledger, not as_json, catalogs)
            report.redecided = redecided.entries
            if redecided.divergence is not None:
                report.add("decisions", redecided.divergence.describe())
    if as_json:
        render.json_document(report.to_record())
    else:
        render_report(report)
    if not report.ok:
        raise typer.Exit(EXIT_PROBLEMS_FOUND)
