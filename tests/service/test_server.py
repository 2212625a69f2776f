"""The HTTP protocol `carbonex serve` gives uvicorn sets TCP_NODELAY even on connections accepted
from a listening socket bound the way uvicorn binds it for several workers (`proto` 0)."""

from __future__ import annotations

import asyncio
import socket

from uvicorn.importer import import_from_string

from carbonex.service.server import HTTP_PROTOCOL, NoDelayH11Protocol, set_no_delay


class Recorder(asyncio.Protocol):
    def __init__(self, seen: asyncio.Future[int]) -> None:
        self.seen = seen

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        set_no_delay(transport)
        sock = transport.get_extra_info("socket")
        self.seen.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
        transport.close()


async def _nodelay_of_accepted_connection() -> int:
    loop = asyncio.get_running_loop()
    listener = socket.socket(family=socket.AF_INET)  # as uvicorn's Config.bind_socket
    listener.bind(("127.0.0.1", 0))
    seen: asyncio.Future[int] = loop.create_future()
    server = await loop.create_server(lambda: Recorder(seen), sock=listener)
    async with server:
        port = listener.getsockname()[1]
        _, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            return await asyncio.wait_for(seen, timeout=10)
        finally:
            writer.close()


def test_connections_get_tcp_nodelay_from_a_listener_bound_without_proto() -> None:
    assert asyncio.run(_nodelay_of_accepted_connection()) != 0


def test_the_protocol_setting_names_the_no_delay_protocol() -> None:
    assert import_from_string(HTTP_PROTOCOL) is NoDelayH11Protocol
