"""Imports of public registry exports (registry administrators): the uploaded file is imported
exactly as `carbonex import` does — all or nothing unless bad rows are skipped; a re-import of
the same file changes nothing."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query, UploadFile
from fastapi import Path as PathParam

from carbonex.imports.gold_standard import import_gold_standard
from carbonex.imports.report import ImportRefusedError
from carbonex.imports.verra import import_verra
from carbonex.ledger import Transaction
from carbonex.service import audit
from carbonex.service.deps import IdempotencyKey, ServiceDep, WriterDep
from carbonex.service.identity import Role
from carbonex.service.problems import Problem, denied

router = APIRouter(prefix="/imports", tags=["imports"])
IMPORT_BYTES_MAX = 64 * 1024 * 1024
CHUNK_BYTES = 1024 * 1024
IMPORTERS = {"verra": import_verra, "gold-standard": import_gold_standard}


async def _spool(upload: UploadFile, directory: str) -> Path:
    """The upload on disk, refused past IMPORT_BYTES_MAX."""
    path = Path(directory) / "export.csv"
    size = 0
    with path.open("wb") as handle:
        while chunk := await upload.read(CHUNK_BYTES):
            size += len(chunk)
            if size > IMPORT_BYTES_MAX:
                raise Problem(413, "E_FILE_TOO_LARGE", f"at most {IMPORT_BYTES_MAX:,} bytes")
            handle.write(chunk)
    return path


@router.post("/{source}", status_code=201)
async def import_export(
    source: Annotated[str, PathParam(pattern="^(verra|gold-standard)$")],
    file: UploadFile,
    key: IdempotencyKey,
    service: ServiceDep,
    principal: WriterDep,
    skip_bad_rows: Annotated[bool, Query()] = False,
) -> dict[str, Any]:
    """Import a Verra VCU export or a Gold Standard issuance/retirement export (CSV)."""
    if not principal.has(Role.REGISTRY_ADMINISTRATOR):
        raise denied("registry administrators only")
    with tempfile.TemporaryDirectory(prefix="carbonex-upload-") as directory:
        path = await _spool(file, directory)
        try:
            report = IMPORTERS[source](service.ledger, path, skip_bad_rows)
        except ImportRefusedError as error:
            raise Problem(422, "E_IMPORT_REFUSED", str(error).replace(directory, "")) from error
    record: dict[str, Any] = report.to_record() | {"source": file.filename or ""}
    if not report.committed:
        rows = [{"code": "E_IMPORT_ROW", **p} for p in record.get("problems", [])]
        raise Problem(422, "E_IMPORT_REFUSED", "the file was refused; nothing imported", rows)

    def work(tx: Transaction) -> tuple[None, bool]:
        detail = {"idempotency_key": key, "rows": report.rows_read, "file": file.filename or ""}
        audit.record(tx.store, tx.now, principal, f"import_{source}", file.filename or "", detail)
        return None, True

    service.ledger.transact(work)
    return record
