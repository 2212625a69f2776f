"""Imports of public registry exports (registry administrators): the uploaded file is imported
exactly as `carbonex import` does — all or nothing unless bad rows are skipped; a re-import of
the same file changes nothing.

The rows and the audit row commit in one transaction (the importer's joins the route's), whether
bad rows are skipped or not."""

from __future__ import annotations

import hashlib
import tempfile
import unicodedata
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, UploadFile
from fastapi import Path as PathParam

from carbonex.imports.gold_standard import import_gold_standard
from carbonex.imports.report import ImportRefusedError, ImportReport
from carbonex.imports.verra import import_verra
from carbonex.ledger import Transaction
from carbonex.service import audit, commands, idempotency
from carbonex.service.deps import IdempotencyKey, Service, ServiceDep, WriterDep
from carbonex.service.identity import Principal, Role
from carbonex.service.problems import Problem, denied
from carbonex.text import refused_character

router = APIRouter(prefix="/imports", tags=["imports"])
IMPORT_BYTES_MAX = 64 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
PROBLEMS_SHOWN_MAX = 50
"""Row problems an import's answer lists (the API's and the import page's), with their total: a
file of a million bad lines would otherwise answer with a million of them (361 MB), and the
first few say what is wrong with the file."""
IMPORTERS = dict(zip(idempotency.IMPORT_SOURCES, (import_verra, import_gold_standard), strict=True))
IMPORT_ACTIONS = idempotency.IMPORT_ACTIONS
FILE_NAME_LENGTH_MAX = 255
"""Characters of an uploaded file's name: common file systems (ext4, NTFS, APFS) allow at most
255, so no real file has a longer name, and pages and the audit log need not hold one."""
JOINERS = frozenset("\u200c\u200d")
"""The format characters a real name holds: ZERO WIDTH NON-JOINER is part of Persian spelling,
ZERO WIDTH JOINER of emoji sequences. They join or part neighbours; they reorder nothing."""


def file_name_problem(name: str) -> str | None:
    """Why an uploaded file's name is refused, or None. A name holds nothing free text may not
    (`carbonex.text.REFUSED_IN_TEXT`: a control character such as NUL, ESC or a line break names
    no real file and has no place in pages and the audit log; after U+202E RIGHT-TO-LEFT
    OVERRIDE, "fdp.exe" reads "exe.pdf"), and, stricter than other text, no format character
    but the joiners: a zero-width space or a byte order mark is invisible, and two names that
    look the same in pages and the audit log would be different files. The message never
    quotes the name, which may be huge."""
    if len(name) > FILE_NAME_LENGTH_MAX:
        return f"the file name is {len(name):,} characters long; at most {FILE_NAME_LENGTH_MAX}"
    for position, character in enumerate(name, start=1):
        refused = refused_character(character)
        if refused is not None:
            kind = refused.kind
        elif unicodedata.category(character) == "Cf" and character not in JOINERS:
            kind = "a format character"
        else:
            continue
        return f"the file name holds {kind} (U+{ord(character):04X}) at position {position}"
    return None


async def _spool(upload: UploadFile, directory: str) -> tuple[Path, str]:
    """The upload on disk, refused past IMPORT_BYTES_MAX, and its SHA-256 (what the file is,
    for the idempotency key)."""
    path = Path(directory) / "export.csv"
    size, digest = 0, hashlib.sha256()
    with path.open("wb") as handle:
        while chunk := await upload.read(CHUNK_BYTES):
            size += len(chunk)
            if size > IMPORT_BYTES_MAX:
                raise Problem(413, "E_FILE_TOO_LARGE", f"at most {IMPORT_BYTES_MAX:,} bytes")
            handle.write(chunk)
            digest.update(chunk)
    return path, digest.hexdigest()


@router.post("/{source}", status_code=201)
async def import_export(
    source: Annotated[str, PathParam(pattern="^(verra|gold-standard)$")],
    file: UploadFile,
    key: IdempotencyKey,
    service: ServiceDep,
    principal: WriterDep,
    skip_bad_rows: Annotated[bool, Query()] = False,
) -> dict[str, Any]:
    """Import a Verra VCU export or a Gold Standard issuance/retirement export (CSV). The same
    key again with the same file returns the first outcome, with another file is refused."""
    if not principal.has(Role.REGISTRY_ADMINISTRATOR):
        raise denied("registry administrators only")
    name = file.filename or ""
    problem = file_name_problem(name)
    if problem is not None:
        raise Problem(422, "E_FILE_NAME_INVALID", problem)
    with tempfile.TemporaryDirectory(prefix="carbonex-upload-") as directory:
        path, sha256 = await _spool(file, directory)
        request = {"source": source, "file": name, "sha256": sha256, "skip_bad_rows": skip_bad_rows}
        try:
            record = _import(service, principal, path, request, key)
        except ImportRefusedError as error:
            raise Problem(422, "E_IMPORT_REFUSED", str(error).replace(directory, "")) from error
    if not record["committed"]:
        raise refusal(record)
    return record


def shown(report: ImportReport) -> dict[str, Any]:
    """The report's record with its first PROBLEMS_SHOWN_MAX problems and their total."""
    record: dict[str, Any] = report.to_record()
    return record | {"problems": record["problems"][:PROBLEMS_SHOWN_MAX]}


def refusal(record: dict[str, Any]) -> Problem:
    rows = [{"code": "E_IMPORT_ROW", **problem} for problem in record["problems"]]
    total = record["problems_total"]
    detail = f"the file was refused; nothing imported: {total:,} rows have problems"
    if total > len(rows):
        detail += f" (the first {len(rows)} are listed)"
    return Problem(422, "E_IMPORT_REFUSED", detail, rows, extensions={"failures_total": total})


def _import(
    service: Service, principal: Principal, path: Path, request: dict[str, Any], key: str
) -> dict[str, Any]:
    """The import's outcome (`shown`) and its audit row, which keeps the request and the
    outcome, in one transaction; or the outcome the key had (audit rows written before they
    kept the request count as another request)."""
    importer = IMPORTERS[request["source"]]

    def work(tx: Transaction) -> tuple[dict[str, Any] | Problem, bool]:
        earlier = idempotency.audited_use(tx.store, principal, IMPORT_ACTIONS, key)
        if isinstance(earlier, idempotency.Audited):
            same = earlier.detail.get("request") == request
            return (earlier.detail["outcome"] if same else idempotency.key_reused()), False
        if earlier is not None:
            return earlier, False
        report = importer(service.ledger, path, request["skip_bad_rows"])
        record = shown(report) | {"source": request["file"]}
        if report.committed:
            detail = {"idempotency_key": key, "rows": report.rows_read, "file": request["file"],
                      "request": request, "outcome": record}  # fmt: skip
            audit.record(tx.store, tx.now, principal, f"import_{request['source']}",
                         request["file"], detail)  # fmt: skip
        return record, report.committed

    return commands.transact(service, work)
