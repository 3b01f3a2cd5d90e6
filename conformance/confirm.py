"""Confirmation (--confirm N): a FAIL or WARN is tried again before it is reported.

- A finding on one request (`confirm="request"`, the default) has that request,
  its smallest case, sent N more times; an attempt reproduces it when the server
  answers the same way again: the same status and media type, the same rules
  broken by a 2xx body (`response.judge_success`) or by an error body
  (`problems.problem_failures`), or no answer again.
- A concurrency or multi-request finding (`confirm="scenario"`) has its check run
  once more on a fresh run tag; it reproduces when the check breaks the same
  clause again. A whole-run check may give its own replay (a function).

`reproduced == 0` labels the finding FLAKY: still a violation (a server that
sometimes breaks a rule is broken), reported apart. Nothing is confirmed when the
run stopped early or its budget ran out; the live key's requests are never resent.
A violation that is not tried again says why (`Finding.unconfirmed`, `mark_unconfirmed`).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from billing_kit.conformance import clauses
from billing_kit.conformance.clauses import Level
from billing_kit.conformance.context import LIVE, CheckContext
from billing_kit.conformance.http import BudgetExhausted, TargetStopped
from billing_kit.conformance.model import Exchange, Finding
from billing_kit.conformance.registry import CheckSpec

Signature = tuple[object, ...]


def signature(ctx: CheckContext, exchange: Exchange) -> Signature:
    """How the server answered, as far as the contract's rules see it."""
    from billing_kit.conformance.checks.problems import problem_failures
    from billing_kit.conformance.checks.response import judge_success

    response = exchange.response
    if response is None:
        return ("no answer",)
    if exchange.succeeded:
        broken = sorted({f.clause for f in judge_success(ctx, exchange)})
        return response.status, response.media_type, tuple(broken)
    if 400 <= response.status < 500:
        return response.status, response.media_type, tuple(sorted({f.title for f in problem_failures(exchange)}))
    return response.status, response.media_type


def _resend_times(ctx: CheckContext, exchange: Exchange, times: int) -> tuple[int, list[Exchange]]:
    assert exchange.resend is not None
    wanted = signature(ctx, exchange)
    attempts = [exchange.resend() for _ in range(times)]
    return sum(1 for again in attempts if signature(ctx, again) == wanted), attempts


def rerun_scenario(ctx: CheckContext, spec: CheckSpec) -> tuple[set[str], list[Exchange]] | None:
    """Run `spec` once more on a fresh run tag: the clauses it broke, its exchanges; None if it could not judge."""
    sub = CheckContext(ctx.contract, ctx.config, ctx.client, nonce=secrets.token_hex(6))
    sub.live_requests = ctx.live_requests
    try:
        with sub.running(spec):
            spec.func(sub)
    except (BudgetExhausted, TargetStopped):
        raise
    except Exception:  # Inconclusive, or a crash the first run did not have: no confirmation either way
        return None
    finally:
        ctx.take_back(sub)
    if any(f.kind == "inconclusive" for f in sub.findings):
        return None
    return {f.clause for f in sub.findings if f.kind == "violation"}, sub.log


def _confirmable(finding: Finding) -> bool:
    return finding.kind == "violation" and clauses.get(finding.clause).level is not Level.MAY


def mark_unconfirmed(findings: list[Finding], why: str) -> None:
    """Every FAIL/WARN violation not tried again says why."""
    for finding in findings:
        if _confirmable(finding) and not finding.confirmations and finding.unconfirmed is None:
            finding.unconfirmed = why


def confirm_findings(ctx: CheckContext, specs: list[CheckSpec], times: int) -> None:
    """Fill `confirmations`, `reproduced` and `attempts` of every FAIL/WARN finding (else `unconfirmed`)."""
    if times <= 0:
        mark_unconfirmed(ctx.findings, "--confirm 0")
        return
    by_name = {spec.name: spec for spec in specs}
    by_exchange: dict[int, tuple[int, int, list[Exchange]]] = {}
    scenarios: dict[str, tuple[set[str], list[Exchange]] | None] = {}
    progress = ctx.progress
    confirmed = 0
    try:
        for finding in list(ctx.findings):
            if not _confirmable(finding):
                continue
            spec = by_name.get(finding.check)
            try:
                _confirm_one(ctx, finding, spec, times, by_exchange, scenarios)
            except (BudgetExhausted, TargetStopped):
                raise
            except Exception:  # a judge that cannot read the new answer: this finding stays unconfirmed
                finding.confirmations = finding.reproduced = None
                finding.unconfirmed = "the suite could not judge the answer to the confirmation"
            confirmed += finding.confirmations is not None
    except BudgetExhausted:
        mark_unconfirmed(ctx.findings, "the run's --max-time ran out before it was tried again")
    except TargetStopped:
        mark_unconfirmed(ctx.findings, "the server stopped answering before it was tried again")
    if progress and confirmed:
        flaky = sum(1 for f in ctx.findings if f.flaky)
        progress(f"confirm: {confirmed} finding(s) tried again ({times} time(s) each); {flaky} did not reproduce")


def _confirm_one(
    ctx: CheckContext,
    finding: Finding,
    spec: CheckSpec | None,
    times: int,
    by_exchange: dict[int, tuple[int, int, list[Exchange]]],
    scenarios: dict[str, tuple[set[str], list[Exchange]] | None],
) -> None:
    mode = spec.confirm if spec is not None else "none"
    if mode == "scenario" and spec is not None:
        if spec.name not in scenarios:
            scenarios[spec.name] = rerun_scenario(ctx, spec)
        again = scenarios[spec.name]
        if again is None:
            finding.unconfirmed = "its scenario, run again, could not be judged"
        else:
            broken, log = again
            finding.confirmations, finding.reproduced = 1, int(finding.clause in broken)
            finding.attempts = log[:3]
    elif callable(mode):
        _confirm_with(ctx, finding, mode)
    elif mode == "request" and finding.exchange is not None and finding.exchange.resend is not None:
        key = id(finding.exchange)
        if key not in by_exchange:
            reproduced, attempts = _resend_times(ctx, finding.exchange, times)
            by_exchange[key] = (times, reproduced, attempts)
        finding.confirmations, finding.reproduced, finding.attempts = by_exchange[key]
    else:
        finding.unconfirmed = _why_not_resent(finding, mode)


def _why_not_resent(finding: Finding, mode: object) -> str:
    if mode == "none":
        return "its scenario spans the whole run"
    if finding.exchange is None:
        return "it rests on the run as a whole, not on one request"
    if finding.exchange.request.key_ref == LIVE:
        return "the live key's requests are never resent"
    return "its request cannot be sent again as it was"


def _confirm_with(ctx: CheckContext, finding: Finding, replay: Callable[[CheckContext, Finding], bool | None]) -> None:
    before = len(ctx.log)
    reproduced = replay(ctx, finding)
    if reproduced is None:
        finding.unconfirmed = "its replay could not be judged"
    else:
        finding.confirmations, finding.reproduced = 1, int(reproduced)
        finding.attempts = ctx.log[before:][:3]
