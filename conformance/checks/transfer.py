"""RES-1 / AUTH-1: a valid create is a valid create however HTTP/1.1 frames it.

HTTP/1.1 recipients must accept a chunked body (RFC 9112, section 6.1), and a
client may send `Expect: 100-continue` and its body without waiting (RFC 9110,
section 10.1.1). A framework that looks only at Content-Length sees no body in
a chunked request (stock Connexion answers 400 "RequestBody is required"), and
an old server or proxy answers 417 to an expectation: both refuse a valid create.

The chunked case goes through the raw-socket sender of `streaming` (httpx sends
chunked bodies only from iterators the context does not take). The Expect case
goes through the ordinary client: it sends the body at once and reads past a
`100 Continue`, whereas the raw sender stops sending at the first byte the
server writes, which an early `100 Continue` would be.
"""

from __future__ import annotations

import json

from billing_kit.conformance.checks import check
from billing_kit.conformance.checks.streaming import BigBody, send_big
from billing_kit.conformance.context import CheckContext, describe
from billing_kit.conformance.model import Exchange

REFUSED_KEY = frozenset({401, 403})


def chunked_create(ctx: CheckContext) -> Exchange:
    """A valid create in two chunks of `Transfer-Encoding: chunked` (no Content-Length)."""
    data = json.dumps(ctx.tagged({"email": f"chunked-{ctx.nonce}@example.com"})).encode()
    half = len(data) // 2
    return send_big(ctx, BigBody(head=data[:half], fill=b" ", tail=data[half:], size=len(data), chunked=True))


def expect_continue_create(ctx: CheckContext) -> Exchange:
    """A valid create announcing `Expect: 100-continue`, its body sent without waiting."""
    return ctx.post({"email": f"expect-{ctx.nonce}@example.com"}, headers=[("Expect", "100-continue")])


CASES = (
    ("a valid create sent with Transfer-Encoding: chunked", chunked_create),
    ("a valid create sent with Expect: 100-continue", expect_continue_create),
)


@check("RES-1", "AUTH-1", order=31)
def framed_creates(ctx: CheckContext) -> None:
    """A valid create sent chunked, and one with Expect: 100-continue: each gets 201."""
    answered = 0
    for case, send in CASES:
        exchange = send(ctx)
        if exchange.response is None or exchange.response.status >= 500:
            continue  # judged once, by ERR-2 over the whole run
        answered += 1
        if exchange.created:
            continue
        status = exchange.response.status
        ctx.violation(
            "AUTH-1" if status in REFUSED_KEY else "RES-1",
            f"{case}: {'the valid key was refused' if status in REFUSED_KEY else 'refused'}",
            expected="201",
            actual=describe(exchange),
            exchange=exchange,
        )
    if not answered:
        ctx.inconclusive("RES-1", "no usable answer to a chunked or Expect: 100-continue create; see ERR-2")
