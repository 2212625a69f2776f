"""The HTTP protocol `carbonex serve` gives uvicorn: h11 with TCP_NODELAY on every connection.

    uvicorn --factory carbonex.service.app:app_from_environment --workers 2 \\
        --http carbonex.service.server:NoDelayH11Protocol

With `--workers N` uvicorn binds the listening socket itself, with `proto` left at 0; accepted
sockets inherit it, and asyncio enables TCP_NODELAY only on sockets whose `proto` is
IPPROTO_TCP. Nagle's algorithm then holds each response's body segment until the client
acknowledges the header segment, which a client delays by up to ~40 ms: every keep-alive
request after the first costs ~40 ms (uvicorn issue #3149; one worker is not affected, since
asyncio binds that socket from getaddrinfo). `carbonex bench api` on 2 cores, 2 workers: about
350 transfers/s with p50 44 ms before, about 1,000/s with p50 14 ms after.
"""

from __future__ import annotations

import asyncio
import socket

from uvicorn.protocols.http.h11_impl import H11Protocol

HTTP_PROTOCOL = "carbonex.service.server:NoDelayH11Protocol"
"""For uvicorn's `http` setting (`--http` on its command line)."""
TCP_FAMILIES = (socket.AF_INET, socket.AF_INET6)


def set_no_delay(transport: asyncio.BaseTransport) -> None:
    """Send small writes at once on a TCP connection (no-op on Unix sockets)."""
    sock = transport.get_extra_info("socket")
    if sock is not None and sock.family in TCP_FAMILIES:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class NoDelayH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, with TCP_NODELAY set on each connection it is given."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        set_no_delay(transport)
        super().connection_made(transport)
