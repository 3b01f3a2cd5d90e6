"""Judgements of one answer that several checks make, written once.

- `method_refused`: another method on the collection gets 405 with `Allow: POST`
  (ERR-4), for `errors.other_methods` and the generic phase;
- `created_status` and `body_object`: a valid create gets 201 and a JSON object
  (RES-1), for `response.judge_created` / `judge_body` and the generic phase.

- `judge_refusal`: a wrong or missing key gets 401 with a Bearer challenge and no
  echo of the key (AUTH-2, AUTH-3), for the auth matrix, the prototype-named
  tokens and the traffic judge.

A helper of the checks layer: it registers no check.
"""

from __future__ import annotations

from billing_kit.conformance import jsonsafe
from billing_kit.conformance.context import CheckContext, describe
from billing_kit.conformance.failures import Failure
from billing_kit.conformance.http import cut_short_of_echo
from billing_kit.conformance.model import Exchange
from billing_kit.conformance.reproduce import rerun_command


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
    """RES-1: a 2xx body that is not a JSON object, or None.

    An answer nested past what the suite reads, to a request that could nest as deep, or cut by
    a cap smaller than an echo of the request, may be a conforming echo: evidence for nothing.
    To a shallow or small request it is no customer.
    """
    response = exchange.response
    assert response is not None
    body = response.json
    deep_request = exchange.request.containers > jsonsafe.MAX_DEPTH
    if isinstance(body, dict) or (deep_request and jsonsafe.past_read_depth(response.json_error)):
        return None
    if cut_short_of_echo(exchange):
        return None  # an echo of what was sent may be larger than the suite reads (a 50 MiB body accepted)
    why = response.json_error or f"a JSON {type(body).__name__}"
    return Failure(
        "RES-1",
        f"the {response.status} body is not a JSON object",
        expected="a JSON object",
        actual=why,
        exchange=exchange,
    )


def judge_refusal(
    ctx: CheckContext, case: str, exchange: Exchange, may_400: bool, token: str | None, *, curl: bool = True
) -> None:
    """AUTH-2 and AUTH-3 on the answer to a request with a wrong or missing key (`curl`: the
    request can be resent from its evidence; a redacted near miss of the key cannot)."""
    assert exchange.response is not None
    status = exchange.response.status
    allowed = {401, 400} if may_400 else {401}
    if status not in allowed:
        ctx.violation(
            "AUTH-2",
            f"{case}: {'accepted' if exchange.succeeded else 'wrong status'}",
            expected=" or ".join(str(s) for s in sorted(allowed, reverse=True)),
            actual=describe(exchange),
            exchange=exchange,
            reproduce=None if curl else rerun_command(ctx.config, "AUTH-2"),
        )
        return
    if status != 401:
        return
    challenge = exchange.response.header("www-authenticate") or ""
    if not challenge.lower().startswith("bearer"):
        ctx.violation(
            "AUTH-3",
            f"{case}: the 401 has no Bearer challenge",
            expected="WWW-Authenticate: Bearer",
            actual=f"WWW-Authenticate: {challenge}" if challenge else "no WWW-Authenticate header",
            exchange=exchange,
        )
    raw = exchange.response.body + "".join(v for _, v in exchange.response.headers).encode()
    echoed = token is not None and (
        token.encode() in raw or (token in ctx.client.redactor.secrets and exchange.response.secret_echoed)
    )
    if echoed:
        ctx.violation(
            "AUTH-3",
            f"{case}: the 401 echoes the presented key",
            expected="the key not echoed",
            actual="the whole key appears in the response",
            exchange=exchange,
        )
