"""The crash tests: a writer killed with SIGKILL at random moments loses no acknowledged command,
never leaves a batch half applied, and always leaves a ledger that verifies; the same for the
`carbonex writer` process serving several clients, whose clients then learn the fate of their
command in flight by resubmitting it."""

from __future__ import annotations

from pathlib import Path

import pytest

from carbonex.bench import SUITES
from carbonex.bench.crash import Totals, WriterLog, check_logs, setup_accounts
from carbonex.bench.writer_crash import WRITER_CLIENTS
from tests.conftest import POSTGRES_URL

ITERATIONS = 5
WRITER_ITERATIONS = 3


def _assert_survived(results: dict[str, object], iterations: int) -> None:
    assert results["iterations"] == iterations
    assert results["lost_commands"] == 0, results["first_problem"]
    assert results["partial_batches"] == 0, results["first_problem"]
    assert results["verify_failures"] == 0, results["first_problem"]
    assert results["writer_failures"] == 0, results["first_problem"]


def _assert_clients_resubmitted(results: dict[str, object]) -> None:
    assert results["acknowledged_commands"] > 0
    assert results["resubmitted_commands"] == WRITER_ITERATIONS * WRITER_CLIENTS


def test_sqlite_writer_killed_at_random_loses_nothing_acknowledged() -> None:
    _assert_survived(SUITES["crash"](iterations=ITERATIONS), ITERATIONS)


def test_postgres_writer_killed_at_random_loses_nothing_acknowledged(
    postgres_available: bool,
) -> None:
    if not postgres_available:
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL} (CI requires it)")
    results = SUITES["crash"](iterations=ITERATIONS, postgres_url=POSTGRES_URL)
    _assert_survived(results, ITERATIONS)


def test_sqlite_writer_process_killed_under_clients_loses_nothing_acknowledged() -> None:
    results = SUITES["writer-crash"](iterations=WRITER_ITERATIONS)
    _assert_survived(results, WRITER_ITERATIONS)
    _assert_clients_resubmitted(results)


def test_postgres_writer_process_killed_under_clients_loses_nothing_acknowledged(
    postgres_available: bool,
) -> None:
    if not postgres_available:
        pytest.skip(f"PostgreSQL unreachable at {POSTGRES_URL} (CI requires it)")
    results = SUITES["writer-crash"](iterations=WRITER_ITERATIONS, postgres_url=POSTGRES_URL)
    _assert_survived(results, WRITER_ITERATIONS)
    _assert_clients_resubmitted(results)


def _log(*lines: str, cut_off: str = "") -> WriterLog:
    """A log of complete lines, then what a kill left half written."""
    return WriterLog.parse(("".join(line + "\n" for line in lines) + cut_off).encode())


def test_the_checks_count_a_lost_acknowledgement_and_a_partial_batch(tmp_path: Path) -> None:
    url = str(tmp_path / "checked.db")
    setup_accounts(url)  # journal holds crash-open-0.. and crash-issue-0..
    lost = _log('{"intent":0,"ids":["crash-open-0","never-written"]}', '{"ack":0,"ids":[]}')
    totals = Totals()
    check_logs(url, [lost], totals)
    assert (totals.lost_commands, totals.partial_batches) == (1, 1)
    assert "never-written" not in totals.first_problem  # names the batch, counts the commands
    assert totals.first_problem.startswith("batch 0")


def test_a_log_knows_which_batches_it_never_learnt_the_fate_of() -> None:
    log = _log(
        '{"ready":true}',
        '{"intent":0,"ids":["a"]}',
        '{"ack":0,"ids":["a"]}',
        '{"intent":1,"ids":["b"]}',
        '{"refused":1,"codes":["E_UNITS_NOT_HELD"]}',
        '{"intent":2,"ids":["c"]}',
        '{"writer_gone":2}',
        '{"resubmitted":2,"duplicate":true}',
        '{"intent":3,"ids":["d"]}',
        cut_off='{"ack":3,"ids":["d"]}',
    )
    assert log.ready and log.writer_gone
    assert (log.resubmitted, log.resubmitted_duplicates) == (1, 1)
    assert log.undecided() == [2, 3]
