"""`carbonex restore BACKUP`: put a backup in place of a SQLite ledger, verified before and after.

Copying a backup over a ledger by hand is unsafe: a -wal or -journal the old database left beside
it is applied by SQLite to the new file (mixing two histories, or corrupting it), a copy cut
short by a full disk leaves half a database under the ledger's name, nothing checks the backup,
and a running `carbonex serve` or `writer` carries on with the old file. Here BACKUP is copied
under a temporary name beside the ledger (read byte for byte: SQLite never opens BACKUP, so it is
not changed, even where it could be written, and a copy in a read-only place restores too), the
copy is checked (SQLite's integrity check, then everything `carbonex verify` checks: the bytes
checked are the bytes put in place), synced, and renamed into place: the ledger's name holds the
old file or the verified new one, never a mix. With --replace the old ledger must be idle: it is
locked with SQLite's exclusive lock, which an open connection (a service's, even idle) prevents,
its write-ahead log is copied into it and every side file removed, and the new file takes its
name under that lock. The restored ledger is verified again.

A backup of an older schema is refused: this Carbonex verifies only its own schema, and a restore
puts nothing in place it has not verified; upgrade a copy of the backup, then restore that. The
replaced ledger is gone (no copy is kept: `carbonex backup` it first). PostgreSQL restores with
its own tools. Exit codes: 0 restored and verified, 1 the backup does not verify, 2 bad usage or
an unusable file. After 1 or 2 every file is as it was, but for a refusal that comes once the old
ledger is locked (a connection opened at that moment, a file whose -wal held no ledger either, a
rename that failed): its write-ahead log is then copied into it, its contents as they were.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import stat
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any, BinaryIO, NamedTuple

import typer

from carbonex.cli import render
from carbonex.cli.exits import EXIT_PROBLEMS_FOUND, usage_error
from carbonex.cli.options import JsonOption
from carbonex.cli.verification import render_report, verify_with_progress
from carbonex.files import publish_new, sync_directory
from carbonex.ledger import DamagedLedgerError, Ledger, VerifyReport
from carbonex.store import StoreError
from carbonex.store.database import (
    SCHEMA_HEAD,
    SCHEMA_REVISIONS,
    is_postgres_url,
    redacted,
    resolve_database,
    sqlite_path,
    sqlite_schema_revision,
    target_problem,
)
from carbonex.store.sqlite import SIDE_FILE_SUFFIXES, is_busy

COPY_CHUNK_BYTES = 1_048_576
LOCK_WAIT_MS = 2_000
"""How long --replace waits for SQLite's exclusive lock on the ledger it replaces: a command
holds the file open for moments, while a running service holds it open for good."""
LOCK_POLL_S = 0.05
"""Pause between attempts at that lock: leaving WAL mode fails at once while another
connection is open (SQLite's busy handler does not wait for it)."""
INTEGRITY_PROBLEMS_MAX = 100
"""Problems SQLite's integrity check reports at most (its own default)."""
NEW_LEDGER_MODE = 0o600
"""Permissions of a restored ledger that replaces none (one that replaces a ledger takes its)."""
RESTORING_SUFFIX = ".restoring"
"""The copy is made as TARGET.restoring, created exclusively: one already there (another
restore's, or one that stopped midway) is left as it is and the restore refused."""
CONTENT_SIDE_FILE_SUFFIXES = ("-wal", "-journal")
"""Side files that change what SQLite reads from a database file: beside BACKUP, the file alone
is not the backup (a -shm only indexes a -wal)."""
POSTGRES_ADVICE = (
    "restore PostgreSQL with its own tools (pg_restore of a pg_dump --format=custom archive, or "
    "a base backup with its archived WAL); `carbonex verify --db URL` checks the restored database"
)
IN_USE_ADVICE = (
    "stop the `carbonex serve` or `carbonex writer` using it (and any command running on it), "
    "then restore again"
)
REPLACE_HELP = (
    "Replace the ledger at --db, which must not be in use (stop `carbonex serve` and `carbonex "
    "writer` first). The replaced ledger is gone: keep it first with `carbonex backup`."
)
TARGET_HELP = (
    "The SQLite ledger file to restore (must not exist, unless --replace). "
    "Default: $CARBONEX_DATABASE_URL, then carbonex.db."
)


class Checked(NamedTuple):
    """What checking a ledger file found: its report, its journal head and schema revision
    (None where they could not be read)."""

    report: VerifyReport
    head: dict[str, Any] | None
    revision: str | None


def restore(
    backup_file: Annotated[
        str, typer.Argument(metavar="BACKUP", help="The backup (e.g. made by `carbonex backup`).")
    ],
    database: Annotated[
        str | None,
        typer.Option("--db", metavar="PATH", show_default=False, help=TARGET_HELP),
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help=REPLACE_HELP)] = False,
    as_json: JsonOption = False,
) -> None:
    """Restore a SQLite ledger from a backup: verified, then renamed into place whole, then
    verified again. With --replace the ledger there is gone for good: `carbonex backup` it first."""
    target = _target_path(resolve_database(database))
    source = _source_path(backup_file)
    existing = _check_target(target, source, replace)
    temporary = _new_temporary(target, existing)
    try:
        _copy_backup(source, temporary, target)
        checked = _checked_copy(temporary, source, show_progress=not as_json)
        if not checked.report.ok:
            _render_refused(source, target, checked, as_json)
            raise typer.Exit(EXIT_PROBLEMS_FOUND)
        _put_in_place(temporary, target, existing)
    finally:
        _remove_temporary(temporary)
    restored = _verified(target, show_progress=not as_json)
    record = _record(target, source, restored, replaced=existing is not None)
    _render_restored(record, restored.report, as_json)
    if not restored.report.ok:
        raise typer.Exit(EXIT_PROBLEMS_FOUND)


def _target_path(target: str) -> Path:
    problem = target_problem(target)
    if problem is not None:
        usage_error(problem)
    if is_postgres_url(target):
        usage_error(f"{redacted(target)} is not a SQLite file: {POSTGRES_ADVICE}")
    path = sqlite_path(target)
    if path == ":memory:":
        usage_error("a ledger in memory cannot be restored: name a file")
    return Path(path)


def _source_path(backup_file: str) -> Path:
    """BACKUP, refused unless it is a file that holds the whole backup by itself."""
    if is_postgres_url(backup_file):
        usage_error(f"{redacted(backup_file)} is not a backup file: {POSTGRES_ADVICE}")
    source = Path(sqlite_path(backup_file))
    if not source.exists():
        usage_error(f"backup {source} does not exist")
    if not source.is_file():
        usage_error(f"backup {source} is not a file")
    _refuse_backup_side_files(source)
    return source


def _refuse_backup_side_files(source: Path) -> None:
    for suffix in CONTENT_SIDE_FILE_SUFFIXES:
        if os.path.lexists(f"{source}{suffix}"):
            usage_error(
                f"{source}{suffix} exists: SQLite would apply it when reading {source}, so the "
                "file alone is not the backup (it is in use, or was not closed cleanly); stop "
                "what uses it, or restore a backup made by `carbonex backup`"
            )


def _check_target(target: Path, source: Path, replace: bool) -> os.stat_result | None:
    """The status of the ledger to replace, or None where TARGET is a new file; refused before
    anything is written: a symbolic link (never written through), no regular file, the backup
    itself, a file without --replace or that holds no Carbonex ledger, or another database's
    side files beside a new TARGET (SQLite would apply them to the restored file)."""
    if not target.parent.is_dir():
        usage_error(f"directory {target.parent} does not exist")
    if target.is_symlink():
        usage_error(f"{target} is a symbolic link; a restore never writes through one")
    if not target.exists():
        _refuse_stale_side_files(target)
        return None
    if not target.is_file():
        usage_error(f"{target} is not a file; a restore replaces only a ledger file")
    if target.samefile(source):
        usage_error(f"{source} and {target} are the same file: restore a backup to another file")
    if not replace:
        usage_error(
            f"{target} exists; a restore replaces a ledger only with --replace (which deletes "
            "it: `carbonex backup` it first)"
        )
    if _file_revision(target) is None and not os.path.lexists(f"{target}-wal"):
        usage_error(_no_ledger(target))
    return target.stat()


def _no_ledger(target: Path) -> str:
    return f"{target} holds no Carbonex ledger; a restore replaces only a ledger"


def _refuse_stale_side_files(path: Path) -> None:
    for suffix in SIDE_FILE_SUFFIXES:
        if os.path.lexists(f"{path}{suffix}"):
            usage_error(
                f"{path}{suffix} exists, left by another database of that name: SQLite would "
                "apply it to the restored ledger; remove it first"
            )


def _file_revision(path: Path) -> str | None:
    """The schema revision of the ledger in a SQLite file, read from the file alone without
    locking it or making a side file (`immutable`), so that this refusal leaves every file as it
    was. Where a -wal is left beside it, the ledger may be in that log alone (a crash before its
    first checkpoint): it is read under the lock."""
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        connection = sqlite3.connect(uri, uri=True)
        try:
            return sqlite_schema_revision(connection)
        finally:
            connection.close()
    except sqlite3.Error as error:
        busy = "" if "not a database" in str(error) else f": if it is in use, {IN_USE_ADVICE}"
        usage_error(f"cannot read {path} as a SQLite database ({error}){busy}")


def _new_temporary(target: Path, existing: os.stat_result | None) -> Path:
    """TARGET.restoring, made exclusively (never another run's), private, and owned by the owner
    and group of the ledger it replaces: the service that wrote that ledger writes the restored
    one (a restore run as root would leave a file only root may write)."""
    temporary = Path(f"{target}{RESTORING_SUFFIX}")
    leftover = f"{temporary} exists (another restore running, or one that stopped midway: remove it"
    for suffix in SIDE_FILE_SUFFIXES:
        if os.path.lexists(f"{temporary}{suffix}"):
            usage_error(f"cannot restore to {target}: {leftover}{suffix} if no restore is running)")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    try:
        descriptor = os.open(temporary, flags, NEW_LEDGER_MODE)
    except FileExistsError:
        usage_error(f"cannot restore to {target}: {leftover} if no restore is running)")
    except OSError as error:
        usage_error(f"cannot write in {target.parent}: {error}")
    try:
        if existing is not None:
            _take_owner(descriptor, existing, target)
    except BaseException:
        os.close(descriptor)
        temporary.unlink()
        raise
    os.close(descriptor)
    return temporary


def _take_owner(descriptor: int, existing: os.stat_result, target: Path) -> None:
    made = os.fstat(descriptor)
    if (made.st_uid, made.st_gid) == (existing.st_uid, existing.st_gid):
        return
    try:
        os.fchown(descriptor, existing.st_uid, existing.st_gid)
    except PermissionError:
        usage_error(
            f"{target} belongs to user {existing.st_uid} and group {existing.st_gid}, which this "
            "user cannot give the restored file: restore as its owner, or as root"
        )


def _copy_file(source: BinaryIO, destination: BinaryIO) -> None:
    shutil.copyfileobj(source, destination, COPY_CHUNK_BYTES)


def _copy_backup(source: Path, temporary: Path, target: Path) -> None:
    """BACKUP's bytes into the temporary file, synced. A backup that changed while it was read
    (something writes it) is refused: the copy could hold two states of it."""
    try:
        with open(source, "rb") as read, open(temporary, "r+b") as written:
            before = os.fstat(read.fileno())
            _copy_file(read, written)
            after = os.fstat(read.fileno())
            written.flush()
            os.fsync(written.fileno())
            copied_bytes = written.tell()
    except OSError as error:
        usage_error(f"cannot copy {source} beside {target}: {error} (nothing was changed)")
    unchanged = (before.st_size, before.st_mtime_ns) == (after.st_size, after.st_mtime_ns)
    if not unchanged or copied_bytes != after.st_size:
        usage_error(f"{source} changed while it was read: something is writing to it")
    _refuse_backup_side_files(source)


def _checked_copy(temporary: Path, source: Path, show_progress: bool) -> Checked:
    """The copy checked by SQLite's integrity check, then, if it holds a ledger of this schema,
    by everything `carbonex verify` checks. No ledger, or another revision, is refused (exit 2):
    this Carbonex verifies only its own schema."""
    revision, damage = _examined_copy(temporary, source)
    if damage:
        report = VerifyReport()
        for problem in damage:
            report.add("sqlite_integrity", problem)
        return Checked(report, None, None)
    if revision is None:
        usage_error(f"backup {source} holds no Carbonex ledger")
    if revision not in SCHEMA_REVISIONS:
        usage_error(
            f"backup {source} holds a ledger of schema revision {revision}, which this version "
            f"of Carbonex does not know (it knows up to {SCHEMA_HEAD}): restore it with the "
            "Carbonex that wrote it"
        )
    if revision != SCHEMA_HEAD:
        usage_error(
            f"backup {source} holds a ledger of schema revision {revision}; this Carbonex "
            f"verifies revision {SCHEMA_HEAD}, and restores only what it verified: upgrade a "
            "copy of the backup (`carbonex upgrade --db COPY`), then restore the copy"
        )
    return _verified(temporary, show_progress)


def _examined_copy(temporary: Path, source: Path) -> tuple[str | None, list[str]]:
    """The copy's schema revision and what SQLite's integrity check finds wrong in it. A copy in
    WAL mode (a ledger file copied by hand) is first put in rollback-journal mode, as `carbonex
    backup` writes them: verifying it makes no side file, and the restored file is whole."""
    connection = sqlite3.connect(
        f"{temporary.resolve().as_uri()}?mode=rw", uri=True, isolation_level=None
    )
    try:
        if connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
            connection.execute("PRAGMA journal_mode = DELETE")
        rows = connection.execute(f"PRAGMA integrity_check({INTEGRITY_PROBLEMS_MAX})")
        damage = [str(row[0]) for row in rows.fetchall() if row[0] != "ok"]
        return (None if damage else sqlite_schema_revision(connection)), damage
    except sqlite3.DatabaseError as error:
        if "not a database" in str(error):
            usage_error(f"backup {source} is not a SQLite database")
        return None, [f"SQLite cannot read it: {error}"]
    finally:
        connection.close()


def _verified(path: Path, show_progress: bool) -> Checked:
    """`carbonex verify`'s checks of the ledger file at `path` (of this schema: opening it
    refuses any other), and its journal head. Nothing is projected at the close."""
    try:
        ledger = Ledger.open(str(path), must_exist=True)
    except StoreError as error:
        usage_error(str(error))
    try:
        report = verify_with_progress(ledger, show_progress=show_progress)
        return Checked(report, ledger.head(), SCHEMA_HEAD)
    except (sqlite3.Error, DamagedLedgerError) as error:
        report = VerifyReport()
        report.add("sqlite", f"the ledger cannot be read: {error}")
        return Checked(report, None, SCHEMA_HEAD)
    finally:
        ledger.close(project=False)


def _put_in_place(temporary: Path, target: Path, existing: os.stat_result | None) -> None:
    """Give the verified copy TARGET's name: as a new file, never over one made meanwhile; or
    over the ledger it replaces (with its permissions), under that ledger's exclusive lock, its
    side files removed: with no connection left in WAL mode, any there is stale."""
    if existing is None:
        _refuse_stale_side_files(target)
        try:
            publish_new(temporary, target)
        except FileExistsError:
            usage_error(f"{target} was made while the backup was checked; it was left as it is")
        except OSError as error:
            usage_error(f"cannot write {target}: {error}")
        return
    with _locked_ledger(target, existing):
        try:
            os.chmod(temporary, stat.S_IMODE(existing.st_mode))
            for suffix in SIDE_FILE_SUFFIXES:
                Path(f"{target}{suffix}").unlink(missing_ok=True)
            os.replace(temporary, target)
            sync_directory(target.parent)
        except OSError as error:
            usage_error(f"cannot replace {target}: {error}")


@contextmanager
def _locked_ledger(target: Path, existing: os.stat_result) -> Iterator[None]:
    """The ledger at `target` held under SQLite's exclusive lock: no other connection may read
    or write it, and none may even hold it open. Leaving WAL mode, which comes first, waits for
    every other connection to close (a running service's never do: it is refused) and copies
    the write-ahead log into the file, removing it; the lock then keeps any connection out until
    the restored file has the name. Python never opens the file meanwhile: closing any
    descriptor of it would drop the process's POSIX locks, SQLite's included."""
    uri = f"{target.resolve().as_uri()}?mode=rw"
    try:
        connection = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=LOCK_POLL_S)
    except sqlite3.Error as error:
        usage_error(f"cannot open {target}: {error}")
    try:
        try:
            _lock_exclusively(connection)
            revision = sqlite_schema_revision(connection)
            journal_mode = connection.execute("PRAGMA journal_mode").fetchone()[0]
        except sqlite3.Error as error:
            if is_busy(error):
                usage_error(f"{target} is in use ({error}): {IN_USE_ADVICE}")
            usage_error(f"cannot lock {target}: {error}")
        if journal_mode != "delete":
            usage_error(f"{target} is in use (opened while it was locked): {IN_USE_ADVICE}")
        if revision is None:
            usage_error(_no_ledger(target))
        if not os.path.samestat(os.stat(target), existing):
            usage_error(f"{target} was replaced since it was checked: restore again")
        yield
    finally:
        connection.close()  # the transaction wrote nothing: it ends without a journal


def _lock_exclusively(connection: sqlite3.Connection) -> None:
    """Leave WAL mode, then BEGIN EXCLUSIVE, trying again for LOCK_WAIT_MS while another
    connection is open or writing."""
    deadline = time.monotonic() + LOCK_WAIT_MS / 1000
    while True:
        try:
            connection.execute("PRAGMA journal_mode = DELETE")
            connection.execute("BEGIN EXCLUSIVE")
            return
        except sqlite3.OperationalError as error:
            if not is_busy(error) or time.monotonic() >= deadline:
                raise
        time.sleep(LOCK_POLL_S)


def _remove_temporary(temporary: Path) -> None:
    """Remove the temporary copy, if it did not become the ledger, and any side file SQLite made
    beside it (there was none before it was made)."""
    for path in (temporary, *(Path(f"{temporary}{suffix}") for suffix in SIDE_FILE_SUFFIXES)):
        path.unlink(missing_ok=True)


def _record(
    restored: Path | None, source: Path, checked: Checked, replaced: bool
) -> dict[str, Any]:
    """The JSON document of a restore (`restored` None: the backup was refused)."""
    head = checked.head
    return {
        "restored": None if restored is None else str(restored),
        "from": str(source),
        "journal_seq": None if head is None else head["seq"],
        "journal_head_hash": None if head is None else head["entry_hash"],
        "schema_revision": checked.revision,
        "replaced": replaced,
        "verified": checked.report.ok,
        "problems": checked.report.to_record()["problems"],
    }


def _render_refused(source: Path, target: Path, checked: Checked, as_json: bool) -> None:
    if as_json:
        render.json_document(_record(None, source, checked, replaced=False))
        return
    render.line(
        f"Not restored: backup {source} does not verify; {target} was left as it was",
        style="red bold",
    )
    render_report(checked.report)


def _render_restored(record: dict[str, Any], report: VerifyReport, as_json: bool) -> None:
    if as_json:
        render.json_document(record)
        return
    head = (
        "its journal cannot be read"
        if record["journal_seq"] is None
        else f"journal at entry {record['journal_seq']:,} ({record['journal_head_hash']})"
    )
    render.line(
        f"Restored {record['restored']} from {record['from']}: {head}, schema revision "
        f"{record['schema_revision']}",
        style="green bold" if report.ok else "red bold",
    )
    if record["replaced"]:
        render.line(
            f"The ledger that was at {record['restored']} is gone (a restore keeps no copy: "
            "`carbonex backup` a ledger before replacing it)",
            style="yellow",
        )
    render_report(report)
