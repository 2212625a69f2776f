"""The load generator of `carbonex bench api`: a separate process sending transfers over HTTP.

    python -m carbonex.bench.api_load < config.json

The configuration (JSON on standard input, so API keys never show in a process list):

    {"host": "127.0.0.1", "port": 8123, "clients": 16, "warmup_seconds": 1.0, "seconds": 10.0,
     "client": "raw", "tag": "run1", "senders": [{"api_key": "...", "from_account_id": "A",
     "to_account_id": "B", "unit_type": "VCU", "quantity": 1}, ...]}

Each of `clients` keeps one keep-alive connection and sends one POST /api/v1/transfers at a time
(a closed loop) with a unique Idempotency-Key, as the sender `client % len(senders)`. Requests
begun during the warm-up are counted apart; the rest are timed. One JSON object goes to stdout.

Two clients: `raw` (asyncio streams, requests pre-formatted, HTTP/1.1 responses read by
Content-Length or chunks) and `httpx` (httpx.AsyncClient, an ordinary client, for comparison).
Client and server share the machine, so the client's CPU is taken from the server: on 2 cores
`raw` used about 0.18 ms of CPU per request and `httpx` about 3 ms, a whole core at 330
requests/s, which then measured the client rather than the server.
"""

from __future__ import annotations

import asyncio
import json
import math
import resource
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from carbonex.bench.common import process_peak_rss_mb

TRANSFERS_PATH = "/api/v1/transfers"
ACCEPTED_STATUS = 201
REQUEST_TIMEOUT_SECONDS = 30.0
RESPONSE_HEAD_BYTES_MAX = 64 * 1024
RESPONSE_BODY_BYTES_MAX = 1024 * 1024
ERROR_TEXT_LENGTH_MAX = 300
MS_PER_S = 1000.0
PERCENTILE_P50 = 0.50
PERCENTILE_P99 = 0.99
CLIENT_KINDS = ("raw", "httpx")
CONNECT_SPREAD_SHARE = 0.5
"""Clients start one after another over this share of the warm-up. A worker busy serving the
first clients is not waiting in accept, so an idle one takes the next connection: the
connections spread over the workers (opened all at once, one worker took 14 of 16)."""

Send = Callable[[str], Awaitable[tuple[int, bytes]]]
"""Sends one transfer with the given Idempotency-Key: (status, response body)."""


@dataclass(slots=True)
class Phase:
    requests: int = 0
    accepted: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    latencies_s: list[float] = field(default_factory=list)


@dataclass(slots=True)
class Run:
    warmup: Phase = field(default_factory=Phase)
    timed: Phase = field(default_factory=Phase)
    timed_started: float = 0.0
    timed_ended: float = 0.0
    start_stagger_s: float = 0.0
    first_error: str = ""

    def count(self, started: float, status: str, latency_s: float, body: bytes) -> None:
        phase = self.timed if started >= self.timed_started else self.warmup
        phase.requests += 1
        if status == str(ACCEPTED_STATUS):
            phase.accepted += 1
        else:
            phase.errors[status] += 1
            if not self.first_error:
                text = body.decode(errors="replace")[:ERROR_TEXT_LENGTH_MAX]
                self.first_error = f"{status}: {text}"
        if phase is self.timed:
            phase.latencies_s.append(latency_s)
            self.timed_ended = max(self.timed_ended, started + latency_s)


def percentile_ms(sorted_s: list[float], fraction: float) -> float | None:
    """Nearest-rank percentile of sorted seconds, in milliseconds (None with no samples)."""
    if not sorted_s:
        return None
    rank = min(len(sorted_s), max(1, math.ceil(fraction * len(sorted_s))))
    return round(sorted_s[rank - 1] * MS_PER_S, 2)


def request_body(sender: dict[str, Any]) -> bytes:
    return json.dumps(
        {
            "from_account_id": sender["from_account_id"],
            "to_account_id": sender["to_account_id"],
            "unit_type": sender["unit_type"],
            "quantity": sender["quantity"],
        },
        separators=(",", ":"),
    ).encode()


class RawConnection:
    """One keep-alive HTTP/1.1 connection with the request head pre-formatted."""

    def __init__(self, host: str, port: int, api_key: str, body: bytes) -> None:
        self.host, self.port = host, port
        self.head_start = (
            f"POST {TRANSFERS_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\n"
            f"Authorization: Bearer {api_key}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nIdempotency-Key: "
        ).encode()
        self.body = body
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, key: str) -> tuple[int, bytes]:
        try:
            async with asyncio.timeout(REQUEST_TIMEOUT_SECONDS):  # no task per request
                return await self._exchange(key)
        except BaseException:
            await self.close()
            raise

    async def _exchange(self, key: str) -> tuple[int, bytes]:
        if self.writer is None:
            self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        reader, writer = self.reader, self.writer
        assert reader is not None
        writer.write(self.head_start + key.encode() + b"\r\n\r\n" + self.body)
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > RESPONSE_HEAD_BYTES_MAX:
            raise ValueError("response head too large")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = await self._chunks(reader)
        else:
            length = int(headers.get("content-length", "0"))
            if length > RESPONSE_BODY_BYTES_MAX:
                raise ValueError("response body too large")
            body = await reader.readexactly(length)
        if headers.get("connection", "").lower() == "close":
            await self.close()
        return status, body

    @staticmethod
    async def _chunks(reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailer fields, if any
                return b"".join(parts)
            total += size
            if total > RESPONSE_BODY_BYTES_MAX:
                raise ValueError("response body too large")
            parts.append((await reader.readexactly(size + 2))[:-2])

    async def close(self) -> None:
        writer, self.reader, self.writer = self.writer, None, None
        if writer is not None:
            writer.close()


async def _client_loop(number: int, send: Send, run: Run, tag: str, ends_at: float) -> None:
    await asyncio.sleep(number * run.start_stagger_s)
    sequence = 0
    while time.perf_counter() < ends_at:
        key = f"{tag}-{number}-{sequence}"
        sequence += 1
        started = time.perf_counter()
        try:
            status, body = await send(key)
            outcome = str(status)
        except Exception as error:  # counted as an error of its own kind and reported
            outcome, body = f"exception:{type(error).__name__}", str(error).encode()
        run.count(started, outcome, time.perf_counter() - started, body)


async def _run_raw(config: dict[str, Any], run: Run, ends_at: float) -> None:
    senders = config["senders"]
    connections = [
        RawConnection(
            config["host"],
            config["port"],
            senders[number % len(senders)]["api_key"],
            request_body(senders[number % len(senders)]),
        )
        for number in range(config["clients"])
    ]
    try:
        await asyncio.gather(
            *(
                _client_loop(number, connection.send, run, config["tag"], ends_at)
                for number, connection in enumerate(connections)
            )
        )
    finally:
        for connection in connections:
            await connection.close()


async def _run_httpx(config: dict[str, Any], run: Run, ends_at: float) -> None:
    import httpx  # a development dependency: imported only when this client is chosen

    senders = config["senders"]
    clients = config["clients"]
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    base_url = f"http://{config['host']}:{config['port']}"
    async with httpx.AsyncClient(
        base_url=base_url, limits=limits, timeout=REQUEST_TIMEOUT_SECONDS
    ) as http:

        def sender(number: int) -> Send:
            chosen = senders[number % len(senders)]
            body = request_body(chosen)
            headers = {
                "Authorization": f"Bearer {chosen['api_key']}",
                "Content-Type": "application/json",
            }

            async def send(key: str) -> tuple[int, bytes]:
                response = await http.post(
                    TRANSFERS_PATH, content=body, headers=headers | {"Idempotency-Key": key}
                )
                return response.status_code, response.content

            return send

        await asyncio.gather(
            *(
                _client_loop(number, sender(number), run, config["tag"], ends_at)
                for number in range(clients)
            )
        )


def run_load(config: dict[str, Any]) -> dict[str, Any]:
    """Warm up, then send for `seconds`; the figures of the timed phase and the counts of both."""
    if config["client"] not in CLIENT_KINDS:
        raise ValueError(f"unknown client {config['client']!r}; known: {CLIENT_KINDS}")
    run = Run(start_stagger_s=config["warmup_seconds"] * CONNECT_SPREAD_SHARE / config["clients"])
    started = time.perf_counter()
    run.timed_started = started + config["warmup_seconds"]
    ends_at = run.timed_started + config["seconds"]
    runner = _run_raw if config["client"] == "raw" else _run_httpx
    asyncio.run(runner(config, run, ends_at))
    timed = run.timed
    latencies_s = sorted(timed.latencies_s)
    seconds = max(0.0, run.timed_ended - run.timed_started)
    return {
        "requests": timed.requests,
        "accepted": timed.accepted,
        "errors": dict(timed.errors),
        "seconds": round(seconds, 3),
        "latency_ms_p50": percentile_ms(latencies_s, PERCENTILE_P50),
        "latency_ms_p99": percentile_ms(latencies_s, PERCENTILE_P99),
        "latency_ms_max": percentile_ms(latencies_s, 1.0),
        "warmup_requests": run.warmup.requests,
        "warmup_accepted": run.warmup.accepted,
        "warmup_errors": dict(run.warmup.errors),
        "first_error": run.first_error,
        "peak_rss_mb": process_peak_rss_mb(),
        "cpu_s": round(_own_cpu_s(), 3),
    }


def _own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    config = json.loads(sys.stdin.read())
    sys.stdout.write(json.dumps(run_load(config)) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
