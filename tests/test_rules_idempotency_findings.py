"""`rules.idempotency` findings field by field: the texts a report and a baseline's fingerprint show (no server)."""

from __future__ import annotations

from billing_kit.conformance.rules import idempotency as rules
from billing_kit.conformance.rules.across import Broken
from billing_kit.conformance.rules.idempotency import Answer
from tests.support.canned import CONTRACT

FIRST = Answer(rules.CREATED, "cus_1", "HTTP 201 cus_1")
OTHER = Answer(rules.CREATED, "cus_2", "HTTP 201 cus_2")
NONE = Answer(400, None, "HTTP 400")
LIMIT = CONTRACT.idempotency_key_max_length


def test_overlap_is_strictly_between_a_known_start_and_the_first_answer() -> None:
    assert rules.overlapping(0.5, 1.0)
    assert not rules.overlapping(1.0, 1.0)
    assert not rules.overlapping(0.0, 1.0)
    assert not rules.overlapping(1.5, 1.0)


def test_another_body_that_made_a_customer_shows_the_retry() -> None:
    assert rules.no_conflict(FIRST, OTHER) == Broken(
        rules.IDEM_2, "the same Idempotency-Key with a different body: a new customer", rules.CONFLICT, OTHER.shown
    )


def test_concurrent_requests_that_made_two_customers() -> None:
    assert rules.customers_of_concurrent({"a", "b"}, 5) == Broken(
        rules.IDEM_3,
        "5 concurrent requests with one Idempotency-Key created 2 customers",
        "exactly one id",
        "2 distinct ids",
    )


def test_an_odd_concurrent_answer_shows_the_first_odd_one() -> None:
    assert rules.odd_concurrent([NONE], 5) == Broken(
        rules.IDEM_3,
        "1 of 5 concurrent requests got neither the replayed 201 nor a 409",
        "201 (the same id) or 409",
        NONE.shown,
    )


def test_a_recorded_failure_expects_a_201() -> None:
    assert rules.failure_recorded(NONE) == Broken(
        rules.IDEM_3,
        "the corrected retry of a rejected request was refused: the failure was recorded",
        "201",
        NONE.shown,
    )


def test_the_key_length_both_ways() -> None:
    assert rules.key_length(LIMIT, LIMIT, accepted=False, shown="HTTP 400") == Broken(
        rules.IDEM_3, f"an Idempotency-Key of {LIMIT} characters (the spec's maxLength) refused", "201", "HTTP 400"
    )
    assert rules.key_length(LIMIT + 1, LIMIT, accepted=True, shown="HTTP 201") == Broken(
        rules.IDEM_3,
        f"an Idempotency-Key of {LIMIT + 1} characters (over the spec's maxLength {LIMIT}) accepted",
        "a 4xx",
        "HTTP 201",
    )


def test_a_key_under_the_live_key_that_made_no_customer_of_its_own() -> None:
    assert rules.not_scoped(FIRST, FIRST) == Broken(
        rules.IDEM_4,
        "the same Idempotency-Key under a live key did not make its own customer",
        "201 with an id other than cus_1",
        FIRST.shown,
    )


def test_a_refused_retry_in_traffic() -> None:
    assert rules.refused_retry(FIRST, NONE, same_body=True, fixes_outcome=True) == Broken(
        rules.IDEM_1,
        "a retry with the same Idempotency-Key and body was not replayed",
        "HTTP 201 replayed (or 409 while the first is in progress)",
        NONE.shown,
    )
    assert rules.refused_retry(FIRST, NONE, same_body=False, fixes_outcome=True) == Broken(
        rules.IDEM_2, "the same Idempotency-Key with another body got no conflict", rules.CONFLICT, NONE.shown
    )


def test_a_created_retry_in_traffic() -> None:
    assert rules.created_retry(FIRST, OTHER, same_body=False, overlapped=False) == Broken(
        rules.IDEM_2, "the same Idempotency-Key with another body was accepted", rules.CONFLICT, OTHER.shown
    )
    assert rules.created_retry(FIRST, OTHER, same_body=True, overlapped=False) == Broken(
        rules.IDEM_1,
        "a retry with the same Idempotency-Key and body made another customer",
        "the first answer replayed (same id)",
        f"{OTHER.shown} with a new id",
    )
    assert rules.created_retry(FIRST, OTHER, same_body=True, overlapped=True) == Broken(
        rules.IDEM_3,
        "concurrent requests with the same Idempotency-Key and body made two customers",
        "the first answer replayed (same id)",
        f"{OTHER.shown} with a new id",
    )


def test_another_api_key_that_got_this_keys_customer() -> None:
    assert rules.other_key_replayed(FIRST, FIRST) == Broken(
        rules.IDEM_4,
        "an Idempotency-Key sent with another API key replayed that key's customer",
        "an independent customer",
        "the other key's customer id",
    )
