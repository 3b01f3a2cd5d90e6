"""Judgements of one answer that several checks make, written once.

- `method_refused`: another method on the collection gets 405 with `Allow: POST`
  (ERR-4), for `errors.other_methods` and the generic phase;
- `created_status` and `body_object`: a valid create gets 201 and a JSON object
  (RES-1), for `response.judge_created` / `judge_body` and the generic phase.

A helper of the checks layer: it registers no check.
"""

from __future__ import annotations

from billing_kit.conformance.context import describe
from billing_kit.conformance.failures import Failure
from billing_kit.conformance.model import Exchange


def method_refused(exchange: Exchange, method: str) -> Failure | None:
    """ERR-4: how this answer to `method` breaks "405 with `Allow: POST`", or None."""
    response = exchange.response
    assert response is not None
    if response.status != 405:
        return Failure(
            "ERR-4", f"{method} not answered 405", expected="405", actual=describe(exchange), exchange=exchange
        )
    allow = response.header("allow") or ""
    if "POST" not in {part.strip().upper() for part in allow.split(",")}:
        return Failure(
            "ERR-4",
            f"{method}: 405 without `Allow: POST`",
            expected="Allow: POST",
            actual=f"Allow: {allow}" if allow else "no Allow header",
            exchange=exchange,
        )
    return None


def created_status(exchange: Exchange) -> Failure | None:
    """RES-1: a valid create that did not get 201, or None."""
    assert exchange.response is not None
    if exchange.response.status == 201:
        return None
    return Failure(
        "RES-1", "a valid create did not get 201", expected="201", actual=describe(exchange), exchange=exchange
    )


def body_object(exchange: Exchange) -> Failure | None:
    """RES-1: a 2xx body that is not a JSON object, or None."""
    response = exchange.response
    assert response is not None
    body = response.json
    if isinstance(body, dict):
        return None
    why = response.json_error or f"a JSON {type(body).__name__}"
    return Failure(
        "RES-1",
        f"the {response.status} body is not a JSON object",
        expected="a JSON object",
        actual=why,
        exchange=exchange,
    )
