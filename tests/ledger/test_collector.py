"""The cyclic garbage collector is paused while a unit of work or verify runs, and afterwards is
as it was: running again if it ran before, even when the work raised, and only once the last of
several overlapping pauses ends."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator

import pytest

from carbonex.ledger import Ledger, Transaction
from carbonex.ledger.collector import collector_paused


@pytest.fixture(autouse=True)
def collector_running() -> Iterator[None]:
    was_running = gc.isenabled()
    gc.enable()
    yield
    if not was_running:
        gc.disable()


def test_a_unit_of_work_runs_with_the_collector_paused_and_resumes_it(ledger: Ledger) -> None:
    seen: list[bool] = []

    def work(transaction: Transaction) -> tuple[None, bool]:
        seen.append(gc.isenabled())
        return None, False

    ledger.transact(work)
    assert seen == [False]
    assert gc.isenabled()


def test_the_collector_resumes_when_the_work_raises(ledger: Ledger) -> None:
    def work(transaction: Transaction) -> tuple[None, bool]:
        raise ValueError("a bug in the work")

    with pytest.raises(ValueError):
        ledger.transact(work)
    assert gc.isenabled()


def test_verify_leaves_the_collector_running(ledger: Ledger) -> None:
    assert ledger.verify().ok
    assert gc.isenabled()


def test_a_collector_the_caller_paused_stays_paused() -> None:
    gc.disable()
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_overlapping_pauses_resume_only_when_the_last_one_ends() -> None:
    first_paused, second_done = threading.Event(), threading.Event()
    states: list[bool] = []

    def second() -> None:
        first_paused.wait()
        with collector_paused():
            pass
        states.append(gc.isenabled())
        second_done.set()

    thread = threading.Thread(target=second)
    thread.start()
    with collector_paused():
        first_paused.set()
        second_done.wait()
    thread.join()
    assert states == [False]
    assert gc.isenabled()
