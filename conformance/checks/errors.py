"""ERR-2 and ERR-4: answers under any input, and other methods."""

from __future__ import annotations

from billing_kit.conformance import corpora
from billing_kit.conformance.checks import check
from billing_kit.conformance.checks.answers import method_refused
from billing_kit.conformance.context import API, CheckContext
from billing_kit.conformance.http import retry_after_seconds
from billing_kit.conformance.ledger import unsendable
from billing_kit.conformance.model import Exchange

EVIDENCE_KEPT = 3


def _server_error(exchange: Exchange) -> str | None:
    """Why this exchange breaks ERR-2, or None."""
    if exchange.response is None:
        if exchange.error and exchange.error.startswith("not sent: the HTTP client"):
            return None
        return exchange.error or "no answer"
    status = exchange.response.status
    if status in (429, 503) and retry_after_seconds(exchange.response.header("retry-after")) is not None:
        return None  # waited out where the budget allowed; never a failure
    if status >= 500:
        return f"HTTP {status}"
    return None


@check("ERR-2", order=99, needs=(), always=True)
def no_server_errors(ctx: CheckContext) -> None:
    """Every exchange of the run: no 5xx, no dropped connection, no hang."""
    if not ctx.log:
        # Run alone (--only ERR-2): a valid create and a malformed body, at least.
        auth = API if ctx.config.api_key else None
        ctx.send({"email": f"err2-{ctx.nonce}@example.com"}, auth=auth)
        ctx.send(raw=b'{"email": ', auth=auth)
    log = [exchange for exchange in ctx.log if not unsendable(exchange)]
    ctx.evidence("ERR-2", len(log), required=1, case="every request of the run")
    bad = [(exchange, why) for exchange in log if (why := _server_error(exchange))]
    for exchange, why in bad[:EVIDENCE_KEPT]:
        ctx.violation(
            "ERR-2",
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
