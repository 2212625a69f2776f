"""`carbonex bench api`: transfers per second through the HTTP API, server and load apart.

A fresh SQLite ledger gets two company accounts holding API_ISSUANCE_T VCUs each and a
representative user of each with an API key. uvicorn serves the app (`app_from_environment`)
with API_WORKERS worker processes on a free loopback port, with the HTTP protocol `carbonex
serve` uses (carbonex.service.server). Once every worker is up, a separate process
(`carbonex.bench.api_load`) keeps `clients` keep-alive connections busy with
POST /api/v1/transfers of one unit, half of them from each account to the other (so neither runs
dry), each with a unique Idempotency-Key, for a warm-up and then `API_SECONDS * scale` seconds.

Reported: `api_transfers_per_s` (201s of the timed phase per second), `api_latency_ms_p50` and
`api_latency_ms_p99` (send to last response byte, closed loop), `api_requests`, `api_errors`
(every non-201, warm-up included; `api_error_statuses` says which), the CPU the server and the
load used per request, and `api_other_processes_cpu_share`: the share of the machine other
processes took meanwhile (figures taken while it is high are not comparable). Afterwards the
ledger must verify and hold exactly one new journal entry per 201: `api_ledger_verified`. The
server is stopped whatever happens.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from carbonex.bench.common import (
    KIB_PER_MIB,
    Deadline,
    machine_fields,
    peak_rss_mb,
    rate_per_s,
)
from carbonex.bench.workload import ACCOUNT_KIND, UNIT_TYPE, submit_all_accepted
from carbonex.ledger import Command, Issue, Ledger, OpenAccount, Transaction, UnitAttributes

API_SECONDS = 10.0
"""Timed phase at scale 1."""
API_SECONDS_MIN = 0.5
API_SECONDS_MAX = 120.0
WARMUP_SECONDS = 1.0
"""Not timed: both workers start, load their caches and reach a steady state."""
API_WORKERS = 2
API_CLIENTS = 16
API_CLIENTS_MAX = 256
API_CLIENT_KIND = "raw"
"""The load generator's own client, cheapest in CPU (see carbonex.bench.api_load)."""
TRANSFER_QUANTITY = 1
"""Far below the four-eyes threshold: every transfer is accepted at once (201)."""
API_ISSUANCE_T = 10**9
HOST = "127.0.0.1"
SERVER_READY_SECONDS_MAX = 60.0
SERVER_STOP_SECONDS_MAX = 15.0
LOAD_GRACE_SECONDS = 60.0
"""Time allowed past warm-up and timed phase for the load process to start and report."""
READY_POLL_SECONDS = 0.05
READY_REQUEST_TIMEOUT_SECONDS = 2.0
SERVER_LOG_TAIL_CHARS = 2_000
PROC_DIR = "/proc"
STAT_UTIME_FIELD = 11
STAT_STIME_FIELD = 12
"""Positions of utime and stime in /proc/PID/stat after the command name."""
US_PER_S = 1_000_000
HTTP_PROTOCOL_DEFAULT_NAME = "carbonex"
"""How the results name the protocol `carbonex serve` uses (carbonex.service.server)."""
BENCH_PASSWORD = "bench-api-password"
HOLDERS = (
    ("bench-a", "BENCH-A", "Bench Holder A"),
    ("bench-b", "BENCH-B", "Bench Holder B"),
)
ATTRIBUTES = UnitAttributes(
    UNIT_TYPE, "Verra VCS", "VCS-BENCH", dt.date(2024, 1, 1), dt.date(2024, 12, 31), "SG"
)


class ApiBenchError(RuntimeError):
    """The server or the load generator did not run as the suite needs."""


def setup(database: str) -> list[dict[str, Any]]:
    """Accounts, their units, users and API keys; one sender per account (to the other)."""
    from carbonex.service import identity  # the service only when this suite runs
    from carbonex.service.identity import Role

    commands: list[Command] = []
    for number, (_, account_id, holder) in enumerate(HOLDERS):
        commands.append(OpenAccount(f"bench-open-{number}", account_id, ACCOUNT_KIND, holder))
        commands.append(Issue(f"bench-issue-{number}", account_id, API_ISSUANCE_T, ATTRIBUTES))

    def users(tx: Transaction) -> tuple[list[str], bool]:
        keys = []
        for user_id, account_id, holder in HOLDERS:
            roles = frozenset({Role.ACCOUNT_HOLDER})
            identity.add_user(tx.store, user_id, holder, BENCH_PASSWORD, roles, tx.now)
            identity.add_representative(tx.store, user_id, account_id)
            keys.append(identity.create_api_key(tx.store, user_id, "bench api", tx.now)[1])
        return keys, True

    with Ledger.open(database) as ledger:
        submit_all_accepted(ledger, commands)
        keys = ledger.transact(users)
    accounts = [account_id for _, account_id, _ in HOLDERS]
    return [
        {
            "api_key": key,
            "from_account_id": account_id,
            "to_account_id": accounts[(number + 1) % len(accounts)],
            "unit_type": UNIT_TYPE,
            "quantity": TRANSFER_QUANTITY,
        }
        for number, (key, account_id) in enumerate(zip(keys, accounts, strict=True))
    ]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _answers(port: int, api_key: str) -> bool:
    """True once GET /api/v1/me with the key returns 200."""
    connection = http.client.HTTPConnection(HOST, port, timeout=READY_REQUEST_TIMEOUT_SECONDS)
    try:
        connection.request("GET", "/api/v1/me", headers={"Authorization": f"Bearer {api_key}"})
        return connection.getresponse().status == http.HTTPStatus.OK
    except OSError:
        return False
    finally:
        connection.close()


@contextmanager
def running_server(
    database: str, workers: int, api_key: str, log_path: Path, http_protocol: str | None = None
) -> Iterator[tuple[int, int]]:
    """uvicorn with `workers` processes on a free loopback port, in its own process group;
    yields (port, server pid) once it answers, and stops the whole group afterwards, whatever
    happened."""
    from carbonex.service.app import DATABASE_VARIABLE
    from carbonex.service.server import HTTP_PROTOCOL

    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "--factory",
        "carbonex.service.app:app_from_environment", "--host", HOST, "--port", str(port),
        "--workers", str(workers), "--http", http_protocol or HTTP_PROTOCOL,
        "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    environment = os.environ | {DATABASE_VARIABLE: database}
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            command, env=environment, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            _wait_until_answering(server, port, api_key, log_path, WorkersReady(database, workers))
            yield port, server.pid
        finally:
            _stop(server)


def _wait_until_answering(
    server: subprocess.Popen[bytes], port: int, api_key: str, log_path: Path, ready: WorkersReady
) -> None:
    """Until the server answers and every worker has opened the database (its lifespan ran)."""
    deadline = Deadline(SERVER_READY_SECONDS_MAX)
    while not deadline.expired:
        if server.poll() is not None:
            raise ApiBenchError(f"the server exited ({server.returncode}): {_tail(log_path)}")
        if ready.all_open(server.pid) and _answers(port, api_key):
            return
        time.sleep(READY_POLL_SECONDS)
    raise ApiBenchError(f"the server did not answer in time: {_tail(log_path)}")


@dataclass(frozen=True, slots=True)
class WorkersReady:
    """A worker opens the database in its lifespan, before it serves: counting the server's
    processes that hold the file open tells when all of them are up (Linux /proc; elsewhere
    the first answer has to do, and the warm-up covers the rest)."""

    database: str
    workers: int

    def all_open(self, server_pid: int) -> bool:
        if not Path(PROC_DIR).is_dir():
            return True
        target = os.path.realpath(self.database)
        processes = [server_pid, *_children(server_pid)]  # one worker: the server itself
        holding = sum(1 for pid in processes if _holds_open(pid, target))
        return holding >= self.workers


def _holds_open(pid: int, target: str) -> bool:
    try:
        descriptors = list(Path(f"{PROC_DIR}/{pid}/fd").iterdir())
    except OSError:
        return False
    for descriptor in descriptors:
        try:
            if os.readlink(descriptor) == target:
                return True
        except OSError:
            continue
    return False


def _stop(server: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the server (uvicorn stops its workers and waits for them); SIGKILL to its
    whole process group if it is slow, or if it had died and may have left workers behind."""
    if server.poll() is None:
        _signal_group(server.pid, signal.SIGTERM)
        try:
            server.wait(SERVER_STOP_SECONDS_MAX)
            return
        except subprocess.TimeoutExpired:
            pass
    _signal_group(server.pid, signal.SIGKILL)
    server.wait()


def _signal_group(group: int, number: signal.Signals) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(group, number)


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-SERVER_LOG_TAIL_CHARS:]


def server_peak_rss_mb(server_pid: int) -> float | None:
    """The largest peak RSS (Linux VmHWM) among the server's process and its workers."""
    peaks = []
    for pid in [server_pid, *_children(server_pid)]:
        try:
            status = Path(f"{PROC_DIR}/{pid}/status").read_text()
        except OSError:
            continue
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                peaks.append(int(line.split()[1]) / KIB_PER_MIB)
    return round(max(peaks), 1) if peaks else None


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"{PROC_DIR}/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in text.split()]


def processes_cpu_s(pids: list[int]) -> float:
    """User and system CPU time the processes have used (Linux; 0 elsewhere)."""
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"{PROC_DIR}/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        total += int(fields[STAT_UTIME_FIELD]) + int(fields[STAT_STIME_FIELD])
    return total / ticks_per_s


def machine_busy_cpu_s() -> float | None:
    """CPU time every process on the machine has used since boot (Linux /proc/stat)."""
    try:
        first = Path(f"{PROC_DIR}/stat").read_text().split("\n", 1)[0].split()
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in first[1:9])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


@dataclass(slots=True)
class CpuUse:
    """CPU used while the load ran: by the server, by the load process, by everyone."""

    server_s: float = 0.0
    machine_s: float | None = None
    wall_s: float = 0.0

    @contextmanager
    def measuring(self, server_pid: int) -> Iterator[None]:
        def server_cpu_s() -> float:
            return processes_cpu_s([server_pid, *_children(server_pid)])

        server_before, machine_before = server_cpu_s(), machine_busy_cpu_s()
        started = time.perf_counter()
        yield
        self.wall_s = time.perf_counter() - started
        self.server_s = server_cpu_s() - server_before
        machine_after = machine_busy_cpu_s()
        if machine_before is not None and machine_after is not None:
            self.machine_s = machine_after - machine_before

    def others_share(self, load_cpu_s: float) -> float | None:
        """The share of the machine's CPUs that other processes used meanwhile: figures taken
        while it is high are not comparable."""
        if self.machine_s is None or self.wall_s <= 0:
            return None
        others_s = max(0.0, self.machine_s - self.server_s - load_cpu_s)
        return round(others_s / ((os.cpu_count() or 1) * self.wall_s), 3)


def run_load(config: dict[str, Any], timeout_seconds: float) -> dict[str, Any]:
    """The load generator in its own process; its one JSON line of results."""
    done = subprocess.run(
        [sys.executable, "-m", "carbonex.bench.api_load"],
        input=json.dumps(config).encode(),
        capture_output=True,
        timeout=timeout_seconds,
        check=False,
    )
    if done.returncode != 0:
        raise ApiBenchError(f"the load generator failed: {done.stderr.decode()[-2_000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def run_api(
    *,
    scale: float = 1.0,
    clients: int | None = None,
    workers: int | None = None,
    client: str | None = None,
    http_protocol: str | None = None,
    **_options: Any,
) -> dict[str, Any]:
    """The API suite; `clients`, `workers` and `client` ("raw" or "httpx") default to
    API_CLIENTS, API_WORKERS and API_CLIENT_KIND; `http_protocol` (uvicorn's `--http`) to the
    one `carbonex serve` uses ("h11" shows plain uvicorn with several workers)."""
    seconds = min(API_SECONDS_MAX, max(API_SECONDS_MIN, API_SECONDS * scale))
    clients = min(API_CLIENTS_MAX, max(1, clients or API_CLIENTS))
    workers = max(1, workers or API_WORKERS)
    with tempfile.TemporaryDirectory(prefix="bench_api_") as name:
        database = str(Path(name) / "api.db")
        senders = setup(database)
        with Ledger.open(database) as ledger:
            seq_before = int(ledger.head()["seq"])
        config = {
            "host": HOST,
            "clients": clients,
            "warmup_seconds": WARMUP_SECONDS,
            "seconds": seconds,
            "client": client or API_CLIENT_KIND,
            "tag": "bench",
            "senders": senders,
        }
        log_path = Path(name) / "server.log"
        cpu = CpuUse()
        with running_server(database, workers, senders[0]["api_key"], log_path, http_protocol) as (
            port,
            pid,
        ):
            with cpu.measuring(pid):
                load = run_load(
                    config | {"port": port}, WARMUP_SECONDS + seconds + LOAD_GRACE_SECONDS
                )
            load["server_peak_rss_mb"] = server_peak_rss_mb(pid)
        server_log = _tail(log_path)
        with Ledger.open(database) as ledger:
            added = int(ledger.head()["seq"]) - seq_before
            verified = ledger.verify().ok
    requests = max(1, load["requests"] + load["warmup_requests"])
    load["server_cpu_per_request_us"] = round(US_PER_S * cpu.server_s / requests)
    load["load_cpu_per_request_us"] = round(US_PER_S * load["cpu_s"] / requests)
    load["other_processes_cpu_share"] = cpu.others_share(load["cpu_s"])
    config["http_protocol"] = http_protocol or HTTP_PROTOCOL_DEFAULT_NAME
    return _results(load, config, workers, added, verified, server_log)


def _results(
    load: dict[str, Any],
    config: dict[str, Any],
    workers: int,
    journal_entries_added: int,
    verified: bool,
    server_log: str,
) -> dict[str, Any]:
    statuses = Counter(load["errors"]) + Counter(load["warmup_errors"])
    errors = sum(statuses.values())
    accepted = load["accepted"] + load["warmup_accepted"]
    if errors:
        print(f"api bench: non-201 responses {dict(statuses)}; first: {load['first_error']}",
              file=sys.stderr)  # fmt: skip
    if journal_entries_added != accepted:
        print(f"api bench: {accepted} transfers accepted but {journal_entries_added} journal "
              f"entries added; server log: {server_log}", file=sys.stderr)  # fmt: skip
    return {
        "api_transfers_per_s": rate_per_s(load["accepted"], load["seconds"]),
        "api_latency_ms_p50": load["latency_ms_p50"],
        "api_latency_ms_p99": load["latency_ms_p99"],
        "api_latency_ms_max": load["latency_ms_max"],
        "api_requests": load["requests"],
        "api_accepted": load["accepted"],
        "api_errors": errors,
        "api_error_statuses": dict(statuses),
        "api_seconds": load["seconds"],
        "api_warmup_requests": load["warmup_requests"],
        "api_workers": workers,
        "api_clients": config["clients"],
        "api_client": config["client"],
        "api_http_protocol": config["http_protocol"],
        "api_journal_entries_added": journal_entries_added,
        "api_ledger_verified": verified and journal_entries_added == accepted,
        "api_server_peak_rss_mb": load["server_peak_rss_mb"],
        "api_load_peak_rss_mb": load["peak_rss_mb"],
        "api_server_cpu_per_request_us": load["server_cpu_per_request_us"],
        "api_load_cpu_per_request_us": load["load_cpu_per_request_us"],
        "api_other_processes_cpu_share": load["other_processes_cpu_share"],
        "peak_rss_mb": peak_rss_mb(),
    } | machine_fields()
