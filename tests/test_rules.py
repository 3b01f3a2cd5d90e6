"""The rules package on canned exchanges: pure functions, no server."""

from __future__ import annotations

from billing_kit.conformance import strategies
from billing_kit.conformance.rules import accepted, across, echo, exercised, shows
from tests.support.canned import answer, unanswered


def test_answered_usable_and_a_5xx() -> None:
    ok, broken, none = answer(201, {}), answer(500, {}), unanswered()
    assert [exercised.answered(e) for e in (ok, broken, none)] == [True, True, False]
    assert [exercised.usable(e) for e in (ok, broken, none)] == [True, False, False]
    assert [exercised.server_error(e) for e in (ok, broken, none)] == [False, True, False]
    # A 5xx judges every probe it answered; it breaks those whose outcome is fixed, never a MAY.
    assert exercised.judged(broken, "may") and not exercised.judged(none, "accept")
    assert exercised.broken_by_5xx(broken, "reject") and exercised.broken_by_5xx(broken, "accept")
    assert not exercised.broken_by_5xx(broken, "may") and not exercised.broken_by_5xx(ok, "accept")
    assert exercised.judged_on(broken, "RES-1", {"RES-1"}) and not exercised.judged_on(broken, "RES-ID-1", {"RES-1"})
    assert exercised.judged_on(ok, "RES-ID-1", set()) and not exercised.judged_on(none, "RES-1", {"RES-1"})


def test_ids_repeat_unless_replayed_and_org_per_key() -> None:
    seen = {"cus_1"}
    assert across.repeated_id(seen, "cus_1") and not across.repeated_id(seen, "cus_2")
    assert not across.repeated_id(seen, "cus_1", replay=True)
    assert across.duplicate_id("cus_1").actual == "cus_1 twice"
    assert across.other_org("org_a", "org_b") and not across.other_org("org_a", "org_a")
    assert not across.other_org(None, "org_a")
    assert across.org_ids_of_key("api", ["a", "b", "a"], "a, b").title.endswith("have 2 org_ids")


def test_echo_leaves_numbers_free_only_when_told() -> None:
    exact = strategies.json_equal
    sent, rounded = {"n": 0, "s": "x", "l": [1, True]}, {"n": 1e300, "s": "x", "l": [2, True]}
    assert not echo.echoed(sent, rounded, exact, numbers_free=False)
    assert echo.echoed(sent, rounded, exact, numbers_free=True)
    assert not echo.echoed(sent, {**rounded, "s": "y"}, exact, numbers_free=True)  # strings stay exact
    assert not echo.echoed(sent, {**rounded, "l": [2, 1]}, exact, numbers_free=True)  # true is not a number
    assert not echo.echoed(sent, {"n": 0, "s": "x"}, exact, numbers_free=True)  # keys stay exact


def test_told_to_wait_is_answered_never_usable_never_a_break() -> None:
    wait = answer(503, {}, headers={"Retry-After": "1"})
    assert exercised.answered(wait) and exercised.told_to_wait(wait)
    assert not exercised.usable(wait) and not exercised.server_error(wait)
    assert not exercised.broken_by_5xx(wait, "accept")
    assert not exercised.told_to_wait(answer(503, {}, headers={"Retry-After": "soon"}))
    assert not exercised.told_to_wait(answer(500, {}, headers={"Retry-After": "1"}))


def test_an_accepted_create_without_email_still_shows_the_email_rule() -> None:
    email, length = shows.MEMBER_CLAUSES["email"], shows.MEMBER_CLAUSES["name"]
    assert shows.accepted_create({"name": "A"}) == set(accepted.ACCEPTED) | {email, length}
