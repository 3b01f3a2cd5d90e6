"""Before any check runs: is there a key, does the target answer, is it the API at this base URL?

Three set-up mistakes would otherwise run the whole suite and report FAILs that
are not the server's (or SKIP everything and exit 0):

    no key            -> PreflightFailed naming --api-key / $BILLING_API_KEY (nothing is sent)
    key refused       -> a valid create answered 401/403: the key is not one this server issued
    wrong base URL    -> a valid create answered 404: the base URL lacks the API prefix (/v1)
    not the API       -> a valid create answered a 5xx (after any Retry-After waits), 405,
                         HTML, or a 2xx whose body is not a JSON object: the run stops at the
                         door rather than send a thousand requests to the wrong thing

Anything else (a 400 or 422, a hang, no answer) is the checks' business. The one
valid create goes through the run's context, so it is evidence like any other:
a stop at the door reports what that answer broke (RES-1, and ERR-2 for a 5xx)
with it as evidence, and every other clause SKIP with the reason.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from billing_kit.conformance.http import Unreachable
from billing_kit.conformance.redact import mask_key

if TYPE_CHECKING:
    from billing_kit.conformance.config import RunConfig
    from billing_kit.conformance.context import CheckContext
    from billing_kit.conformance.contract import Contract
    from billing_kit.conformance.model import Exchange, Finding, RunResult


class PreflightFailed(Unreachable):
    """The run cannot judge this target as configured; the message names the likely cause.

    `findings`: what the preflight's one create broke (a stop at the door), for the report.
    """

    def __init__(self, message: str, findings: list[Finding] | None = None, sent: int = 0) -> None:
        super().__init__(message)
        self.findings = findings or []
        self.sent = sent


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
        exchange = ctx.send(valid_create(ctx.contract, ctx.nonce))
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
    why = not_the_api(exchange)
    if why is not None:
        from billing_kit.conformance.checks.answers import body_object, created_status
        from billing_kit.conformance.checks.errors import server_error_failure

        broken = [created_status(exchange), server_error_failure(exchange)]
        if exchange.ok and status is not None and 200 <= status < 300:
            broken.append(body_object(exchange))
        from billing_kit.conformance.confirm import mark_unconfirmed

        findings = [ctx.report(failure) for failure in broken if failure is not None]
        mark_unconfirmed(findings, "not tried again: the run stopped at the door")
        raise PreflightFailed(
            f"the server answered {why} to a valid create at {url}: is this the Customers API?",
            findings,
            ctx.client.sent,
        )


def not_the_api(exchange: Exchange) -> str | None:
    """How the answer to a valid create shows the target is not the API (e.g. `501 text/html`), or None."""
    from billing_kit.conformance.rules import exercised

    response = exchange.response
    if response is None:
        return None  # no answer: ERR-2's business, judged by the run
    media = (response.header("content-type") or "").split(";")[0].strip().lower() or "no Content-Type"
    answer = f"{response.status} {media}"
    if response.status >= 500 or response.status == 405:
        return answer + (" (after waiting as its Retry-After said)" if exercised.told_to_wait(exchange) else "")
    if media in ("text/html", "application/xhtml+xml"):
        return answer
    if 200 <= response.status < 300 and not isinstance(response.json, dict):
        why = response.json_error or f"a JSON {type(response.json).__name__}"
        return f"{answer} whose body is not a JSON object ({why})"
    return None


# Customers each check creates, measured against the reference by bench/creates.py for the
# default run and for `--only C` of every clause: a fixed part and a part per Hypothesis example.
CREATES_FILE = Path(__file__).resolve().parent / "creates.json"


@cache
def _creates_table() -> dict[str, Any]:
    return cast(dict[str, Any], json.loads(CREATES_FILE.read_text()))


def estimated_creates(config: RunConfig) -> int:
    """The customers a run is expected to create, announced at its start (an estimate, stated as such).

    The sum, over the checks the run selects, of what each created in the measured runs; under
    `--only`, each check counts what it created when run for the selected clause that made it
    create most. One more for the preflight's create.
    """
    from billing_kit.conformance.execute import select_checks
    from billing_kit.conformance.registry import load_all

    table = _creates_table()
    names = [spec.name for spec in select_checks(load_all(), config.only, config.case)]
    rows = [table["default"]] if not config.only else [table["only"].get(c, {}) for c in config.only]
    total = 1.0
    for name in names:
        made = [fixed + per * config.examples for fixed, per in (row[name] for row in rows if name in row)]
        total += max(made, default=0.0)
    return round(total)


def deep_creates(config: RunConfig) -> tuple[float, int | None]:
    """A deep run's customers per 100 requests (measured against the reference) and, under
    `--rate`, their ceiling: one per request, `--rate` requests a second for `--duration`."""
    per_100 = float(_creates_table().get("deep", {}).get("customers_per_100_requests", 0.0))
    ceiling = int(config.rate * config.duration) if config.rate and config.duration else None
    return per_100, ceiling


def refused_result(
    config: RunConfig,
    contract: Contract,
    message: str,
    requests_sent: int = 0,
    findings: list[Finding] | None = None,
) -> RunResult:
    """The report of a run the preflight stopped (the CLI exits 2): the clauses its one create
    broke (`findings`) FAIL or WARN at their level with it as evidence, every other clause SKIP
    with the reason."""
    from datetime import UTC, datetime

    from billing_kit.conformance import clauses
    from billing_kit.conformance.model import VIOLATION_VERDICT, ClauseVerdict, Coverage, RunResult, Verdict

    found: dict[str, list[Finding]] = {}
    for finding in findings or []:
        found.setdefault(finding.clause, []).append(finding)
    verdicts = [
        ClauseVerdict(
            clause.id,
            clause.level.value,
            clause.title,
            VIOLATION_VERDICT[clause.level] if clause.id in found else Verdict.SKIP,
            findings=found.get(clause.id, []),
            checks=["preflight"] if clause.id in found else [],
            coverage=Coverage(1, 1, 1, 1, 1, ["a valid create (the preflight)"]) if clause.id in found else Coverage(),
            note=f"stopped at the door: {message}" if clause.id in found else f"not judged: {message}",
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
