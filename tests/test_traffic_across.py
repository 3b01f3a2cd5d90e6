"""The traffic judge across exchanges, fed recorded exchanges (its real input: `judge FILE` reads these).

IDEM-3 from timing: two customers made from one key and body are IDEM-3 when the
second request started before the first one's answer ended, IDEM-1 when it came
after, and IDEM-1 when the source has no times. RES-ID-2 compares a new id with
the last IDS_KEPT ids only, so the judge's memory stays bounded.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

import pytest

from billing_kit.conformance.contract import load_contract
from billing_kit.conformance.traffic import judge as judge_module
from billing_kit.conformance.traffic.judge import TrafficJudge
from billing_kit.conformance.traffic.record import Seen, SeenResponse

CONTRACT = load_contract()
KEY = CONTRACT.prefix_of_environment(CONTRACT.sandbox_environment) + secrets.token_hex(12)
ORG = "org_traffic1"


def create(customer: str, *, idem: str | None = None, started: float = 0.0, elapsed: float = 0.01) -> Seen:
    """A POST /v1/customers that the server answered 201 with `customer`."""
    body = {"email": "jane@example.com"}
    headers = [("Authorization", f"Bearer {KEY}"), ("Content-Type", "application/json")]
    if idem is not None:
        headers.append(("Idempotency-Key", idem))
    raw = json.dumps(body).encode()
    seen = Seen("POST", CONTRACT.base_path + "/customers", headers, bytearray(raw), len(raw), True, started)
    now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    answer = {
        "id": customer, "org_id": ORG, "email": body["email"], "name": None, "external_id": None,
        "metadata": {}, "environment": CONTRACT.sandbox_environment, "created_at": now, "updated_at": now,
    }  # fmt: skip
    out = json.dumps(answer).encode()
    seen.response = SeenResponse(201, [("Content-Type", "application/json")], bytearray(out), len(out), elapsed)
    return seen


def new_id() -> str:
    return CONTRACT.id_prefix + secrets.token_hex(12)


def clauses_found(judge: TrafficJudge, seen: Seen) -> set[str]:
    return {f.clause for f in judge.judge(seen).findings if f.kind == "violation"}


@pytest.mark.parametrize(
    ("second_start", "clause"),
    [(100.05, "IDEM-3"), (101.0, "IDEM-1")],
    ids=["sent-before-the-first-answer-ended", "sent-after"],
)
def test_two_customers_for_one_key_and_body(second_start: float, clause: str) -> None:
    judge = TrafficJudge(CONTRACT)
    assert clauses_found(judge, create(new_id(), idem="k-1", started=100.0, elapsed=0.2)) == set()
    assert clause in clauses_found(judge, create(new_id(), idem="k-1", started=second_start, elapsed=0.2))


def test_a_source_without_times_is_never_read_as_concurrent() -> None:
    judge = TrafficJudge(CONTRACT)
    clauses_found(judge, create(new_id(), idem="k-2"))
    found = clauses_found(judge, create(new_id(), idem="k-2"))
    assert "IDEM-1" in found and "IDEM-3" not in found


def test_a_replay_of_the_same_id_is_no_finding() -> None:
    judge = TrafficJudge(CONTRACT)
    customer = new_id()
    clauses_found(judge, create(customer, idem="k-3", started=10.0))
    assert clauses_found(judge, create(customer, idem="k-3", started=10.05)) == set()


def test_res_id_2_remembers_the_last_ids_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(judge_module, "IDS_KEPT", 3)
    judge = TrafficJudge(CONTRACT)
    ids = [new_id() for _ in range(5)]
    for customer in ids:
        assert clauses_found(judge, create(customer)) == set()
    assert len(judge.ids) == len(judge.id_order) == 3
    assert "RES-ID-2" in clauses_found(judge, create(ids[-1]))  # still remembered
    assert "RES-ID-2" not in clauses_found(judge, create(ids[0]))  # dropped: memory stays bounded
