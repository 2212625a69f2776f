"""What every suite shares: wall-clock caps, progress bars on stderr, memory and machine facts."""

from __future__ import annotations

import os
import platform
import resource
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

KIB_PER_MIB = 1024
BYTES_PER_MIB = 1024 * 1024


@dataclass(slots=True)
class Deadline:
    """A wall-clock cap for one phase: loops check `expired` and stop early when it is."""

    seconds: float
    started: float = field(default_factory=time.perf_counter)

    @property
    def expired(self) -> bool:
        return time.perf_counter() - self.started >= self.seconds

    @property
    def remaining_seconds(self) -> float:
        return max(0.0, self.seconds - (time.perf_counter() - self.started))


class Bar:
    """One progress bar; `advance` is cheap enough to call per batch."""

    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress = progress
        self._task = task

    def advance(self, amount: float = 1) -> None:
        self._progress.advance(self._task, amount)

    def update(self, completed: float, total: float | None = None) -> None:
        self._progress.update(self._task, completed=completed, total=total)


@contextmanager
def progress_bar(description: str, total: float | None) -> Iterator[Bar]:
    """A rich progress bar on stderr (never stdout: the CLI prints the results there); with no
    total it pulses."""
    console = Console(stderr=True)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as progress:
        yield Bar(progress, progress.add_task(description, total=total))


def peak_rss_mb() -> float:
    """This process's peak resident set size (Linux reports KiB, macOS bytes)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(_to_mib(peak), 1)


def process_peak_rss_mb() -> float | None:
    """This process image's own peak RSS (Linux VmHWM). Unlike getrusage, it does not inherit
    the parent's peak across fork and exec, so it is right for spawned children."""
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    for line in status.splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / KIB_PER_MIB, 1)
    return None


def _to_mib(peak: int) -> float:
    return peak / BYTES_PER_MIB if sys.platform == "darwin" else peak / KIB_PER_MIB


REFERENCE_LOOP_ITERATIONS = 1_000_000
REFERENCE_RUNS = 3
REFERENCE_TABLE_MASK = 4095
"""The loop's dictionary keeps 4,096 keys, small enough that the loop times the interpreter
rather than memory."""
CPU_INFO_PATH = Path("/proc/cpuinfo")


def python_reference_ms() -> float:
    """The best of REFERENCE_RUNS timings of one fixed pure-Python loop (tuples, strings, dict
    stores: what deciding a command is made of). The same work on every run, so that figures
    taken on different days can be compared: the virtual machines here have run the same code two
    to three times as fast on one day as on another (docs/performance.md)."""
    best_s = float("inf")
    for _ in range(REFERENCE_RUNS):
        started = time.perf_counter()
        table: dict[int, tuple[int, str]] = {}
        for number in range(REFERENCE_LOOP_ITERATIONS):
            table[number & REFERENCE_TABLE_MASK] = (number, str(number))
        best_s = min(best_s, time.perf_counter() - started)
    return round(best_s * 1000, 1)


def cpu_model() -> str:
    """The processor's model name (Linux), else the platform's word for it."""
    try:
        for line in CPU_INFO_PATH.read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine_fields() -> dict[str, str | int | float]:
    cpu_count = os.cpu_count() or 0
    python = platform.python_version()
    return {
        "machine": f"{cpu_count} CPUs, {platform.platform()}, Python {python}",
        "machine_cpu_count": cpu_count,
        "machine_cpu_model": cpu_model(),
        "machine_platform": platform.platform(),
        "machine_python": python,
        "machine_python_reference_ms": python_reference_ms(),
    }


def rate_per_s(count: int, seconds: float) -> float:
    return round(count / seconds, 1) if seconds > 0 else 0.0
