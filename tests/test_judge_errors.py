"""The error judges on canned answers: ERR-3 (`problems.problem_failures`) and ERR-2 (`errors._server_error`)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from billing_kit.conformance.checks import errors, problems
from billing_kit.conformance.checks.problems import LONG_VALUE, PROBLEM_TYPE, problem_failures
from billing_kit.conformance.ledger import UNSENDABLE
from billing_kit.conformance.model import Exchange
from tests.support.canned import answer, raw_answer, unanswered

GOOD = {"type": "about:blank", "title": "Bad", "status": 400, "detail": "d", "errors": [{"pointer": "/email"}]}
PROBLEM = [("Content-Type", PROBLEM_TYPE)]
SENT = {"email": "a@example.com"}


def problem(
    status: int = 400,
    body: Any = GOOD,
    *,
    sent: Any = SENT,
    headers: list[tuple[str, str]] | None = None,
    request_headers: list[tuple[str, str]] | None = None,
    key_ref: str | None = "api",
) -> Exchange:
    raw = body if isinstance(body, bytes) else json.dumps({**body, "status": status} if body is GOOD else body).encode()
    return raw_answer(
        status,
        raw,
        PROBLEM if headers is None else headers,
        request_headers=request_headers,
        sent=sent,
        key_ref=key_ref,
    )


def rules(exchange: Exchange) -> list[tuple[str, str | None, str | None]]:
    found = list(problem_failures(exchange))
    assert all(f.clause == "ERR-3" and f.exchange is exchange for f in found)
    return [(f.title, f.expected, f.actual) for f in found]


# -- ERR-3 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [400, 401, 404, 409, 413, 415, 422, 429])
def test_a_full_problem_breaks_nothing(status: int) -> None:
    assert rules(problem(status)) == []


def test_problem_json_with_parameters_and_other_case_is_problem_json() -> None:
    assert rules(problem(headers=[("content-type", "Application/Problem+JSON; charset=utf-8")])) == []


def test_another_media_type_is_not_a_problem() -> None:
    assert rules(problem(headers=[("Content-Type", "application/json")])) == [
        ("not problem+json", PROBLEM_TYPE, "application/json")
    ]
    assert rules(problem(headers=[])) == [("not problem+json", PROBLEM_TYPE, "no Content-Type")]


def test_headers_a_server_may_refuse_early_excuse_the_media_type() -> None:
    """ERR-3's exception: a request with odd headers may be refused before the application sees it."""
    plain = [("Content-Type", "text/plain")]
    for odd in ([("X-Big", "v" * 8192)], [("X-Odd", "caf\u00e9")], [("X-Odd", "a\x01b")]):
        assert rules(problem(headers=plain, request_headers=odd)) == []
    fits = [("X-Big", "v" * (8192 - len("X-Big") - 4))]
    assert problems._odd_headers(problem(request_headers=fits)) is False
    over = [("X-Big", "v" * (8192 - len("X-Big") - 3))]
    assert problems._odd_headers(problem(request_headers=over)) is True
    assert problems._odd_headers(problem(request_headers=[("A", "b"), ("X-Big", over[0][1][:-6])])) is True
    assert rules(problem(headers=plain, request_headers=fits)) == [("not problem+json", PROBLEM_TYPE, "text/plain")]


def test_a_problem_for_odd_headers_needs_no_pointers() -> None:
    """A 400 problem to a request refused for its headers is not a body error: no `errors` list is due."""
    no_pointers = {"type": "about:blank", "title": "Bad Request", "status": 400, "detail": "headers too large"}
    assert rules(problem(body=no_pointers, request_headers=[("X-Big", "v" * 8192)])) == []
    assert [r[0] for r in rules(problem(body=no_pointers))] == ["body error without a list of JSON pointers"]


def test_a_problem_body_must_be_an_object() -> None:
    assert rules(problem(body=b"[1]")) == [("problem body not a JSON object", "a JSON object", "list")]
    (only,) = rules(problem(body=b"{oops"))
    assert only[:2] == ("problem body not a JSON object", "a JSON object")
    assert only[2] is not None and only[2].startswith("not JSON")


@pytest.mark.parametrize("member", ["type", "title", "detail"])
def test_each_member_must_be_a_string(member: str) -> None:
    missing = {k: v for k, v in {**GOOD, "status": 400}.items() if k != member}
    assert rules(problem(body=missing)) == [(f"problem without a string `{member}`", f"`{member}`: a string", "None")]
    assert rules(problem(body={**GOOD, "status": 400, member: 7})) == [
        (f"problem without a string `{member}`", f"`{member}`: a string", "7")
    ]
    long = ["m" * 100]
    assert rules(problem(body={**GOOD, "status": 400, member: long})) == [
        (f"problem without a string `{member}`", f"`{member}`: a string", repr(long)[:80])
    ]


def test_status_must_be_the_http_status() -> None:
    differs = "problem `status` differs from the HTTP status"
    assert rules(problem(body={**GOOD, "status": 422})) == [(differs, "400", "422")]
    assert rules(problem(body={**GOOD, "status": "400"})) == [(differs, "400", "'400'")]
    assert rules(problem(status=1, body={**GOOD, "status": True})) == [(differs, "1", "True")], "True == 1"
    assert rules(problem(body={**GOOD, "status": "x" * 200})) == [(differs, "400", repr("x" * 200)[:80])]


@pytest.mark.parametrize("status", [400, 422])
def test_a_body_error_lists_json_pointers(status: int) -> None:
    without = {**GOOD, "status": status}
    del without["errors"]
    wanted = ("body error without a list of JSON pointers", '`errors`: [{pointer: "/field", …}]')
    assert rules(problem(status, without)) == [(*wanted, "None")]
    for errors_value in ([], [{"pointer": 1}], [{"pointer": "/a"}, "x"], {"pointer": "/a"}, [{"where": "/a"}]):
        assert rules(problem(status, {**without, "errors": errors_value})) == [(*wanted, repr(errors_value)[:80])]
    long = [{"pointer": 1, "detail": "d" * 100}]
    assert rules(problem(status, {**without, "errors": long})) == [(*wanted, repr(long)[:80])]
    many = [{"pointer": "/a"}, {"pointer": "/b", "detail": "x"}]
    assert rules(problem(status, {**without, "errors": many})) == []


def test_pointers_are_wanted_only_for_a_keyed_json_body_without_idempotency() -> None:
    without = {**GOOD, "status": 400}
    del without["errors"]
    assert rules(problem(401, {**without, "status": 401})) == []
    assert rules(problem(409, {**without, "status": 409})) == []
    assert rules(problem(body=without, sent=None)) == []
    assert rules(problem(body=without, sent=["a"])) == []
    assert rules(problem(body=without, key_ref="raw")) == []
    assert rules(problem(body=without, key_ref=None)) == []
    assert len(rules(problem(body=without, key_ref="live"))) == 1
    assert rules(problem(body=without, request_headers=[("IDEMPOTENCY-KEY", "k")])) == []
    assert len(rules(problem(body=without, request_headers=[("X-Other", "k")]))) == 1


def test_a_stack_trace_in_the_body_is_reported_once() -> None:
    for marker in problems.STACK_TRACE_MARKERS:
        body = json.dumps({**GOOD, "detail": "x"}).encode()[:-1] + b', "trace": "' + marker + b'"}'
        found = rules(problem(body=body))
        assert found[0] == ("a stack trace in the error", "no stack trace", "a stack trace in the body"), marker
        assert [r for r, _, _ in found].count("a stack trace in the error") == 1


def test_a_long_submitted_value_must_not_come_back_whole() -> None:
    long = "v" * LONG_VALUE
    echoed = {**GOOD, "detail": f"bad: {long}"}
    wanted = (
        "a submitted value echoed whole",
        f"at most a short excerpt of a {LONG_VALUE}-character value",
        "the whole value",
    )
    assert rules(problem(body=echoed, sent={"email": "a", "name": long})) == [wanted]
    assert rules(problem(body=echoed, sent={"metadata": {"k": [long]}})) == [wanted]
    assert rules(problem(body=echoed, sent={"metadata": {long: 1}})) == [wanted]
    assert rules(problem(body=echoed, sent=[long])) == [wanted]
    twice = {**GOOD, "detail": f"{long} {'w' * LONG_VALUE}"}
    assert rules(problem(body=twice, sent={"a": long, "b": "w" * LONG_VALUE})) == [wanted], "once per answer"
    both = rules(problem(body=echoed, sent={"name": long}, headers=[("Content-Type", "text/plain")]))
    assert both == [wanted, ("not problem+json", PROBLEM_TYPE, "text/plain")], "the echo does not end the judgement"
    short = "s" * (LONG_VALUE - 1)
    assert rules(problem(body={**GOOD, "detail": short}, sent={"name": short})) == []
    assert rules(problem(body={**GOOD, "detail": "x"}, sent={"name": long})) == []


def test_a_long_value_is_found_as_bytes_and_as_decoded_text() -> None:
    astral = "\U0001f600" * LONG_VALUE
    as_bytes = b'{"type": "t", "title": "t", "status": 400, "detail": "' + astral.encode() + b'", "errors": []}'
    assert rules(problem(body=as_bytes, sent={"name": astral}))[0][0] == "a submitted value echoed whole"
    lone = "\ud800" + "x" * LONG_VALUE
    replaced = ("\ufffd" + "x" * LONG_VALUE).encode()
    body = b'{"type": "t", "title": "t", "status": 400, "detail": "' + replaced + b'", "errors": [{"pointer": "/"}]}'
    assert rules(problem(body=body, sent={"name": lone})) == []
    surrogates = (
        b'{"type": "t", "title": "t", "status": 400, "detail": "' + lone.encode("utf-8", "surrogatepass") + b'"'
    )
    assert rules(problem(body=surrogates + b', "errors": [{"pointer": "/"}]}', sent={"name": lone}))[0][0] == (
        "a submitted value echoed whole"
    )


def test_a_body_that_is_not_utf8_is_searched_as_replaced_text() -> None:
    body = b'{"type": "t", "title": "t", "status": 400, "detail": "\xff", "errors": [{"pointer": "/"}]}'
    assert rules(problem(body=body, sent={"name": "n" * LONG_VALUE}))[0][0] == "problem body not a JSON object"
    echoed = b"\xff " + b"n" * LONG_VALUE
    assert rules(problem(body=echoed, sent={"name": "n" * LONG_VALUE}))[0][0] == "a submitted value echoed whole"


def test_long_strings_walk_keys_values_and_items() -> None:
    long = "l" * LONG_VALUE
    value = {long: [1, long + "a", {"k": long + "b"}], "s": "short"}
    assert list(problems._long_strings(value)) == [long, long + "a", long + "b"]
    assert list(problems._long_strings("l" * (LONG_VALUE - 1))) == []
    assert list(problems._long_strings(None)) == []


def test_client_errors_are_the_4xx() -> None:
    assert [s for s in (399, 400, 451, 499, 500) if problems._is_client_error(answer(s, {}))] == [400, 451, 499]
    assert problems._is_client_error(unanswered()) is False


# -- ERR-2 -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 501, 502, 599])
def test_a_5xx_is_a_server_error(status: int) -> None:
    assert errors._server_error(answer(status, {})) == f"HTTP {status}"


@pytest.mark.parametrize("status", [200, 201, 301, 400, 404, 429, 499])
def test_other_answers_are_not(status: int) -> None:
    assert errors._server_error(answer(status, {})) is None


def test_a_429_or_503_with_a_readable_retry_after_was_waited_out() -> None:
    for status in (429, 503):
        waited = raw_answer(status, b"{}", [("Retry-After", "1")])
        assert errors._server_error(waited) is None
    unreadable = raw_answer(503, b"{}", [("Retry-After", "soon")])
    assert errors._server_error(unreadable) == "HTTP 503"
    assert errors._server_error(raw_answer(503, b"{}", [])) == "HTTP 503"
    assert errors._server_error(raw_answer(500, b"{}", [("Retry-After", "1")])) == "HTTP 500"


def test_no_answer_is_a_server_error_unless_it_was_never_sent() -> None:
    assert errors._server_error(unanswered("ReadTimeout after 10.0 s")) == "ReadTimeout after 10.0 s"
    assert errors._server_error(unanswered(f"{UNSENDABLE} refused a header")) is None
    silent = unanswered("")
    assert errors._server_error(silent) == "no answer"
    silent.error = None
    assert errors._server_error(silent) == "no answer"
