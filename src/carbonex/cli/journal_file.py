"""`carbonex journal-export FILE` and `carbonex journal-check FILE`: the journal as a file an
auditor checks on their own machine, without the operator's database (see
`carbonex.ledger.journal_export`). Exit codes: 0 written / the file checks out, 1 the file does
not check out, 2 bad usage, a file that cannot be written, or a journal that cannot be exported
(a stored payload that is not UTF-8)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Annotated, Any, BinaryIO

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

from carbonex.catalog import Catalog, default_catalog
from carbonex.cli import render
from carbonex.cli.exits import EXIT_PROBLEMS_FOUND, usage_error
from carbonex.cli.heads import PublicKeyOption, SignedHeadOption, merged_anchors, signed_anchors
from carbonex.cli.options import DatabaseOption, JsonOption
from carbonex.cli.session import open_ledger
from carbonex.cli.verification import (
    AnchorOption,
    CatalogOption,
    HeadHashOption,
    RedecideOption,
    checked_anchors,
    earlier_catalogs,
    entries_progress,
)
from carbonex.files import publish_new
from carbonex.ledger import Ledger, queries, redecide_entries
from carbonex.ledger.journal_export import (
    EXPORT_LINE_BYTES_MAX,
    TOTAL_NAMES,
    ExportCheck,
    UnexportableError,
    check_export,
    export_lines,
    recorded_entries,
)
from carbonex.store import SqlStore

FileArgument = Annotated[Path, typer.Argument(metavar="FILE")]
PROGRESS_EVERY_ENTRIES = 10_000
UNHELD_NOTE = (
    "Note: no --head-hash, --anchor or --signed-head: the chain only proves the file consistent "
    "with itself; a file cut short, or rewritten with every hash recomputed, checks out as well."
)


def journal_export(file: FileArgument, database: DatabaseOption = None) -> None:
    """Write every journal entry to FILE (JSON lines; a new file, written whole or not at all)."""
    if file.exists():
        usage_error(f"{file} exists; an export never overwrites a file")
    if not file.parent.is_dir():
        usage_error(f"directory {file.parent} does not exist")
    partial = file.with_name(file.name + ".partial")
    with open_ledger(database, must_exist=True) as ledger:
        out = _create_partial(file, partial)
        try:
            with out:
                head, entries = _export_to(ledger, out)
            publish_new(partial, file)  # a FILE made meanwhile is not replaced
        except BaseException as error:
            partial.unlink(missing_ok=True)  # this run made it; FILE stays absent
            if isinstance(error, OSError):
                usage_error(f"cannot write {file}: {error}")
            if isinstance(error, UnexportableError):
                usage_error(f"cannot export the journal: {error}")
            raise
    render.line(
        f"Exported {entries:,} entries to {file}; head {head['entry_hash']}", style="green bold"
    )


def _create_partial(file: Path, partial: Path) -> BinaryIO:
    """PARTIAL, made by this run (exclusively): a file of that name already there is someone
    else's (an export still running, or one stopped midway), never removed or overwritten."""
    try:
        return open(partial, "xb")
    except FileExistsError:
        usage_error(
            f"cannot write {file}: {partial} exists (another export writing, or one that "
            "stopped midway: remove it if no export is running)"
        )
    except OSError as error:
        usage_error(f"cannot write {file}: {error}")


def _export_to(ledger: Ledger, out: BinaryIO) -> tuple[dict[str, Any], int]:
    def export(store: SqlStore) -> tuple[dict[str, Any], int]:
        out.seek(0)  # a read tried again on a new connection starts the file again
        out.truncate()
        head = queries.head(store)  # the same snapshot as the lines
        # Closed here, on any way out: left to the collector, it would close its cursor after
        # the connection, and print an ignored exception after the command's own message.
        with closing(export_lines(store)) as lines:
            return head, _write(lines, out, head["seq"])

    head, entries = ledger.read(export)
    out.flush()
    os.fsync(out.fileno())
    return head, entries


def _write(lines: Iterator[bytes], out: BinaryIO, total: int) -> int:
    written = 0
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=render.stderr_console(), transient=True) as progress:
        task = progress.add_task("Exporting the journal", total=total)
        for line in lines:
            out.write(line)
            written += 1
            if written % PROGRESS_EVERY_ENTRIES == 0:
                progress.update(task, completed=written)
    return written


def journal_check(
    file: FileArgument,
    head_hash: HeadHashOption = None,
    anchor: AnchorOption = None,
    signed_head: SignedHeadOption = None,
    public_key: PublicKeyOption = None,
    as_json: JsonOption = False,
    redecide: RedecideOption = False,
    catalog: CatalogOption = None,
) -> None:
    """Check an exported journal alone: the hash chain from genesis, the published head, entries
    recorded earlier, and the totals per unit type its effects add up to; with --redecide, decide
    every command again under the catalog it names (this version's, or one given)."""
    anchors = merged_anchors(
        checked_anchors(head_hash, anchor), signed_anchors(signed_head, public_key)
    )
    catalogs = earlier_catalogs(catalog, redecide)
    if not file.is_file():
        usage_error(f"{file} is not a file")
    with open(file, "rb") as lines:
        check = check_export(_bounded(lines), head_hash, anchors)
    if redecide:
        _redecide(file, check, not as_json, catalogs)
    held = head_hash is not None or bool(anchors)
    if as_json:
        render.json_document(check.to_record() | {"held_to_published_heads": held})
    else:
        _render(check)
        if not held:
            render.line(UNHELD_NOTE, style="yellow")
    if not check.ok:
        raise typer.Exit(EXIT_PROBLEMS_FOUND)


def _redecide(file: Path, check: ExportCheck, show_progress: bool, catalogs: list[Catalog]) -> None:
    """Decide the file's commands again on a scratch ledger (a second pass over the file)."""
    with open(file, "rb") as lines, entries_progress(show_progress, "Decided again") as advance:
        report = redecide_entries(
            recorded_entries(_bounded(lines)),
            default_catalog(),
            None if advance is None else lambda entries: advance(entries, check.entries),
            earlier_catalogs=[*check.catalogs_held.values(), *catalogs],
        )
    check.redecided = report.entries
    if report.divergence is not None:
        check.add(f"decisions: {report.divergence.describe()}")


def _bounded(stream: BinaryIO) -> Iterator[bytes]:
    """The file's lines, each read at most EXPORT_LINE_BYTES_MAX + 1 bytes at a time: a longer
    line comes out cut (the check refuses it) and its rest is skipped, so a hostile file is never
    held in memory whole."""
    while line := stream.readline(EXPORT_LINE_BYTES_MAX + 1):
        if len(line) > EXPORT_LINE_BYTES_MAX and not line.endswith(b"\n"):
            while (rest := stream.readline(EXPORT_LINE_BYTES_MAX + 1)) and not rest.endswith(b"\n"):
                pass
        yield line


def _render(check: ExportCheck) -> None:
    summary = f"{check.entries:,} entries, head {check.head_seq:,} ({check.head_hash})"
    if check.ok:
        decided = "" if check.redecided is None else "; every command decided again as recorded"
        render.line(f"OK: {summary}; the chain is unbroken{decided}", style="green bold")
    else:
        render.line(f"FAILED: {len(check.problems)} problems in {summary}", style="red bold")
        for problem in check.problems:
            render.line(f"  {problem}")
    rows = [{"unit_type": unit_type} | totals for unit_type, totals in check.totals.items()]
    columns = [("unit_type", "unit type")] + [(name, name) for name in TOTAL_NAMES]
    render.print_table(render.records_table("Totals replayed from the file", columns, rows))
    for digest, named in check.catalogs.items():
        render.line(
            f"Decided under catalog {digest or '(none named)'}: {named.entries:,} entries, "
            f"the first {named.first_seq:,}"
        )
    if check.catalogs_unlisted_entries:
        render.line(f"… and {check.catalogs_unlisted_entries:,} entries under further catalogs")
