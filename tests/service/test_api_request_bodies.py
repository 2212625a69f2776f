"""Request bodies the service cannot read: bytes that are not UTF-8, numbers of thousands of
digits and nesting deeper than Python parses are malformed requests, refused with
E_REQUEST_INVALID like any JSON that does not decode, and nothing is written."""

from __future__ import annotations

import pytest

from tests.service.conftest import WithKey
from tests.service.support import API, key, nothing_changes, problem

TRANSFER_START = b'{"from_account_id": "MERLION-DEV", "to_account_id": "SKYWAYS-AIR", '
UNREADABLE_BODIES = {
    "not UTF-8": (TRANSFER_START + b'"unit_type": "VCU\xff\xfe", "quantity": 5}', "not UTF-8"),
    "5,000 digits": (TRANSFER_START + b'"unit_type": "VCU", "quantity": ' + b"9" * 5_000 + b"}",
                     "cannot be read"),
    "100,000 deep": (b"[" * 100_000 + b"]" * 100_000, "nests too deeply"),
}  # fmt: skip


@pytest.mark.parametrize("name", UNREADABLE_BODIES)
def test_a_body_that_cannot_be_parsed_is_refused_as_malformed(
    with_key: WithKey, demo_database: str, name: str
) -> None:
    body, reason = UNREADABLE_BODIES[name]
    merlion = with_key("merlion")
    headers = key("t1") | {"Content-Type": "application/json"}
    with nothing_changes(demo_database):
        answer = merlion.post(f"{API}/transfers", content=body, headers=headers)
    refused = problem(answer, 422, "E_REQUEST_INVALID")
    assert reason in refused["failures"][0]["message"]
