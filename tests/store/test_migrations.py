"""A ledger written before the history postings (revision 0005, with a movements table) moves to
the present schema with every movement filed, and back again."""

from __future__ import annotations

from typing import Any

import sqlalchemy
from alembic import command
from alembic.config import Config

from carbonex.ledger import Ledger
from carbonex.ledger.live_checks import live_history
from carbonex.store.database import MIGRATIONS_DIR
from tests.conftest import FixedClock
from tests.ledger.support import raw_table_rows
from tests.ledger.test_verify import realistic


def _migrate(url: str, revision: str, downgrade: bool = False) -> None:
    engine = sqlalchemy.create_engine(
        url.replace("postgresql://", "postgresql+psycopg://", 1)
        if url.startswith("postgresql")
        else f"sqlite:///{url}"
    )
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.downgrade if downgrade else command.upgrade)(config, revision)
    engine.dispose()


def _history(ledger: Ledger) -> tuple[Any, Any]:
    """The postings joined per account and per bucket, however they were filed in rows."""
    postings, problems = ledger.read(live_history)
    assert not problems
    return postings.accounts, postings.serials


def test_movements_become_postings_and_back(database_url: str, clock: FixedClock) -> None:
    with Ledger.open(database_url, clock=clock) as ledger:
        realistic(ledger)
        blocks = raw_table_rows(ledger, "blocks")
        filed = _history(ledger)
    _migrate(database_url, "0005", downgrade=True)
    with Ledger.open(database_url, clock=clock) as ledger:  # opening upgrades it again
        assert "movements" not in ledger.store.table_names()
        assert raw_table_rows(ledger, "blocks") == blocks
        assert _history(ledger) == filed
        assert ledger.verify().ok
        assert ledger.statement("B", limit=1000)
