"""Before any check runs: is there a key, does the target answer, is it the API at this base URL?

Three set-up mistakes would otherwise run the whole suite and report FAILs that
are not the server's (or SKIP everything and exit 0):

    no key            -> PreflightFailed naming --api-key / $BILLING_API_KEY (nothing is sent)
    key refused       -> a valid create answered 401/403: the key is not one this server issued
    wrong base URL    -> a valid create answered 404: the base URL lacks the API prefix (/v1)

Anything else (a 400, a 5xx, a hang, garbage) is the checks' business. The one
valid create goes through the run's context, so it is evidence like any other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from billing_kit.conformance.http import Unreachable
from billing_kit.conformance.redact import mask_key

if TYPE_CHECKING:
    from billing_kit.conformance.config import RunConfig
    from billing_kit.conformance.context import CheckContext
    from billing_kit.conformance.contract import Contract
    from billing_kit.conformance.model import RunResult


class PreflightFailed(Unreachable):
    """The run cannot judge this target as configured; the message names the likely cause."""


NO_KEY = (
    "no API key: pass --api-key or set $BILLING_API_KEY to a sandbox key the server issued "
    "(every check of the contract needs one)"
)


def require_key(config: RunConfig) -> None:
    if not config.api_key:
        raise PreflightFailed(NO_KEY)


def valid_create(contract: Contract, nonce: str) -> dict[str, object]:
    examples = [v for v in contract.request_examples().values() if isinstance(v, dict)]
    body = dict(examples[0]) if examples else {}
    body["email"] = f"preflight-{nonce}@example.com"
    return body


def check_target(ctx: CheckContext) -> None:
    """Send one valid create; raise PreflightFailed when the answer shows a set-up mistake."""
    from billing_kit.conformance.contract import CUSTOMERS_PATH
    from billing_kit.conformance.http import BudgetExhausted

    try:
        exchange = ctx.post(valid_create(ctx.contract, ctx.nonce))
    except BudgetExhausted:
        return  # the first check meets the spent budget too, and the runner reports it
    status = exchange.status
    url = ctx.client.url(CUSTOMERS_PATH)
    key = mask_key(ctx.config.api_key or "")
    if status in (401, 403):
        raise PreflightFailed(
            f"the server refused the API key {key} (HTTP {status} to a valid create at {url}): "
            "is it a sandbox key this server issued?"
        )
    if status == 404:
        prefix = ctx.contract.base_path or "/v1"
        hint = (
            f"does the base URL include the API prefix, e.g. {prefix}?"
            if not ctx.config.base_url.rstrip("/").endswith(prefix)
            else "is this the server the base URL should name?"
        )
        raise PreflightFailed(f"the server answered 404 at {url}: {hint}")


# Customers a run creates against the reference, measured with --examples 10 and 50 (121 and 224):
# a fixed part and a part per Hypothesis example. `--only` runs create fewer; the announcement says "about".
CREATES_FIXED = 95
CREATES_PER_EXAMPLE = 2.6


def estimated_creates(config: RunConfig) -> int:
    """The customers a run is expected to create, announced at its start (an estimate, stated as such)."""
    return round(CREATES_FIXED + CREATES_PER_EXAMPLE * config.examples)


def refused_result(config: RunConfig, contract: Contract, message: str, requests_sent: int = 0) -> RunResult:
    """The report of a run the preflight stopped: every clause SKIP with the reason (the CLI exits 2)."""
    from datetime import UTC, datetime

    from billing_kit.conformance import clauses
    from billing_kit.conformance.model import ClauseVerdict, RunResult, Verdict

    verdicts = [
        ClauseVerdict(
            clause.id,
            clause.level.value,
            clause.title,
            Verdict.SKIP,
            note=f"not judged: {message}",
            requirement=clause.requirement,
        )
        for clause in clauses.for_contract(contract)
        if not config.only or clause.id in config.only
    ]
    return RunResult(
        verdicts=verdicts,
        seed=config.seed,
        nonce="",
        base_url=config.base_url,
        spec_sha256=contract.sha256,
        spec_origin=contract.origin,
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        duration=0.0,
        requests_sent=requests_sent,
        created=[],
        strict=config.strict,
        options={"preflight": message, "examples": config.examples, "timeout": config.timeout},
    )
