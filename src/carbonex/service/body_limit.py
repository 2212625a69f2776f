"""A size limit on request bodies, enforced as they arrive, before anybody reads them.

Without one, a body of any size was read whole before authentication (the NUL check reads JSON
bodies) and an upload was spooled to disk whole before the import's own limit was checked. A body
whose Content-Length passes the limit is refused without reading a byte of it; a body sent
without one (chunked) is read until it passes the limit and no further. Either way the answer is
413 E_REQUEST_TOO_LARGE, the connection is closed, and no route runs past reading its body, so
nothing is written.

Pure ASGI middleware: it wraps `receive`, so nothing is buffered on the way.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from carbonex.service.problems import MEDIA_TYPE, Problem
from carbonex.service.routes.imports import IMPORT_BYTES_MAX

REQUEST_BODY_BYTES_MAX = 256 * 1024
"""Bytes of a request body other than an upload. The largest legitimate one is a review naming
ACTIONS_PER_REVIEW_MAX (1,000) action ids of up to 128 ASCII characters: about 131 KB (a
transfer naming SERIAL_RANGES_PER_REQUEST_MAX serial ranges of 19-digit serials is about 42 KB,
the longest texts 1,000 characters). Twice that leaves room for pretty-printed JSON."""
MULTIPART_OVERHEAD_BYTES_MAX = 64 * 1024
"""Bytes of an upload's body besides the file: the boundaries, the part headers (the multipart
parser refuses a part whose headers pass 4 KiB) and the page's few form fields."""
UPLOAD_BODY_BYTES_MAX = IMPORT_BYTES_MAX + MULTIPART_OVERHEAD_BYTES_MAX
"""Bytes of an import's upload: the largest file an import takes, and its multipart framing."""
TOO_LARGE_CODE = "E_REQUEST_TOO_LARGE"


class BodyTooLargeError(Exception):
    """Raised into whoever reads the body past the limit, so that they stop reading."""


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            return int(value) if value.isdigit() else None
    return None


async def _refuse(scope: Scope, receive: Receive, send: Send, limit: int) -> None:
    problem = Problem(413, TOO_LARGE_CODE, f"a request body here holds at most {limit:,} bytes")
    response = JSONResponse(
        problem.to_record(scope["path"]),
        status_code=413,
        media_type=MEDIA_TYPE,
        headers={"Connection": "close"},  # the rest of the body is never read
    )
    await response(scope, receive, send)


class BodyLimit:
    """Refuses request bodies past `limit_of(path)` bytes with 413 E_REQUEST_TOO_LARGE."""

    def __init__(self, app: ASGIApp, limit_of: Callable[[str], int]) -> None:
        self.app = app
        self.limit_of = limit_of

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.limit_of(scope["path"])
        declared = _content_length(scope)
        if declared is not None and declared > limit:
            await _refuse(scope, receive, send, limit)
            return
        await self._counting(scope, receive, send, limit)

    async def _counting(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        """Run the app on a body counted as it arrives. Past the limit, reading raises, and
        the app's answer to that (FastAPI's 400 for a body it could not read, say) is dropped
        for the 413."""
        received, passed, started = 0, False, False

        async def counted_receive() -> Message:
            nonlocal received, passed
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    passed = True
                    raise BodyTooLargeError
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if passed and not started:
                return  # the 413 is sent instead
            started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not passed:
                raise
        if passed and not started:
            await _refuse(scope, receive, send, limit)
