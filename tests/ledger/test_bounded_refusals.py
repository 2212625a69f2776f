"""A command naming serial ranges over many blocks that are not its account's is refused with a
bounded answer: the blocks it looks at are at most BLOCKS_PER_COMMAND_MAX (the store loads no
more), and its failures name at most FAILURES_NAMED_MAX of them. A transfer naming serials 1 to
2^62 once listed a failure for every block of the serial space, and loaded every one of them."""

from __future__ import annotations

from typing import Any

import pytest

from carbonex.ledger import Issue, Ledger, Selection, SerialRange, Transfer
from carbonex.ledger import selection as selection_module
from carbonex.ledger.failures import Code
from carbonex.ledger.limits import SERIAL_MAX
from tests.ledger.support import VCU, accept_all, assert_unchanged, open_accounts

BLOCKS_MAX = 20
FAILURES_MAX = 5


@pytest.fixture
def small_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(selection_module, "BLOCKS_PER_COMMAND_MAX", BLOCKS_MAX)
    monkeypatch.setattr(selection_module, "FAILURES_NAMED_MAX", FAILURES_MAX)


def one_unit_blocks(ledger: Ledger, account_id: str, count: int) -> None:
    """`count` blocks of one unit each in `account_id` (one issuance each: they never merge)."""
    accept_all(ledger, [Issue(f"i-{n}", account_id, 1, VCU) for n in range(count)])


def everything(account_id: str) -> Transfer:
    whole_space = Selection("VCU", serial_ranges=(SerialRange(1, SERIAL_MAX),))
    return Transfer(f"t-{account_id}", account_id, "C", whole_space)


@pytest.mark.usefixtures("small_limits")
def test_a_refusal_names_a_bounded_number_of_foreign_blocks(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B", "C")
    one_unit_blocks(ledger, "B", FAILURES_MAX * 2)
    refused = assert_unchanged(ledger, lambda: ledger.submit(everything("A")),
                               Code.E_UNITS_NOT_HELD, exact=False)  # fmt: skip
    assert len(refused.failures) == FAILURES_MAX
    assert "more" in refused.failures[-1].message


@pytest.mark.usefixtures("small_limits")
def test_a_range_over_more_blocks_than_a_command_may_touch_is_refused_loading_no_more(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_accounts(ledger, "A", "B", "C")
    one_unit_blocks(ledger, "B", BLOCKS_MAX * 3)
    ledger.project()  # the blocks come from the store
    loaded: list[int] = []
    load = ledger.store.load_blocks_overlapping

    def counted(*args: Any, **kwargs: Any) -> Any:
        found = load(*args, **kwargs)
        loaded.append(len(found))
        return found

    monkeypatch.setattr(ledger.store, "load_blocks_overlapping", counted)
    refused = assert_unchanged(ledger, lambda: ledger.submit(everything("B")),
                               Code.E_INVALID_COMMAND)  # fmt: skip
    assert f"more than {BLOCKS_MAX} blocks" in refused.failures[0].message
    assert loaded and max(loaded) <= BLOCKS_MAX + 1 + 64  # the cap, one more, unprojected ones
