"""Read models: summary totals, holdings, and paginated lists capped at QUERY_PAGE_SIZE_MAX."""

from __future__ import annotations

import pytest

from carbonex.ledger import (
    Cancel,
    Convert,
    Issue,
    Ledger,
    OpenAccount,
    PlaceHold,
    Retire,
    Selection,
    Transaction,
    Transfer,
    queries,
)
from carbonex.ledger.limits import QUERY_PAGE_SIZE_MAX
from tests.ledger.support import (
    CER_2014,
    GEC,
    VCU,
    accept,
    accept_all,
    issue,
    open_accounts,
    ranges,
    table_rows,
    vintage,
)


def test_the_summary_adds_up_issued_held_on_hold_and_final_units(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100, vintage(2020))
    issue(ledger, "A", 50, vintage(2021))
    issue(ledger, "A", 30, CER_2014)
    accept(ledger, Transfer("t", "A", "B", Selection("VCU", quantity=60)))
    accept(ledger, Retire("r", "B", Selection("VCU", quantity=20), "Beneficiary", "claim"))
    accept(ledger, Cancel("c", "A", Selection("VCU", quantity=5, vintage_year=2021), "error"))
    accept(ledger, PlaceHold("h", "A", Selection("VCU", quantity=7), "order"))
    accept(ledger, Convert("cv", "A", Selection("CER", quantity=10), "CDM-TO-A6.4"))
    summary = ledger.summary()
    assert summary["totals"] == {
        "issued": 190,
        "held": 155,
        "on_hold": 7,
        "retired": 20,
        "cancelled": 5,
        "surrendered": 0,
        "expired": 0,
        "converted": 10,
    }
    assert summary["by_unit_type"]["VCU"]["issued"] == 150
    assert summary["by_unit_type"]["VCU"]["held"] == 125
    assert summary["by_unit_type"]["CER"]["converted"] == 10
    assert summary["by_unit_type"]["A6.4ER"]["held"] == 10
    by_vintage = {
        (row["unit_type"], row["vintage_start"]): row for row in summary["by_project_vintage"]
    }
    assert by_vintage[("VCU", "2020-01-01")]["retired"] == 20
    assert by_vintage[("VCU", "2020-01-01")]["held"] == 80
    assert by_vintage[("VCU", "2021-01-01")]["cancelled"] == 5
    for totals in [summary["totals"], *summary["by_unit_type"].values()]:
        final = sum(totals[s] for s in ("retired", "cancelled", "surrendered", "expired"))
        assert totals["issued"] == totals["held"] + final + totals["converted"]


def test_tonnes_and_megawatt_hours_are_totalled_apart(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100, vintage(2020))
    issue(ledger, "A", 30, CER_2014)
    issue(ledger, "A", 40, GEC)
    accept(ledger, Retire("r", "A", Selection("GEC", quantity=15), "Factory", "scope 2"))
    accept(ledger, Convert("cv", "A", Selection("CER", quantity=10), "CDM-TO-A6.4"))
    summary = ledger.summary()
    assert list(summary)[:2] == ["totals", "by_metric"]
    tonnes, megawatt_hours = summary["by_metric"]["tCO2e"], summary["by_metric"]["MWh"]
    assert set(summary["by_metric"]) == {"tCO2e", "MWh"}
    assert (tonnes["issued"], tonnes["held"], tonnes["converted"]) == (140, 130, 10)
    assert (megawatt_hours["issued"], megawatt_hours["retired"]) == (40, 15)
    assert summary["totals"]["issued"] == tonnes["issued"] + megawatt_hours["issued"]


def _counting_summaries(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    calls: list[int] = []
    computed = queries.summary

    def counted(store: object) -> object:
        calls.append(1)
        return computed(store)  # type: ignore[arg-type]

    monkeypatch.setattr(queries, "summary", counted)
    return calls


def test_the_summary_is_computed_again_only_when_the_journal_moves(
    ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 100, vintage(2020))
    calls = _counting_summaries(monkeypatch)
    first = ledger.summary()
    first["totals"]["issued"] = -1  # a caller's change never reaches the next caller
    assert ledger.summary()["totals"]["issued"] == 100
    assert len(calls) == 1
    issue(ledger, "A", 20, vintage(2021))
    assert ledger.summary()["totals"]["issued"] == 120
    assert len(calls) == 2


def test_another_writers_commit_refreshes_the_summary(database_url: str) -> None:
    with Ledger.open(database_url) as reader, Ledger.open(database_url) as writer:
        open_accounts(writer, "A")
        issue(writer, "A", 100, vintage(2020))
        assert reader.summary()["totals"]["issued"] == 100
        issue(writer, "A", 5, vintage(2020))
        assert reader.summary()["totals"]["issued"] == 105


def test_a_summary_inside_a_transaction_that_rolls_back_is_never_served_later(
    ledger: Ledger,
) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 100, vintage(2020))

    def issue_and_look(tx: Transaction) -> tuple[int, bool]:
        tx.submit(Issue("inside", "A", 50, vintage(2022)))
        return ledger.summary()["totals"]["issued"], False

    assert ledger.transact(issue_and_look) == 150
    assert ledger.summary()["totals"]["issued"] == 100


def test_an_empty_ledger_summarises_to_zero(ledger: Ledger) -> None:
    summary = ledger.summary()
    assert set(summary["totals"].values()) == {0}
    assert summary["by_unit_type"] == {}
    assert summary["by_project_vintage"] == []


def test_holdings_group_units_by_type_vintage_state_and_hold(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 100, vintage(2020))
    accept(ledger, PlaceHold("h", "A", Selection("VCU", quantity=10), "order"))
    accept(ledger, Retire("r", "A", Selection("VCU", quantity=5), "Beneficiary", "claim"))
    rows = {(h["state"], h["on_hold"]): (h["quantity"], h["blocks"]) for h in ledger.holdings("A")}
    assert rows == {
        ("active", False): (85, 1),
        ("active", True): (10, 1),
        ("retired", False): (5, 1),
    }
    assert ledger.holdings("nobody") == []


def test_accounts_page_by_cursor(ledger: Ledger) -> None:
    open_accounts(ledger, "A1", "A2", "A3", "A4", "A5")
    first = ledger.accounts(limit=2)
    assert [a["account_id"] for a in first] == ["A1", "A2"]
    second = ledger.accounts(limit=2, after=first[-1]["account_id"])
    assert [a["account_id"] for a in second] == ["A3", "A4"]
    third = ledger.accounts(limit=2, after=second[-1]["account_id"])
    assert [a["account_id"] for a in third] == ["A5"]
    assert ledger.accounts(limit=2, after="A5") == []
    assert len(ledger.accounts(limit=0)) == 1
    assert len(ledger.accounts(limit=-3)) == 1


def test_the_journal_statement_and_blocks_page_by_cursor(ledger: Ledger) -> None:
    open_accounts(ledger, "A", "B")
    issue(ledger, "A", 100)
    for n in range(5):
        selection = Selection("VCU", serial_ranges=ranges((n * 10 + 1, n * 10 + 5)))
        accept(ledger, Transfer(f"t-{n}", "A", "B", selection))
    journal = ledger.journal(limit=3)
    assert [row["seq"] for row in journal] == [1, 2, 3]
    assert [row["seq"] for row in ledger.journal(limit=3, after_seq=3)] == [4, 5, 6]
    assert [row["seq"] for row in ledger.journal(limit=3, after_seq=6)] == [7, 8]
    assert journal[0]["entry"]["command"]["kind"] == "open_account"
    statement = ledger.statement("B", limit=2)
    assert [line["command_id"] for line in statement] == ["t-0", "t-1"]
    rest = ledger.statement("B", limit=100, after_seq=statement[-1]["seq"])
    assert [line["command_id"] for line in rest] == ["t-2", "t-3", "t-4"]
    assert all(line["direction"] == "in" for line in statement + rest)
    blocks_a = ledger.blocks("A", limit=2)
    assert len(blocks_a) == 2
    after = ledger.blocks("A", limit=100, after_block_id=blocks_a[-1]["block_id"])
    assert len(blocks_a) + len(after) == 5
    assert sum(b["quantity"] for b in blocks_a + after) == 75


def test_every_list_caps_its_page_at_the_maximum(ledger: Ledger) -> None:
    count = QUERY_PAGE_SIZE_MAX + 5
    accept_all(
        ledger,
        [OpenAccount(f"open-{n:05}", f"A{n:05}", "trading", f"Holder {n}") for n in range(count)],
    )
    assert len(ledger.accounts(limit=10**6)) == QUERY_PAGE_SIZE_MAX
    assert len(ledger.journal(limit=10**6)) == QUERY_PAGE_SIZE_MAX
    rest = ledger.journal(limit=10**6, after_seq=QUERY_PAGE_SIZE_MAX)
    assert [row["seq"] for row in rest] == list(range(QUERY_PAGE_SIZE_MAX + 1, count + 1))
    last = ledger.accounts(limit=10**6)[-1]["account_id"]
    assert len(ledger.accounts(limit=10**6, after=last)) == 5


def test_statements_and_block_lists_cap_their_pages_too(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    count = QUERY_PAGE_SIZE_MAX + 5
    accept_all(ledger, [Issue(f"issue-{n}", "A", 1, VCU) for n in range(count)])
    blocks = ledger.blocks("A", limit=10**6)
    assert len(blocks) == QUERY_PAGE_SIZE_MAX
    assert len(ledger.blocks("A", limit=10**6, after_block_id=blocks[-1]["block_id"])) == 5
    statement = ledger.statement("A", limit=10**6)
    assert len(statement) == QUERY_PAGE_SIZE_MAX
    assert len(ledger.statement("A", limit=10**6, after_seq=statement[-1]["seq"])) == 5


def test_a_statement_page_that_ends_inside_one_entry_resumes_where_it_stopped(
    ledger: Ledger,
) -> None:
    open_accounts(ledger, "A", "B")
    for _ in range(5):
        issue(ledger, "A", 10)
    accept(ledger, Transfer("five-blocks", "A", "B", Selection("VCU", quantity=50)))
    lines: list[tuple[int, int]] = []
    after_seq = after_position = 0
    while page := ledger.statement(
        "B", limit=2, after_seq=after_seq, after_position=after_position
    ):
        lines += [(line["first_serial"], line["last_serial"]) for line in page]
        after_seq, after_position = page[-1]["seq"], page[-1]["position"]
    assert lines == [(1, 10), (11, 20), (21, 30), (31, 40), (41, 50)]


def test_units_with_the_same_labels_in_any_order_share_one_attributes_row(ledger: Ledger) -> None:
    open_accounts(ledger, "A")
    issue(ledger, "A", 10, vintage(2020, labels=("CORSIA", "CCP")))
    issue(ledger, "A", 10, vintage(2020, labels=("CCP", "CORSIA", "CCP")))
    rows = table_rows(ledger, "unit_attributes")
    assert len(rows) == 1
    assert rows[0][9] == "CCP|CORSIA"
    assert len({row[4] for row in table_rows(ledger, "issuances")}) == 1
