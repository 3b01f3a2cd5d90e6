"""`rules.created` on its own: the echo's number leeway and the clock's boundary (no server)."""

from __future__ import annotations

from datetime import timedelta

from billing_kit.conformance import strategies
from billing_kit.conformance.rules import created
from billing_kit.conformance.rules.across import Broken
from tests.support.canned import CONTRACT, NOW, customer

EXACT = strategies.json_equal


def test_numbers_are_free_in_the_echo_only_when_told() -> None:
    sent = {"metadata": {"n": 1}}
    body = customer(metadata={"n": 2})
    broken = Broken(created.RES_ECHO_1, "metadata not echoed exactly", "{'n': 1}", "{'n': 2}")
    assert list(created.echoes(CONTRACT, sent, body, EXACT)) == [broken]
    assert list(created.echoes(CONTRACT, sent, body, EXACT, numbers_free=False)) == [broken]
    assert list(created.echoes(CONTRACT, sent, body, EXACT, numbers_free=True)) == []
    assert list(created.echoes(CONTRACT, sent, customer(metadata={"n": "2"}), EXACT, numbers_free=True)) != []


def test_the_clock_allows_exactly_its_skew() -> None:
    now = created.parse_time(NOW)
    assert now is not None
    body = customer()
    assert created.clock(body, now + timedelta(seconds=30), 30.0) is None
    assert created.clock(body, now - timedelta(seconds=30), 30.0) is None
    late = created.clock(body, now + timedelta(seconds=31), 30.0)
    assert late == Broken(created.RES_TIME_2, "created_at is 31 s from the checker's clock", "within 30 s", repr(NOW))
