"""RES-ECHO-1: fixed creates (corpora/echo.json) whose fields must come back exactly as sent.

The generated bodies reach numbers that a 32-bit float column changes only by
chance (Hypothesis favours 1.5 and 0.0, which survive); these cases send
decimal fractions every run, so a float32, DECIMAL(10,2) or rounding store
always shows.
"""

from __future__ import annotations

from typing import Any

from billing_kit.conformance import corpora, jsonsafe, strategies
from billing_kit.conformance.checks import check
from billing_kit.conformance.context import CheckContext
from billing_kit.conformance.corpora import Case
from billing_kit.conformance.model import Exchange

CORPUS = "echo"


def _excerpt(value: Any, limit: int = 120) -> str:
    text = jsonsafe.dumps(value)  # a number past 4,000 digits is a Decimal, which json.dumps refuses
    return text if len(text) <= limit else text[:limit] + "…"


def echo_failures(ctx: CheckContext, case: Case, exchange: Exchange) -> bool:
    """RES-ECHO-1 on the answer to a fixed create: every field sent comes back equal (keys included).

    False when there is no created customer to compare (a refusal or a broken 201 is RES-1's and ERR-2's).
    """
    body = exchange.json_body()
    if not exchange.succeeded or not isinstance(body, dict) or not isinstance(exchange.sent, dict):
        return False
    for name, sent in exchange.sent.items():
        if not strategies.json_equal(sent, body.get(name)):
            ctx.violation(
                "RES-ECHO-1",
                f"{case.id}: {case.description}: {name} not echoed exactly",
                expected=_excerpt(sent),
                actual=_excerpt(body.get(name)),
                exchange=exchange,
                case=case.id,
            )
    return True


@check("RES-ECHO-1", order=32, corpora=(CORPUS,))
def echo_cases(ctx: CheckContext) -> None:
    """Decimal fractions and I-JSON's integer edges in metadata come back as sent."""
    judged = sum(echo_failures(ctx, case, corpora.send_case(ctx, case)) for case in corpora.load_for_run(CORPUS, ctx))
    if not judged:
        ctx.inconclusive("RES-ECHO-1", f"no 201 to any case of corpus {CORPUS}")


PROTO_KEYS = "proto_keys"


@check("RES-1", "RES-ECHO-1", order=32, corpora=(PROTO_KEYS,))
def prototype_named_keys(ctx: CheckContext) -> None:
    """Metadata keys named `__proto__`, `constructor`, `toString`…: valid JSON, so 201 and echoed exactly."""
    cases = [(case, None) for case in corpora.load_for_run(PROTO_KEYS, ctx)]
    corpora.run_cases(ctx, cases, then=echo_failures, what=f"case of corpus {PROTO_KEYS}")
