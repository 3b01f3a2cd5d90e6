"""rules/idempotency.py on canned answers: IDEM-1..4 judged the same for the suite's retries and traffic's.

The suite reads each answer through `checks.idempotency.facts` (status, created id,
how it is shown); the traffic judge keeps hashes. Both reach a verdict through the
same predicates, so a pair of answers breaks a clause for one front door exactly
when it does for the other.
"""

from __future__ import annotations

import itertools

import pytest

from billing_kit.conformance import clauses
from billing_kit.conformance.checks.idempotency import facts
from billing_kit.conformance.model import Exchange
from billing_kit.conformance.rules import idempotency as rules
from billing_kit.conformance.rules.idempotency import Answer
from tests.support.canned import CONTRACT, answer, customer

FIRST_ID = CONTRACT.id_prefix + "1" * 24
OTHER_ID = CONTRACT.id_prefix + "2" * 24
CREATED = answer(201, customer(id=FIRST_ID), idem="k")
IN_PROGRESS = answer(409, {"type": "about:blank", "title": "in progress", "status": 409, "detail": "wait"})
REFUSED = answer(422, {"type": "about:blank", "title": "conflict", "status": 422, "detail": "other body"})
BAD = answer(400, {"type": "about:blank", "title": "bad", "status": 400, "detail": "no email"})


def test_the_clause_ids_are_the_registry_s() -> None:
    assert set(rules.CLAUSES) <= {c.id for c in clauses.CLAUSES}
    assert {clauses.get(c).family for c in rules.CLAUSES} == {"IDEM"}


def test_a_retry_that_gets_the_first_answer_again_is_a_replay() -> None:
    first = facts(CREATED)
    assert first == Answer(201, FIRST_ID, first.shown) and FIRST_ID in first.shown
    assert rules.not_a_replay(first, facts(answer(201, customer(id=FIRST_ID)))) is None


@pytest.mark.parametrize(
    "retry",
    [answer(201, customer(id=OTHER_ID)), answer(200, customer(id=FIRST_ID)), IN_PROGRESS, BAD],
    ids=["another id", "another status", "409 after the answer", "a 400"],
)
def test_a_retry_after_the_first_answer_that_differs_breaks_idem_1(retry: Exchange) -> None:
    broken = rules.not_a_replay(facts(CREATED), facts(retry))
    assert broken is not None and broken.clause == rules.IDEM_1
    assert broken.expected == f"HTTP 201, id {FIRST_ID}" and broken.actual == facts(retry).shown
    assert broken.title == "a retry with the same Idempotency-Key and body was not a replay"


def test_a_late_retry_says_how_late() -> None:
    broken = rules.not_a_replay(facts(CREATED), facts(BAD), after=4.2)
    assert broken is not None and broken.title.startswith("a retry 4 s after the first request")


def test_another_body_needs_a_conflict_and_says_what_it_got() -> None:
    first = facts(CREATED)
    assert rules.no_conflict(first, facts(IN_PROGRESS)) is None and rules.no_conflict(first, facts(REFUSED)) is None
    new = rules.no_conflict(first, facts(answer(201, customer(id=OTHER_ID))))
    replayed = rules.no_conflict(first, facts(answer(201, customer(id=FIRST_ID))))
    refused = rules.no_conflict(first, facts(BAD))
    assert new is not None and new.title.endswith(": a new customer") and new.expected == rules.CONFLICT
    assert replayed is not None and replayed.title.endswith(f": not {rules.CONFLICT}")
    assert refused is not None and refused.clause == rules.IDEM_2


def test_concurrent_requests_make_one_customer_and_answer_the_replay_or_409() -> None:
    assert rules.customers_of_concurrent({FIRST_ID}, 50) is None
    many = rules.customers_of_concurrent({FIRST_ID, OTHER_ID}, 50)
    assert many is not None and many.clause == rules.IDEM_3 and many.actual == "2 distinct ids"
    ids = {FIRST_ID}
    assert rules.concurrent_answer(facts(CREATED), ids) and rules.concurrent_answer(facts(IN_PROGRESS), ids)
    odd = [facts(e) for e in (REFUSED, answer(201, customer(id=OTHER_ID)), answer(200, customer(id=FIRST_ID)))]
    assert not any(rules.concurrent_answer(a, ids) for a in odd)
    assert rules.odd_concurrent([], 50) is None
    found = rules.odd_concurrent(odd, 50)
    assert found is not None and found.title.startswith("3 of 50 ") and found.actual == odd[0].shown


def test_a_refused_request_is_not_recorded_and_the_key_length_is_the_spec_s() -> None:
    assert rules.failure_recorded(facts(CREATED)) is None
    recorded = rules.failure_recorded(facts(BAD))
    assert recorded is not None and recorded.clause == rules.IDEM_3
    limit = CONTRACT.idempotency_key_max_length
    assert rules.key_length(limit, limit, accepted=True, shown="") is None
    assert rules.key_length(limit + 1, limit, accepted=False, shown="") is None
    refused = rules.key_length(limit, limit, accepted=False, shown="HTTP 400")
    taken = rules.key_length(limit + 1, limit, accepted=True, shown="HTTP 201")
    assert refused is not None and refused.expected == "201" and refused.actual == "HTTP 400"
    assert taken is not None and taken.expected == "a 4xx" and f"maxLength {limit}" in taken.title


def test_under_another_api_key_the_key_makes_its_own_customer() -> None:
    sandbox = facts(CREATED)
    assert rules.not_scoped(sandbox, facts(answer(201, customer(id=OTHER_ID), key_ref="live"))) is None
    for live in (answer(201, customer(id=FIRST_ID), key_ref="live"), BAD):
        broken = rules.not_scoped(sandbox, facts(live))
        assert broken is not None and broken.clause == rules.IDEM_4 and FIRST_ID in broken.expected


# -- the traffic judge's side: hashes, and time to tell a retry from a concurrent request ----------
def test_times_tell_overlap_and_an_unknown_time_never_overlaps() -> None:
    assert rules.overlapping(10.05, 10.1) and not rules.overlapping(10.2, 10.1)
    assert not rules.overlapping(0.0, 10.1)  # a source without times
    assert rules.retry_clause(same_body=True) == rules.IDEM_1
    assert rules.retry_clause(same_body=True, overlapped=True) == rules.IDEM_3
    assert rules.retry_clause(same_body=False, overlapped=True) == rules.IDEM_2


def test_a_refused_retry_of_the_same_body_may_be_409_while_the_first_is_in_progress() -> None:
    first: Answer[int] = Answer(201, 7)
    assert rules.refused_retry(first, Answer(409, None, "HTTP 409"), same_body=True, fixes_outcome=True) is None
    broken = rules.refused_retry(first, Answer(500, None, "HTTP 500"), same_body=True, fixes_outcome=True)
    assert broken is not None and broken.clause == rules.IDEM_1 and broken.actual == "HTTP 500"
    assert broken.expected == "HTTP 201 replayed (or 409 while the first is in progress)"


def test_a_refused_retry_of_another_body_needs_a_conflict_only_when_the_body_had_to_be_accepted() -> None:
    first: Answer[int] = Answer(201, 7)
    assert rules.refused_retry(first, Answer(422), same_body=False, fixes_outcome=True) is None
    assert rules.refused_retry(first, Answer(400), same_body=False, fixes_outcome=False) is None
    broken = rules.refused_retry(first, Answer(400, None, "HTTP 400"), same_body=False, fixes_outcome=True)
    assert broken is not None and broken.clause == rules.IDEM_2 and broken.expected == rules.CONFLICT


def test_a_created_retry_is_a_replay_only_with_the_first_customer() -> None:
    first: Answer[int] = Answer(201, 7)
    assert rules.created_retry(first, Answer(201, 7), same_body=True, overlapped=False) is None
    retry = rules.created_retry(first, Answer(201, 8, "HTTP 201"), same_body=True, overlapped=False)
    race = rules.created_retry(first, Answer(201, 8, "HTTP 201"), same_body=True, overlapped=True)
    other = rules.created_retry(first, Answer(201, 7), same_body=False, overlapped=False)
    assert retry is not None and retry.clause == rules.IDEM_1 and retry.actual == "HTTP 201 with a new id"
    assert race is not None and race.clause == rules.IDEM_3 and "two customers" in race.title
    assert other is not None and other.clause == rules.IDEM_2 and other.title.endswith("was accepted")


def test_a_key_under_another_api_key_must_not_get_that_key_s_customer() -> None:
    owner: Answer[int] = Answer(0, 7)
    assert rules.other_key_replayed(owner, Answer(201, 8)) is None
    assert rules.other_key_replayed(owner, Answer(409)) is None  # no customer: nothing replayed
    broken = rules.other_key_replayed(owner, Answer(201, 7))
    assert broken is not None and broken.clause == rules.IDEM_4


# -- one verdict: the suite's retries and traffic's break a clause together ------------------------
STATUSES = (200, 201, 400, 409, 422, 500)
CUSTOMERS = (None, FIRST_ID, OTHER_ID)


@pytest.mark.parametrize(("status", "customer_id"), list(itertools.product(STATUSES, CUSTOMERS)))
def test_the_suite_and_the_traffic_judge_agree_on_another_body(status: int, customer_id: str | None) -> None:
    first, retry = Answer(201, FIRST_ID), Answer(status, customer_id if 200 <= status < 300 else None)
    suite = rules.no_conflict(first, retry)
    traffic = (
        rules.created_retry(first, retry, same_body=False, overlapped=False)
        if retry.customer is not None
        else rules.refused_retry(first, retry, same_body=False, fixes_outcome=True)
    )
    assert (suite is None) == (traffic is None)
    assert suite is None or (traffic is not None and suite.clause == traffic.clause == rules.IDEM_2)


@pytest.mark.parametrize("customer_id", [FIRST_ID, OTHER_ID])
def test_the_suite_and_the_traffic_judge_agree_on_a_created_retry(customer_id: str) -> None:
    first, retry = Answer(201, FIRST_ID), Answer(201, customer_id)
    suite = rules.not_a_replay(first, retry)
    traffic = rules.created_retry(first, retry, same_body=True, overlapped=False)
    assert (suite is None) == (traffic is None) == (customer_id == FIRST_ID)
    live = rules.not_scoped(first, retry)
    other_key = rules.other_key_replayed(first, retry)
    assert (live is None) == (other_key is None) == (customer_id == OTHER_ID)
