"""Importing a Verra VCU export (registry administrators), with a progress bar.

The page is streamed. First every row is checked (in a worker thread: it reads the file and
touches no database), and the progress bar follows the lines checked. A bad row then refuses
the file and nothing is imported, as with `carbonex import verra`, unless bad rows are skipped.
Then the REST API's own import runs (`POST /api/v1/imports/verra`: the same authorization,
`import_verra`, audit), on the event loop's thread and so on the worker's one ledger connection:
without skipping, all rows in one transaction, whose step the bar shows as under way until it
commits (nothing can be sent from inside the transaction); then the result. Command ids come
from the rows, so importing the same file again changes nothing."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request, UploadFile
from fastapi.responses import HTMLResponse, StreamingResponse
from starlette.datastructures import UploadFile as FormFile

from carbonex.dates import latest_day
from carbonex.imports import verra
from carbonex.imports.pipeline import checked
from carbonex.imports.report import ImportRefusedError, RowProblem, RowProblems
from carbonex.service.deps import Service, ServiceDep
from carbonex.service.pages.common import (
    FORM_FIELDS_MAX,
    SECURITY_HEADERS,
    PageError,
    SignedInDep,
    Viewer,
    check_csrf,
    idempotency_key,
    render,
    templates,
)
from carbonex.service.problems import Problem
from carbonex.service.routes import imports as imports_api

router = APIRouter(prefix="/import")
IMPORT_FILE_BYTES_MAX = imports_api.IMPORT_BYTES_MAX
UPLOAD_READ_BYTES = imports_api.CHUNK_BYTES
PROBLEMS_SHOWN_MAX = imports_api.PROBLEMS_SHOWN_MAX
PROGRESS_INTERVAL_S = 0.25
STREAM_MARKER = "<!--import-progress-->"
HTML_MEDIA_TYPE = "text/html; charset=utf-8"


@dataclass(slots=True)
class Upload:
    """An uploaded file being imported: where it is, its size in lines, how far checking got."""

    path: Path
    name: str
    skip_bad_rows: bool
    lines: int = 0
    lines_checked: int = 0
    rows: int = 0
    problems: RowProblems = field(default_factory=RowProblems)


def _administrator(viewer: Viewer) -> None:
    if not viewer.may_import:
        raise PageError(403, "E_FORBIDDEN", "Imports are for registry administrators.")


@router.get("")
async def import_form(request: Request, viewer: SignedInDep) -> HTMLResponse:
    _administrator(viewer)
    context = {"nav": "import", "bytes_max": IMPORT_FILE_BYTES_MAX}
    return render(request, viewer, "import.html", context)


async def _save(upload: FormFile, path: Path) -> int:
    """Write the upload to `path`; its number of lines."""
    size, lines, last = 0, 0, b"\n"
    with path.open("wb") as handle:
        while chunk := await upload.read(UPLOAD_READ_BYTES):
            size += len(chunk)
            if size > IMPORT_FILE_BYTES_MAX:
                too_large = f"At most {IMPORT_FILE_BYTES_MAX:,} bytes."
                raise PageError(413, "E_FILE_TOO_LARGE", too_large)
            lines, last = lines + chunk.count(b"\n"), chunk[-1:]
            handle.write(chunk)
    return lines if last == b"\n" else lines + 1


def _check(upload: Upload, latest: dt.date) -> None:
    """Read every row (in a worker thread: file work only), counting rows and problems: each
    row checked as the import will (`pipeline.checked`: a date yet to come after `latest`, the
    latest day begun anywhere, is a bad row too)."""
    for planned in verra.plan_file(upload.path):
        result = checked(planned, latest)
        upload.rows += 1
        upload.lines_checked = result.line
        if isinstance(result, RowProblem):
            upload.problems.add(result)


def _fragment(name: str, **context: Any) -> str:
    return templates.env.get_template(name).render(context)


def _step(done: int, total: int, label: str) -> str:
    return _fragment("_import_progress.html", done=done, total=max(total, 1), label=label)


async def _checking(upload: Upload, now: dt.datetime) -> AsyncIterator[str]:
    """Progress fragments while the rows are checked (as an import at `now` would check them);
    raises ImportRefusedError."""
    task = asyncio.create_task(asyncio.to_thread(_check, upload, latest_day(now)))
    shown = -1
    while not task.done():
        await asyncio.wait({task}, timeout=PROGRESS_INTERVAL_S)
        if upload.lines_checked != shown:
            shown = upload.lines_checked
            yield _step(shown, upload.lines, f"checked {shown:,} of {upload.lines:,} lines")
    task.result()


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the page reports: whether the rows were imported, the counts, and the problems."""

    committed: bool
    counts: dict[str, Any]
    problems: list[dict[str, Any]]
    """The first PROBLEMS_SHOWN_MAX of them."""
    problems_total: int


def _refused(upload: Upload, problems: list[dict[str, Any]], total: int | None = None) -> Outcome:
    shown = problems[:PROBLEMS_SHOWN_MAX]
    return Outcome(
        False, {"rows_read": upload.rows}, shown, len(problems) if total is None else total
    )


def _row_problems(upload: Upload) -> Outcome:
    shown = [problem.to_record() for problem in upload.problems.kept[:PROBLEMS_SHOWN_MAX]]
    return _refused(upload, shown, upload.problems.total)


def _problem_rows(upload: Upload, problem: Problem) -> Outcome:
    rows = [{"line": f.get("line"), "reason": f.get("reason") or f.get("message")}
            for f in problem.failures]  # fmt: skip
    if not rows:
        return _refused(upload, [{"line": None, "reason": f"{problem.code}: {problem.detail}"}])
    return _refused(upload, rows, problem.extensions.get("failures_total", len(rows)))


async def _import(service: Service, viewer: Viewer, upload: Upload, key: str) -> Outcome:
    """The API's own import (authorization, one transaction unless skipping, audit)."""
    with upload.path.open("rb") as handle:
        file = UploadFile(handle, filename=upload.name)
        try:
            record = await imports_api.import_export(
                "verra", file, key, service, viewer.principal, upload.skip_bad_rows
            )
        except Problem as problem:
            return _problem_rows(upload, problem)
    return Outcome(True, record, record["problems"], record["problems_total"])


async def _run(
    service: Service, viewer: Viewer, upload: Upload, key: str, result: list[Outcome]
) -> AsyncIterator[str]:
    """Check, then import; the outcome is left in `result`."""
    try:
        async for step in _checking(upload, service.ledger.clock()):
            yield step
    except ImportRefusedError as error:
        reason = str(error).replace(str(upload.path), upload.name)  # no server paths shown
        result.append(_refused(upload, [{"line": 1, "reason": reason}]))
        return
    if upload.problems.total and not upload.skip_bad_rows:
        result.append(_row_problems(upload))
        return
    yield _step(upload.lines, upload.lines, f"importing {upload.rows:,} rows…")
    await asyncio.sleep(0)
    outcome = await _import(service, viewer, upload, key)
    result.append(outcome)
    if outcome.committed:
        yield _step(upload.lines, upload.lines, f"{upload.rows:,} rows done")


def _result(outcome: Outcome) -> str:
    return _fragment(
        "_import_result.html",
        outcome=outcome,
        counts=outcome.counts,
        problems=outcome.problems,
    )


async def _stream(
    head: str, tail: str, steps: AsyncIterator[str], result: list[Outcome], directory: Path
) -> AsyncIterator[str]:
    try:
        yield head
        async for step in steps:
            yield step
        yield _result(result[0])
        yield tail
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _page_parts(request: Request, viewer: Viewer, upload: Upload) -> tuple[str, str]:
    page = {"request": request, "viewer": viewer, "path": request.url.path, "nav": "import",
            "source": upload.name, "lines": upload.lines}  # fmt: skip
    html = templates.env.get_template("import_run.html").render(page)
    head, _, tail = html.partition(STREAM_MARKER)
    return head, tail


async def _received(request: Request, viewer: Viewer, directory: Path) -> tuple[Upload, str]:
    """The checked form's upload, saved under `directory`, and its idempotency key."""
    form = await request.form(max_files=1, max_fields=FORM_FIELDS_MAX)
    check_csrf(viewer, form)
    _administrator(viewer)
    key = idempotency_key(form)
    file = form.get("file")
    if not isinstance(file, FormFile) or not file.filename:
        raise PageError(422, "E_FILE_MISSING", "Choose a Verra CSV export to import.")
    problem = imports_api.file_name_problem(file.filename)
    if problem is not None:
        raise PageError(422, "E_FILE_NAME_INVALID", f"{problem[0].upper()}{problem[1:]}.")
    skip = form.get("skip_bad_rows") == "on"
    upload = Upload(directory / "upload.csv", file.filename, skip)  # bounded by the check above
    upload.lines = await _save(file, upload.path)
    return upload, key


@router.post("")
async def run_import(request: Request, service: ServiceDep, viewer: SignedInDep) -> Any:
    directory = Path(tempfile.mkdtemp(prefix="carbonex-import-"))
    try:
        upload, key = await _received(request, viewer, directory)
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
    head, tail = _page_parts(request, viewer, upload)
    result: list[Outcome] = []
    steps = _run(service, viewer, upload, key, result)
    stream = _stream(head, tail, steps, result, directory)
    return StreamingResponse(stream, media_type=HTML_MEDIA_TYPE, headers=SECURITY_HEADERS)
