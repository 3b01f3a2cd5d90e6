"""RES-1 / AUTH-1: a valid create is a valid create however HTTP/1.1 frames it.

HTTP/1.1 recipients must accept a chunked body (RFC 9112, section 6.1), and a
client may send `Expect: 100-continue` and its body without waiting (RFC 9110,
section 10.1.1). A framework that looks only at Content-Length sees no body in
a chunked request (stock Connexion answers 400 "RequestBody is required"), and
an old server or proxy answers 417 to an expectation: both refuse a valid create.

The cases are data (corpora/framing.json). A `chunked` case goes through the
raw-socket sender of `streaming` (the context's client sends Content-Length
bodies only). The Expect case goes through the ordinary client: it sends the
body at once and reads past a `100 Continue`, whereas the raw sender stops
sending at the first byte the server writes, which an early `100 Continue` is.
"""

from __future__ import annotations

import json

from billing_kit.conformance import corpora
from billing_kit.conformance.checks import check
from billing_kit.conformance.checks.streaming import BigBody, send_big
from billing_kit.conformance.context import CheckContext, describe
from billing_kit.conformance.model import Exchange

CORPUS = "framing"
REFUSED_KEY = frozenset({401, 403})


def send_framed(ctx: CheckContext, case: corpora.Case) -> Exchange:
    """The case as it says: chunked in two chunks with the API key, or as any other corpus case."""
    if not case.chunked:
        return corpora.send_case(ctx, case)
    data = json.dumps(ctx.tagged(case.body) if case.tag else case.body, ensure_ascii=False).encode()
    half = len(data) // 2
    body = BigBody(head=data[:half], fill=b" ", tail=data[half:], size=len(data), chunked=True)
    return send_big(ctx, body, headers=list(case.headers.items()))


@check("RES-1", "AUTH-1", order=31, corpora=(CORPUS,))
def framed_creates(ctx: CheckContext) -> None:
    """A valid create sent chunked, and one with Expect: 100-continue: each gets 201."""
    answered = 0
    for case in corpora.load_for_run(CORPUS, ctx):
        exchange = send_framed(ctx, case)
        if exchange.response is None or exchange.response.status >= 500:
            continue  # judged once, by ERR-2 over the whole run
        answered += 1
        if exchange.succeeded:
            continue
        refused_key = exchange.response.status in REFUSED_KEY
        ctx.violation(
            "AUTH-1" if refused_key else case.clause,
            f"{case.id}: {case.description}: {'the valid key was refused' if refused_key else 'refused'}",
            expected="201",
            actual=describe(exchange),
            exchange=exchange,
            case=case.id,
        )
    if not answered:
        ctx.inconclusive("RES-1", f"no usable answer to any case of corpus {CORPUS}; see ERR-2")
