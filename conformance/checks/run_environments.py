"""RES-ENV-1 over the whole run: every 201 is in the environment of the key that got it.

The targeted RES-ENV-1 checks judge their own creates; this one reads every
201 of the run (`ctx.log`), whichever check sent it. A server whose
idempotency records are keyed by the Idempotency-Key alone answers the IDEM-4
case's live-key create with the sandbox customer it made first: a live key
given a sandbox customer, a MUST broken and a leak across environments, which
only the idempotency check's own exchange shows.
"""

from __future__ import annotations

from billing_kit.conformance.checks import check
from billing_kit.conformance.context import API, LIVE, CheckContext
from billing_kit.conformance.model import Exchange


@check("RES-ENV-1", order=95, needs=())
def every_create_in_its_keys_environment(ctx: CheckContext) -> None:
    """Every 201 of the run, whichever check sent it, is in the environment of the key used."""
    expected: dict[str, str] = {}
    for ref in (API, LIVE):
        key = ctx.key(ref)
        env = ctx.contract.environment_of_key(key) if key else None
        if env is not None:
            expected[ref] = env
    wrong: dict[str, list[Exchange]] = {}
    for exchange in ctx.log:
        body = exchange.json_body()
        want = expected.get(exchange.request.key_ref or "")
        if not exchange.created or want is None or not isinstance(body, dict):
            continue
        got = body.get("environment")
        if isinstance(got, str) and got != want:
            wrong.setdefault(exchange.request.key_ref or "", []).append(exchange)
    for ref, exchanges in wrong.items():
        first = exchanges[0]
        body = first.json_body()
        ctx.violation(
            "RES-ENV-1",
            f"{len(exchanges)} create(s) with the {ref} key came back in another environment",
            expected=f"environment {expected[ref]!r}",
            actual=f"environment {body.get('environment')!r}",
            exchange=first,
        )
