"""Reading a ledger over a connection that may not write: read models that lag behind the
journal (a writer killed before projecting) cannot be projected there, so a read brings them up
in private copies, as `verify` does, and shows every committed entry, writing nothing. A
PostgreSQL role whose transactions are read-only by default, and a SQLite file its user may only
read."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from urllib.parse import quote

import pytest

from carbonex.ledger import Ledger
from tests.cli.test_verify import file_bytes
from tests.ledger.test_verify_writes_nothing import as_committed, assert_lagging, lagging_ledger
from tests.store.test_sqlite import run_unprivileged

READ_ONLY_OPTION = "-cdefault_transaction_read_only=on "


def read_only(database_url: str) -> str:
    """The same PostgreSQL database over connections whose transactions are read-only unless
    they ask otherwise (as `ALTER ROLE auditor SET default_transaction_read_only = on` makes
    them)."""
    return database_url.replace("options=", "options=" + quote(READ_ONLY_OPTION), 1)


def reads(database: str) -> tuple[int, int, list[str]]:
    """What A and C hold, and C's statement."""
    with Ledger.open(database) as ledger:
        held = [sum(row["quantity"] for row in ledger.holdings(a)) for a in ("A", "C")]
        statement = [line["command_id"] for line in ledger.statement("C")]
    return held[0], held[1], statement


def expected_reads() -> tuple[int, int, list[str]]:
    """As the journal has them: 100 issued to A, 10 moved to B, then 20 to C (unprojected)."""
    return 70, 20, ["t-2"]


@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)  # SQLite: the file below
def test_a_read_only_postgres_connection_reads_a_lagging_ledger_and_writes_nothing(
    database_url: str,
) -> None:
    lagging_ledger(database_url)
    before = as_committed(database_url)
    assert_lagging(before[1])
    assert reads(read_only(database_url)) == expected_reads()
    with Ledger.open(read_only(database_url)) as ledger:
        report = ledger.verify()  # its private copies are made before it turns read-only
    assert report.ok, report.problems
    assert as_committed(database_url) == before


def test_a_ledger_file_its_user_may_only_read_is_read_as_the_journal_has_it() -> None:
    directory = Path(tempfile.mkdtemp(prefix="carbonex-read-only-reads-"))  # nobody enters /tmp's
    database = str(directory / "ledger.db")
    try:
        lagging_ledger(database)
        warm_up = str(directory / "warm-up.db")  # loads what the reads load lazily, as root
        lagging_ledger(warm_up)
        assert reads(warm_up) == expected_reads()
        before, file_before = as_committed(database), file_bytes(database)
        assert_lagging(before[1])
        Path(database).chmod(0o444)
        directory.chmod(0o777)

        def check() -> None:
            if reads(database) != expected_reads():
                raise AssertionError(reads(database))

        run_unprivileged(check)
        assert as_committed(database) == before
        assert file_bytes(database) == file_before
    finally:
        shutil.rmtree(directory)
