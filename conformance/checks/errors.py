"""ERR-2 and ERR-4: answers under any input, and other methods."""

from __future__ import annotations

from billing_kit.conformance import corpora
from billing_kit.conformance.checks import check
from billing_kit.conformance.checks.answers import method_refused
from billing_kit.conformance.context import API, CheckContext
from billing_kit.conformance.failures import Failure
from billing_kit.conformance.ledger import unsendable
from billing_kit.conformance.model import Exchange
from billing_kit.conformance.registry import Phase
from billing_kit.conformance.rules import exercised

EVIDENCE_KEPT = 3
CLAUSE = "ERR-2"


def _server_error(exchange: Exchange) -> str | None:
    """Why this exchange breaks ERR-2, or None."""
    if exchange.response is None:
        if exchange.error and exchange.error.startswith("not sent: the HTTP client"):
            return None
        return exchange.error or "no answer"
    if exercised.server_error(exchange):  # a 503/429 with Retry-After was waited out: never a failure
        return f"HTTP {exchange.response.status}"
    return None


def server_error_failure(exchange: Exchange) -> Failure | None:
    """ERR-2 broken by this one answer (a 5xx not told to wait), or None."""
    if not exercised.server_error(exchange):
        return None
    why = f"HTTP {exchange.status}"
    return Failure(CLAUSE, why, expected="a 2xx or 4xx answer within the timeout", actual=why, exchange=exchange)


@check("ERR-2", phase=Phase.WHOLE_RUN, order=99, needs=(), always=True, deep="round-judge")
def no_server_errors(ctx: CheckContext) -> None:
    """Every exchange of the run: no 5xx, no dropped connection, no hang."""
    if not ctx.log:
        # Run alone (--only ERR-2): a valid create and a malformed body, at least.
        auth = API if ctx.config.api_key else None
        ctx.send({"email": f"err2-{ctx.nonce}@example.com"}, auth=auth)
        ctx.send(raw=b'{"email": ', auth=auth)
    log = [exchange for exchange in ctx.log if not unsendable(exchange)]
    ctx.evidence(CLAUSE, len(log), required=1, case="every request of the run")
    bad = [(exchange, why) for exchange in log if (why := _server_error(exchange))]
    for exchange, why in bad[:EVIDENCE_KEPT]:
        ctx.violation(
            CLAUSE,
            f"{why} ({len(bad)} of {len(log)} requests)" if len(bad) > 1 else why,
            expected="a 2xx or 4xx answer within the timeout",
            actual=why,
            exchange=exchange,
        )


@check("ERR-4", order=80, corpora=("methods",))
def other_methods(ctx: CheckContext) -> None:
    """GET, PUT, PATCH and DELETE on /customers get 405 with `Allow: POST`."""
    for case in corpora.load_for_run("methods", ctx):  # one case per method, without a body
        exchange = corpora.send_case(ctx, case)
        if not exchange.ok:
            continue  # ERR-2's business
        failure = method_refused(exchange, case.method)
        if failure is not None:
            ctx.report(failure)
