"""`Cache-Control: no-store` on the API's answers, but for the public explorer's.

An account's holdings and statement, who you are, a new API key, a session's CSRF token, an
approval: none may stay in a browser's cache or a proxy's after the session ends. The pages
say so in their own headers; the API did not. Marking every API answer, errors and 413s
included, but for the public explorer's, leaves no route to forget, whoever it answered: a
route added later is private unless its path is under `app.PUBLIC_API_PREFIXES`.

Pure ASGI middleware: it sets the header as the answer starts, so nothing is buffered.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

NO_STORE = "no-store"


class NoStoreApi:
    """Marks answers to paths under `api_prefix` no-store, but those under `public_prefixes`."""

    def __init__(self, app: ASGIApp, api_prefix: str, public_prefixes: tuple[str, ...]) -> None:
        self.app = app
        self.api_prefix = api_prefix.rstrip("/")
        self.public_prefixes = public_prefixes

    def _private(self, path: str) -> bool:
        in_api = path == self.api_prefix or path.startswith(self.api_prefix + "/")
        return in_api and not path.startswith(self.public_prefixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self._private(scope["path"]):
            await self.app(scope, receive, send)
            return

        async def send_no_store(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)["Cache-Control"] = NO_STORE
            await send(message)

        await self.app(scope, receive, send_no_store)
