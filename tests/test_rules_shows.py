"""rules/shows.py, rules/auth.py and rules/errors.py on canned values: which clauses an exchange shows, no server."""

from __future__ import annotations

from billing_kit.conformance import clauses
from billing_kit.conformance.rules import accepted, auth, errors, shows
from tests.support.canned import CONTRACT

KNOWN = {c.id for c in clauses.CLAUSES}


def test_every_name_is_a_clause_of_the_registry() -> None:
    named = {auth.AUTH_1, auth.AUTH_2, auth.AUTH_3, errors.ERR_1, errors.ERR_2, errors.ERR_3, errors.ERR_4}
    named |= {shows.REQ_BODY_2, shows.REQ_TEXT_1, *shows.MEMBER_CLAUSES.values()}
    assert named <= KNOWN


def test_a_method_other_than_post_shows_err_4_and_err_2() -> None:
    assert shows.other_method() == {errors.ERR_4, errors.ERR_2}


def test_a_request_shows_what_it_breaks_and_err_1_only_for_a_must() -> None:
    assert shows.of_request([]) == {errors.ERR_2}
    assert shows.of_request([(shows.REQ_BODY_2, "should")]) == {errors.ERR_2, shows.REQ_BODY_2}
    assert shows.of_request([(auth.AUTH_2, "must")]) == {errors.ERR_2, auth.AUTH_2, errors.ERR_1}


def test_an_accepted_create_shows_the_response_clauses_and_its_members_rules() -> None:
    email, length, meta = (shows.MEMBER_CLAUSES[m] for m in ("email", "name", "metadata"))
    base = set(accepted.ACCEPTED)
    assert shows.accepted_create({"email": "a@example.com"}) == base | {email}
    assert shows.accepted_create({"email": "a@example.com", "external_id": "x"}) == base | {email, length}
    assert shows.accepted_create({"email": "a@example.com", "name": "A", "metadata": {}}) == base | {
        email,
        length,
        meta,
    }
    assert shows.accepted_create(["not", "an", "object"]) == base | {email}


def test_an_answer_shows_err_3_for_a_4xx_and_auth_for_a_refusal() -> None:
    assert shows.of_answer(201, key_valid=True) == set()
    assert shows.of_answer(201, key_valid=False) == {auth.AUTH_2}
    assert shows.of_answer(400, key_valid=True) == {errors.ERR_3}
    assert shows.of_answer(500, key_valid=True) == set()  # a 5xx is ERR-2's (`exercised`), not ERR-3's
    assert shows.of_answer(auth.REFUSED, key_valid=False) == {errors.ERR_3, auth.AUTH_2, auth.AUTH_3}
    assert shows.of_answer(auth.REFUSED, key_valid=True) == {errors.ERR_3, auth.AUTH_2, auth.AUTH_3}


def test_auth_rules_break_on_what_they_name() -> None:
    assert auth.valid_key_refused("api", True, "HTTP 201") is None
    refused = auth.valid_key_refused("live", False, "HTTP 401")
    assert refused is not None and refused.clause == auth.AUTH_1 and refused.title == "a valid live key was refused"
    sandbox = CONTRACT.sandbox_environment
    assert auth.environment_not_set(sandbox, sandbox) is None
    wrong = auth.environment_not_set(sandbox, "other")
    assert wrong is not None and wrong.expected == f"environment {sandbox!r}" and wrong.actual == "environment 'other'"
    assert auth.not_refused("no header", "HTTP 500").title == "no header: not refused"
    assert auth.key_in_query().clause == auth.AUTH_1


def test_err_1_breaks_on_anything_but_a_4xx() -> None:
    assert errors.not_rejected("REQ-EMAIL-1", 422, "HTTP 422") is None
    for status in (201, 302, 500):
        broken = errors.not_rejected("a rule", status, f"HTTP {status}")
        assert broken is not None and broken.clause == errors.ERR_1 and broken.title == "a rule: not rejected"
