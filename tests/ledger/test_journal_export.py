"""Checking an exported journal alone: a file's hashes prove only that nobody changed it after it
was made, so whatever effects its entries hold, the check names what it cannot count and never
raises."""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from carbonex.ledger.journal import GENESIS_HASH, canonical, chain_hash
from carbonex.ledger.journal_export import check_export

RECORDED_AT = "2026-01-01T00:00:00+00:00"
ATTRIBUTES_ID = "attributes-1"
ISSUED = [
    ["attributes", ATTRIBUTES_ID, {"unit_type": "VCU"}],
    ["issuance", 1, "VERRA:VCU", 1, 100, ATTRIBUTES_ID, "A", None],
]


def block(block_id: int, first: Any, last: Any, state: Any = "active") -> list[Any]:
    return ["block", block_id, 1, "VERRA:VCU", first, last, "A", state, ATTRIBUTES_ID, None]


def exported(effects_per_entry: list[list[Any]]) -> list[bytes]:
    """Lines of a file whose chain is whole: each entry's hashes are right for its payload."""
    lines, previous_hash = [], GENESIS_HASH
    for seq, effects in enumerate(effects_per_entry, start=1):
        command_id = f"command-{seq}"
        payload = canonical(
            {
                "command": {"command_id": command_id, "kind": "issue"},
                "effects": effects,
                "recorded_at": RECORDED_AT,
                "seq": seq,
            }
        )
        entry_hash = chain_hash(previous_hash, payload)
        line = {
            "seq": seq,
            "command_id": command_id,
            "command_kind": "issue",
            "recorded_at": RECORDED_AT,
            "previous_hash": previous_hash,
            "entry_hash": entry_hash,
            "payload": payload.decode(),
        }
        lines.append(orjson.dumps(line) + b"\n")
        previous_hash = entry_hash
    return lines


def test_units_issued_and_left_in_blocks_are_counted_per_unit_type() -> None:
    check = check_export(exported([[*ISSUED, block(1, 1, 60)], [block(2, 61, 100, "retired")]]))
    assert check.ok, check.problems
    assert check.totals["VCU"]["issued"] == 100
    assert (check.totals["VCU"]["held"], check.totals["VCU"]["retired"]) == (60, 40)


def test_a_block_in_no_state_of_the_ledger_is_named_and_not_counted() -> None:
    check = check_export(exported([[*ISSUED, block(1, 1, 100, "bogus")]]))
    assert any("block 1" in problem and "'bogus'" in problem for problem in check.problems)
    assert check.totals["VCU"]["held"] == 0


def test_a_block_whose_serials_are_not_integers_is_named_and_not_counted() -> None:
    check = check_export(exported([[*ISSUED, block(1, "1", 100)]]))
    assert any("block 1" in problem and "serials" in problem for problem in check.problems)


def test_units_left_in_blocks_without_an_issuance_are_named() -> None:
    """Every hash is right, yet the entries make units from nothing: the totals do not add up."""
    check = check_export(exported([[*ISSUED, block(1, 1, 100)], [block(2, 101, 150)]]))
    assert any("issue 100 units and leave 150 in blocks" in p for p in check.problems)


def test_a_short_issuance_is_named_and_not_counted() -> None:
    check = check_export(exported([[ISSUED[0], ["issuance", 1, "VERRA:VCU", 1]]]))
    assert any("issuance 1" in problem for problem in check.problems)


JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-3, 200)
    | st.sampled_from(["active", "retired", "bogus", ATTRIBUTES_ID, "A", "VERRA:VCU", ""])
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)
TAGS = st.sampled_from(["block", "unblock", "issuance", "attributes", "account", "hold", "move"])
EFFECTS = st.builds(lambda tag, fields: [tag, *fields], TAGS, st.lists(JSON_VALUES, max_size=11))
ANY_EFFECT = EFFECTS | JSON_VALUES


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(ANY_EFFECT, max_size=5), min_size=1, max_size=4))
def test_whatever_effects_a_whole_chain_holds_the_check_never_raises(
    effects_per_entry: list[list[Any]],
) -> None:
    check = check_export(exported(effects_per_entry))
    if check.ok:
        for counts in check.totals.values():
            in_blocks = sum(value for name, value in counts.items() if name != "issued")
            assert counts["issued"] == in_blocks - counts["on_hold"]
