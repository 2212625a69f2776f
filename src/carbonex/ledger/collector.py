"""Pausing Python's cyclic garbage collector around work that builds many long-lived objects and
no reference cycles: a unit of work (its commands' blocks, effects and journal entries live on in
the cache) and verify (its replayed state).

The collector's passes are what such work pays for, not what it needs: in a group commit of the
bench's transfers, its full passes over a cache that keeps growing took about a seventh of the
time (docs/performance.md). Pauses nest and may come from several threads: the collector resumes
when the last one ends, and only if it was running when the first began.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_resume = False


@contextmanager
def collector_paused() -> Iterator[None]:
    global _pauses, _resume
    with _lock:
        if _pauses == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _resume:
                gc.enable()
