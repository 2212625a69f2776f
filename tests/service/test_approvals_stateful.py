"""Four eyes against a model (Hypothesis, both stores): random transfer requests from MERLION-DEV
by its two representatives, small (run at once) and large (wait for a second person), sent again
with the same key or reused for other content; approvals and rejections by every demo user; the
account frozen and unfrozen; units sent back by the target's holder. After every step the
holdings equal the model's, every approved request ran exactly once and no other ever ran, and
the queue shows exactly the pending ones. Every refusal leaves every table as it was."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)

from carbonex.service.policy import load_policy
from tests.service.conftest import SignIn
from tests.service.support import API, journal_entries, key, nothing_changes, ok, problem

SOURCE = "MERLION-DEV"
TARGET = "SKYWAYS-AIR"
REPRESENTATIVES = ("merlion", "merlion2")
SEEING = ("admin", "admin2", "audrey", "nadia")
"""May see the source's approvals (registry administrators, the auditor, the national
authority) but never decide them."""
BLIND = ("skyways", "amelia", "rhein", "vera", "stan")
USERS = REPRESENTATIVES + SEEING + BLIND
SECOND_PERSON_T = load_policy().four_eyes_transfer_quantity_min
SMALL_T = st.integers(1, SECOND_PERSON_T - 1)
LARGE_T = st.integers(SECOND_PERSON_T, 60_000)
SOURCE_AT_START_T = 80_000
"""Each example starts with the source holding at least this (the database outlives examples:
units the last one moved are sent back first)."""
DECISIONS = ("approve", "reject")
DECIDED = {"approve": "approved", "reject": "rejected"}
_keys = itertools.count()  # unique across examples: the database outlives each one


@dataclass
class Request:
    key: str
    requester: str
    quantity_t: int
    status: str = "pending"  # or approved, rejected; "ran": a small transfer, run at once
    decided_by: str | None = None

    @property
    def command_id(self) -> str:
        """The ledger command's id, which is also its approval's."""
        return f"{self.requester}:{self.key}"

    @property
    def pending(self) -> bool:
        return self.status == "pending"


def vcus(client: httpx.Client, account_id: str) -> int:
    holdings = ok(client.get(f"{API}/accounts/{account_id}/holdings"))
    return sum(
        entry["quantity"]
        for entry in holdings
        if entry["unit_type"] == "VCU" and entry["state"] == "active" and not entry["on_hold"]
    )


def test_four_eyes_against_a_model(signed_in: SignIn, demo_database: str) -> None:
    clients = {user_id: signed_in(user_id) for user_id in USERS}
    admin = clients["admin"]

    class FourEyes(RuleBasedStateMachine):
        queued = Bundle("queued")
        ran = Bundle("ran")

        def __init__(self) -> None:
            super().__init__()
            self.frozen = ok(admin.get(f"{API}/accounts/{SOURCE}"))["status"] == "frozen"
            if self.frozen:  # as an earlier example left it
                self.freeze_or_unfreeze(freeze=False)
            self.source_t = vcus(admin, SOURCE)
            self.target_t = vcus(admin, TARGET)
            while self.source_t < SOURCE_AT_START_T and self.target_t > 0:
                self.return_units(min(SECOND_PERSON_T - 1, self.target_t))
            self.made: list[Request] = []

        @rule(quantity_t=SMALL_T)
        def return_units(self, quantity_t: int) -> None:
            """The target's holder sends units back (under the second-person quantity)."""
            body = {"from_account_id": TARGET, "to_account_id": SOURCE, "unit_type": "VCU",
                    "quantity": quantity_t}  # fmt: skip
            answer = clients["skyways"].post(
                f"{API}/transfers", json=body, headers=key(f"sm-{next(_keys)}")
            )
            if quantity_t > self.target_t or self.frozen:
                assert answer.status_code == 409, answer.text
            else:
                ok(answer, 201)
                self.move(-quantity_t)

        def expected_refusal(self, quantity_t: int) -> str | None:
            if self.frozen:
                return "E_ACCOUNT_FROZEN"
            if quantity_t > self.source_t:
                return "E_UNITS_NOT_HELD"
            return None

        def send(self, requester: str, request_key: str, quantity_t: int) -> httpx.Response:
            body = {"from_account_id": SOURCE, "to_account_id": TARGET, "unit_type": "VCU",
                    "quantity": quantity_t}  # fmt: skip
            return clients[requester].post(f"{API}/transfers", json=body, headers=key(request_key))

        def move(self, quantity_t: int) -> None:
            self.source_t -= quantity_t
            self.target_t += quantity_t

        def request(self, requester: str, quantity_t: int) -> Request | None:
            """Send a new transfer request; the model's record of it, or None if refused."""
            request = Request(f"sm-{next(_keys)}", requester, quantity_t)
            refusal = self.expected_refusal(quantity_t)
            if refusal is not None:
                with nothing_changes(demo_database):
                    problem(self.send(requester, request.key, quantity_t), 409, refusal)
                return None
            if quantity_t < SECOND_PERSON_T:
                ok(self.send(requester, request.key, quantity_t), 201)
                self.move(quantity_t)
                request.status = "ran"
            else:
                answer = ok(self.send(requester, request.key, quantity_t), 202)
                assert answer["pending_approval"]["status"] == "pending"
            self.made.append(request)
            return request

        @rule(target=queued, requester=st.sampled_from(REPRESENTATIVES), quantity_t=LARGE_T)
        def request_a_large_transfer(self, requester: str, quantity_t: int) -> Any:
            request = self.request(requester, quantity_t)
            return multiple() if request is None else request

        @rule(
            target=queued, requester=st.sampled_from(REPRESENTATIVES), short_t=st.integers(0, 999)
        )
        def request_nearly_everything_held(self, requester: str, short_t: int) -> Any:
            """Two of these pending at once: approving the second finds the units gone."""
            quantity_t = max(SECOND_PERSON_T, self.source_t - short_t)
            request = self.request(requester, quantity_t)
            return multiple() if request is None else request

        @rule(target=ran, requester=st.sampled_from(REPRESENTATIVES), quantity_t=SMALL_T)
        def request_a_small_transfer(self, requester: str, quantity_t: int) -> Any:
            request = self.request(requester, quantity_t)
            return multiple() if request is None else request

        @rule(request=queued | ran)
        def send_again(self, request: Request) -> None:
            """The same key and content: the first outcome, as it now stands; nothing new."""
            with nothing_changes(demo_database):
                answer = self.send(request.requester, request.key, request.quantity_t)
            if request.status == "ran":
                assert ok(answer, 201)["command_id"] == request.command_id
            else:
                assert ok(answer, 202)["pending_approval"]["status"] == request.status

        @rule(request=queued | ran, other_t=SMALL_T | LARGE_T)
        def reuse_the_key_for_other_content(self, request: Request, other_t: int) -> None:
            if other_t == request.quantity_t:
                return
            with nothing_changes(demo_database):
                answer = self.send(request.requester, request.key, other_t)
            assert answer.status_code == 409, answer.text
            assert answer.json()["code"] in ("E_IDEMPOTENCY_KEY_REUSED", "E_COMMAND_ID_REUSED")

        @rule(request=queued, decision=st.sampled_from(DECISIONS))
        def the_other_representative_decides(self, request: Request, decision: str) -> None:
            [other] = [user_id for user_id in REPRESENTATIVES if user_id != request.requester]
            self.decide(request, other, decision)

        @rule()
        def the_other_representatives_approve_everything_pending(self) -> None:
            """Until the units run short: then an approval is refused and stays pending."""
            for request in [request for request in self.made if request.pending]:
                [other] = [user_id for user_id in REPRESENTATIVES if user_id != request.requester]
                self.decide(request, other, "approve")

        @rule(request=queued, user_id=st.sampled_from(USERS), decision=st.sampled_from(DECISIONS))
        def anyone_decides(self, request: Request, user_id: str, decision: str) -> None:
            self.decide(request, user_id, decision)

        def decide(self, request: Request, user_id: str, decision: str) -> None:
            expected = self.expected_decision(request, user_id, decision)
            if expected is None:  # decided now
                ok(clients[user_id].post(f"{API}/approvals/{request.command_id}/{decision}"))
                request.status, request.decided_by = DECIDED[decision], user_id
                if decision == "approve":
                    self.move(request.quantity_t)
                return
            with nothing_changes(demo_database):
                answer = clients[user_id].post(f"{API}/approvals/{request.command_id}/{decision}")
            status, code = expected
            if code == "":  # the same person's same decision again: the first answer
                assert ok(answer)["status"] == request.status
            else:
                problem(answer, status, code)

        def expected_decision(
            self, request: Request, user_id: str, decision: str
        ) -> tuple[int, str] | None:
            if user_id in BLIND:
                return 404, "E_NOT_FOUND"
            if not request.pending:
                if request.status == DECIDED[decision] and request.decided_by == user_id:
                    return 200, ""
                return 409, "E_APPROVAL_DECIDED"
            if user_id == request.requester or user_id in SEEING:
                return 403, "E_FORBIDDEN"
            if decision == "approve":
                refusal = self.expected_refusal(request.quantity_t)
                if refusal is not None:
                    return 409, refusal
            return None

        @rule(freeze=st.booleans())
        def freeze_or_unfreeze(self, freeze: bool) -> None:
            path = "freeze" if freeze else "unfreeze"
            answer = admin.post(
                f"{API}/accounts/{SOURCE}/{path}", json={"reason": "model"},
                headers=key(f"sm-{next(_keys)}"),
            )  # fmt: skip
            if freeze == self.frozen:  # frozen already, or not frozen
                assert answer.status_code == 409, answer.text
            else:
                ok(answer)
                self.frozen = freeze

        @precondition(lambda self: self.frozen)
        @rule()
        def unfreeze(self) -> None:
            """Twice the chance to unfreeze: most steps run on an open account."""
            self.freeze_or_unfreeze(freeze=False)

        @invariant()
        def holdings_are_the_models(self) -> None:
            assert (vcus(admin, SOURCE), vcus(admin, TARGET)) == (self.source_t, self.target_t)

        @invariant()
        def exactly_the_approved_and_run_requests_ran_once(self) -> None:
            for request in self.made:
                ran = request.status in ("approved", "ran")
                assert journal_entries(demo_database, request.command_id) == int(ran), request

        @invariant()
        def the_queue_shows_exactly_the_pending_requests(self) -> None:
            mine = {request.command_id for request in self.made if request.pending}
            listed = ok(admin.get(f"{API}/approvals", params={"limit": 500}))
            queued = {a["approval_id"] for a in listed if ":sm-" in a["approval_id"]}
            assert mine <= queued  # earlier examples' requests may wait there too
            assert not {r.command_id for r in self.made if not r.pending} & queued

    run_state_machine_as_test(
        FourEyes,
        settings=settings(
            max_examples=10,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
