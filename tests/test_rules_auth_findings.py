"""`rules.auth` and `rules.errors` findings field by field: the texts a report and a baseline's fingerprint show."""

from __future__ import annotations

from billing_kit.conformance.rules import auth, errors
from billing_kit.conformance.rules.across import Broken
from tests.support.canned import CONTRACT


def test_a_refused_valid_key_expects_a_201_and_shows_the_answer() -> None:
    assert auth.valid_key_refused("live", False, "HTTP 401") == Broken(
        auth.AUTH_1, "a valid live key was refused", "201", "HTTP 401"
    )


def test_an_environment_the_prefix_does_not_set() -> None:
    sandbox = CONTRACT.sandbox_environment
    assert auth.environment_not_set(sandbox, None) == Broken(
        auth.AUTH_1, "the key's prefix does not set the environment", f"environment {sandbox!r}", "environment None"
    )


def test_a_request_without_a_usable_key_expects_a_401() -> None:
    assert auth.not_refused("no header", "HTTP 500") == Broken(
        auth.AUTH_2, "no header: not refused", str(auth.REFUSED), "HTTP 500"
    )
    assert auth.not_refused("no header", "HTTP 500").expected == "401"


def test_a_key_in_the_query() -> None:
    assert auth.key_in_query() == Broken(
        auth.AUTH_1,
        "the client sent its key in the query string",
        "Authorization: Bearer <key>",
        "the key in the URL's query",
    )


def test_a_request_not_rejected_expects_a_4xx() -> None:
    assert errors.not_rejected("REQ-EMAIL-1", 201, "HTTP 201") == Broken(
        errors.ERR_1, "REQ-EMAIL-1: not rejected", "a 4xx", "HTTP 201"
    )
    assert errors.not_rejected("REQ-EMAIL-1", 499, "HTTP 499") is None
    assert errors.not_rejected("REQ-EMAIL-1", 399, "HTTP 399") is not None
