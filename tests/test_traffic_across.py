"""The traffic judge across exchanges, fed recorded exchanges (its real input: `judge FILE` reads these).

IDEM-3 from timing: two customers made from one key and body are IDEM-3 when the
second request started before the first one's answer ended, IDEM-1 when it came
after, and IDEM-1 when the source has no times. A 409 "in progress" answered
before the first create's answer was seen (the proxy judges in the order answers
end) waits for that create: explained when it overlapped, judged as a refused
create when nothing explains it. RES-ID-2 compares a new id with the last
IDS_KEPT ids only, so the judge's memory stays bounded.
"""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime

import pytest

from billing_kit.conformance.contract import load_contract
from billing_kit.conformance.rules import across, shows
from billing_kit.conformance.rules import idempotency as idem_rules
from billing_kit.conformance.traffic import judge as judge_module
from billing_kit.conformance.traffic.judge import TrafficJudge
from billing_kit.conformance.traffic.record import Seen, SeenResponse
from billing_kit.conformance.traffic.session import Session

CONTRACT = load_contract()
KEY = CONTRACT.prefix_of_environment(CONTRACT.sandbox_environment) + secrets.token_hex(12)
ORG = "org_traffic1"


def create(
    customer: str,
    *,
    idem: str | None = None,
    started: float = 0.0,
    elapsed: float = 0.01,
    email: str = "jane@example.com",
) -> Seen:
    """A POST /v1/customers that the server answered 201 with `customer`."""
    body = {"email": email}
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


def in_progress(idem: str, *, started: float, elapsed: float = 0.01) -> Seen:
    """The same keyed create answered 409: the first one with this key is still in progress."""
    seen = create(new_id(), idem=idem, started=started, elapsed=elapsed)
    problem = {"type": "about:blank", "title": "Conflict", "status": 409, "detail": "still in progress"}
    out = json.dumps(problem).encode()
    seen.response = SeenResponse(409, [("Content-Type", "application/problem+json")], bytearray(out), len(out), elapsed)
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


def test_a_409_before_the_overlapping_first_answer_is_idem_3_not_a_refused_create() -> None:
    judge = TrafficJudge(CONTRACT)
    assert judge.judge(in_progress("k-4", started=100.02)).findings == []  # held: its create is not seen yet
    first = judge.judge(create(new_id(), idem="k-4", started=100.0, elapsed=0.2))
    assert first.findings == [] and "IDEM-3" in first.clauses
    assert judge.release_all() == []


@pytest.mark.parametrize("later", [None, 100.5], ids=["no-create-at-all", "create-sent-after-the-409"])
def test_a_409_nothing_explains_is_judged_as_a_refused_create(later: float | None) -> None:
    judge = TrafficJudge(CONTRACT)
    assert judge.judge(in_progress("k-5", started=100.0)).findings == []
    if later is not None:
        assert clauses_found(judge, create(new_id(), idem="k-5", started=later)) == set()
    released = judge.take_released() if later is not None else judge.release_all()
    assert [f.clause for j in released for f in j.findings if f.kind == "violation"] == ["RES-1"]
    assert "RES-1" in released[0].clauses


def test_a_409_waits_at_most_wait_for_first_seconds_of_traffic() -> None:
    judge = TrafficJudge(CONTRACT)
    judge.judge(in_progress("k-6", started=100.0))
    judge.judge(create(new_id(), started=100.0 + judge_module.WAIT_FOR_FIRST / 2))
    assert judge.take_released() == []
    judge.judge(create(new_id(), started=100.0 + judge_module.WAIT_FOR_FIRST + 1))
    assert [f.clause for j in judge.take_released() for f in j.findings if f.kind == "violation"] == ["RES-1"]


@pytest.mark.parametrize(("explained", "verdict"), [(True, "PASS"), (False, "FAIL")])
def test_the_session_reports_a_held_409_once_its_fate_is_known(explained: bool, verdict: str) -> None:
    session = Session(CONTRACT, "http://upstream", mode="judge")
    session.take(in_progress("k-7", started=100.02))
    if explained:
        session.take(create(new_id(), idem="k-7", started=100.0, elapsed=0.2))
    result = session.result()
    verdicts = {v.clause: v for v in result.verdicts}
    assert verdicts["RES-1"].verdict.value == verdict
    assert session.tally.exchanges == (2 if explained else 1)
    if explained:
        assert verdicts["IDEM-3"].verdict.value == "PASS"


def answered_with(status: int, headers: list[tuple[str, str]]) -> Seen:
    """A valid create answered `status` with a problem body and `headers`."""
    seen = create(new_id())
    problem = {"type": "about:blank", "title": "Unavailable", "status": status, "detail": "try later"}
    out = json.dumps(problem).encode()
    headers = [("Content-Type", "application/problem+json"), *headers]
    seen.response = SeenResponse(status, headers, bytearray(out), len(out), 0.01)
    return seen


@pytest.mark.parametrize(("status", "retry_after"), [(503, "1"), (429, "2"), (503, "Wed, 21 Oct 2037 07:28:00 GMT")])
def test_told_to_wait_breaks_no_clause(status: int, retry_after: str) -> None:
    # ERR-2's exception: the client was told to retry; the recording shows no answer to judge the create on.
    assert clauses_found(TrafficJudge(CONTRACT), answered_with(status, [("Retry-After", retry_after)])) == set()


@pytest.mark.parametrize("headers", [[], [("Retry-After", "soon")]], ids=["no-retry-after", "unreadable"])
def test_a_503_without_a_readable_retry_after_breaks_the_create(headers: list[tuple[str, str]]) -> None:
    assert {"RES-1", "ERR-2"} <= clauses_found(TrafficJudge(CONTRACT), answered_with(503, headers))


def test_what_a_stream_of_creates_shows_is_the_rules_say() -> None:
    """The clauses the judge counts come from rules/: an accepted create, a retry, another body, a refusal."""
    judge = TrafficJudge(CONTRACT)
    customer = new_id()
    first = judge.judge(create(customer, idem="k-shows", started=10.0))
    expected = shows.accepted_create({"email": "jane@example.com"}) | shows.of_request([]) | {across.RES_ID_2}
    assert first.findings == [] and first.clauses == expected
    again = judge.judge(create(customer, idem="k-shows", started=20.0))
    assert again.findings == [] and again.clauses == expected | {idem_rules.IDEM_1}
    other = create(new_id(), idem="k-shows", started=30.0, email="other@example.com")
    found = judge.judge(other)
    assert idem_rules.IDEM_2 in found.clauses
    assert [(f.clause, f.message) for f in found.findings] == [
        (idem_rules.IDEM_2, "the same Idempotency-Key with another body was accepted")
    ]
    refused = create(new_id())
    refused.headers = [("Content-Type", "application/json")]  # no key
    problem = {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": "no key"}
    out = json.dumps(problem).encode()
    refused.response = SeenResponse(401, [("Content-Type", "application/problem+json")], bytearray(out), len(out), 0.01)
    assert shows.of_answer(401, key_valid=False) <= judge.judge(refused).clauses


def test_duplicate_keys_leave_the_echo_open_and_a_trimmed_echo_is_blamed() -> None:
    """The traffic judge asks rules/created.py as check does: which of two `name`s a server keeps is its
    choice (REQ-BODY-3's MAY), while a name that comes back trimmed breaks RES-ECHO-1."""

    def answered(raw: bytes, name: str) -> Seen:
        seen = create(new_id())
        seen.body, seen.body_size = bytearray(raw), len(raw)
        body = json.loads(bytes(seen.response.body)) if seen.response else {}
        out = json.dumps({**body, "name": name}).encode()
        seen.response = SeenResponse(201, [("Content-Type", "application/json")], bytearray(out), len(out), 0.01)
        return seen

    twice = b'{"email": "jane@example.com", "name": "first", "name": "second"}'
    judge = TrafficJudge(CONTRACT)
    assert "RES-ECHO-1" not in clauses_found(judge, answered(twice, "first"))
    assert "RES-ECHO-1" not in clauses_found(judge, answered(twice, "second"))
    padded = b'{"email": "jane@example.com", "name": " Jane "}'
    assert "RES-ECHO-1" in clauses_found(judge, answered(padded, "Jane"))
    assert "RES-ECHO-1" not in clauses_found(judge, answered(padded, " Jane "))
