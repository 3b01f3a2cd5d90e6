"""ERR-1 and ERR-3: every MUST-breaking request is rejected, and errors are problem+json."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from billing_kit.conformance import corpora
from billing_kit.conformance.checks import check
from billing_kit.conformance.context import API, CheckContext, RawAuth, describe
from billing_kit.conformance.failures import Failure
from billing_kit.conformance.model import Exchange
from billing_kit.conformance.redact import MASK_MARK
from billing_kit.conformance.registry import Phase
from billing_kit.conformance.rules import errors

PROBLEM_TYPE = "application/problem+json"
EVIDENCE_KEPT = 3
LONG_VALUE = 200  # a submitted string at least this long must not come back whole in an error
STACK_TRACE_MARKERS = (
    b"Traceback (most recent call last)",
    b'File "/',
    b"\n    at ",
    b"<br> &nbsp; &nbsp;at ",  # a Node.js stack trace in an HTML page (Express's default error handler)
    b"Exception in thread",
)


def must_breaking_requests(ctx: CheckContext) -> list[tuple[str, dict[str, Any], Any]]:
    """(rule, body, auth) for one request breaking each MUST rule of REQ-* and AUTH-* (corpus must_breaks)."""
    cases: list[tuple[str, dict[str, Any], Any]] = []
    for case in corpora.load_for_run("must_breaks", ctx):
        auth = None if case.auth == "none" else RawAuth(case.auth["raw"]) if isinstance(case.auth, dict) else API
        cases.append((case.description, case.body, auth))
    return cases


@check("ERR-1", order=50, corpora=("must_breaks",))
def must_breaks_rejected(ctx: CheckContext) -> None:
    """One request breaking each MUST rule of REQ-* and AUTH-* is rejected (other checks add theirs)."""
    for rule, body, auth in must_breaking_requests(ctx):
        exchange = ctx.send(body, auth=auth)
        broken = errors.not_rejected(rule, exchange.status or 0, describe(exchange)) if exchange.ok else None
        if broken is not None:
            ctx.report(Failure.of(broken, exchange))


def _odd_headers(exchange: Exchange) -> bool:
    """Headers an HTTP server may refuse before the application sees them (ERR-3's exception)."""
    headers = exchange.request.headers
    if sum(len(k) + len(v) + 4 for k, v in headers) > 8192:
        return True
    # A secret the suite sent is recorded masked (`sk_test_…1234`): the mark is the suite's, not the wire's.
    return any(not v.replace(MASK_MARK, "").isascii() or not v.isprintable() for _, v in headers)


def _long_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str) and len(value) >= LONG_VALUE:
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _long_strings(key)
            yield from _long_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _long_strings(item)


def problem_failures(exchange: Exchange) -> Iterator[Failure]:
    """Each way this error answer breaks ERR-3 (the title names the rule, the same for every answer)."""
    for rule, expected, actual in _problem_rules(exchange):
        yield Failure(errors.ERR_3, rule, expected=expected, actual=actual, exchange=exchange)


def _problem_rules(exchange: Exchange) -> Iterator[tuple[str, str, str]]:
    response = exchange.response
    assert response is not None
    if any(marker in response.body for marker in STACK_TRACE_MARKERS):
        yield "a stack trace in the error", "no stack trace", "a stack trace in the body"
    for value in _long_strings(exchange.sent):
        if value.encode("utf-8", "surrogatepass") in response.body or value in response.body.decode("utf-8", "replace"):
            yield (
                "a submitted value echoed whole",
                f"at most a short excerpt of a {len(value)}-character value",
                ("the whole value"),
            )
            break
    if response.media_type != PROBLEM_TYPE:
        if not _odd_headers(exchange):
            yield "not problem+json", PROBLEM_TYPE, response.header("content-type") or "no Content-Type"
        return
    body = response.json
    if not isinstance(body, dict):
        yield "problem body not a JSON object", "a JSON object", response.json_error or type(body).__name__
        return
    for member, kind in (("type", str), ("title", str), ("detail", str)):
        if not isinstance(body.get(member), kind):
            yield f"problem without a string `{member}`", f"`{member}`: a string", repr(body.get(member))[:80]
    if body.get("status") != response.status or isinstance(body.get("status"), bool):
        yield "problem `status` differs from the HTTP status", str(response.status), repr(body.get("status"))[:80]
    body_error = (
        response.status in (400, 422)
        and isinstance(exchange.sent, dict)
        and exchange.request.key_ref in ("api", "live")
        and not any(k.lower() == "idempotency-key" for k, _ in exchange.request.headers)
        and not _odd_headers(exchange)  # refused for its headers, maybe before the body was read
    )
    if body_error:
        errors = body.get("errors")
        ok = (
            isinstance(errors, list)
            and errors
            and all(isinstance(e, dict) and isinstance(e.get("pointer"), str) for e in errors)
        )
        if not ok:
            yield "body error without a list of JSON pointers", '`errors`: [{pointer: "/field", …}]', repr(errors)[:80]


def _is_client_error(exchange: Exchange) -> bool:
    return errors.rejected(exchange.status or 0)


@check("ERR-3", phase=Phase.WHOLE_RUN, order=97, needs=(), deep="round-judge")
def errors_are_problems(ctx: CheckContext) -> None:
    """Every 4xx of the run: problem+json with type, title, status, detail (and pointers for body errors)."""
    if not any(_is_client_error(e) for e in ctx.log):
        # Run alone (--only ERR-3): provoke the errors to judge.
        for _rule, body, auth in must_breaking_requests(ctx):
            ctx.send(body, auth=auth)
    found: dict[str, list[Failure]] = {}
    judged = 0
    for exchange in ctx.log:
        if not _is_client_error(exchange):
            continue
        judged += 1
        for failure in problem_failures(exchange):
            found.setdefault(failure.title, []).append(failure)
    for rule, failures in found.items():
        for failure in failures[:EVIDENCE_KEPT]:
            failure.title = f"{rule} ({len(failures)} of {judged} error answers)"
            ctx.report(failure)
    if judged == 0:
        ctx.inconclusive(errors.ERR_3, "the run saw no error answer")
    ctx.evidence(errors.ERR_3, judged, required=1, case="every 4xx of the run")
