"""One run: preflight, every selected check in order, then a verdict per clause.

Data flows one way: the contract is loaded once, the checks report findings
through their context, and `fold` turns findings into one verdict per clause.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

from billing_kit.conformance import clauses
from billing_kit.conformance.checks import CheckSpec, load_all
from billing_kit.conformance.clauses import Level
from billing_kit.conformance.config import RunConfig
from billing_kit.conformance.context import CheckContext, Inconclusive
from billing_kit.conformance.contract import CUSTOMERS_PATH, Contract, load_contract
from billing_kit.conformance.http import Budget, BudgetExhausted, Client, ClientOptions
from billing_kit.conformance.model import ClauseVerdict, Finding, RunResult, Verdict
from billing_kit.conformance.redact import Redactor

_VIOLATION_VERDICT = {Level.MUST: Verdict.FAIL, Level.SHOULD: Verdict.WARN, Level.MAY: Verdict.INFO}


def select_checks(specs: list[CheckSpec], only: tuple[str, ...]) -> list[CheckSpec]:
    if not only:
        return specs
    return [spec for spec in specs if spec.always or set(spec.clauses) & set(only)]


def _needs_unmet(spec: CheckSpec, config: RunConfig) -> str | None:
    if "api_key" in spec.needs and not config.api_key:
        return "needs an API key (--api-key or $BILLING_API_KEY)"
    if "live_key" in spec.needs and not config.live_enabled:
        return "needs a live key (--live-key with --allow-live)"
    return None


def run_checks(ctx: CheckContext, specs: list[CheckSpec]) -> tuple[set[tuple[str, str]], bool]:
    """Run the checks; return the (check, clause) pairs that ran and whether the budget ran out."""
    ran: set[tuple[str, str]] = set()
    progress = ctx.config.progress
    for spec in specs:
        unmet = _needs_unmet(spec, ctx.config)
        ctx.current = spec
        if unmet:
            for clause in spec.clauses:
                ctx.inconclusive(clause, f"{spec.name} {unmet}")
            continue
        started = time.monotonic()
        try:
            spec.func(ctx)
        except BudgetExhausted:
            if progress:
                progress(f"{spec.name}: the run budget (--max-time) ran out")
            return ran, True
        except Inconclusive as exc:
            for clause in spec.clauses:
                ctx.inconclusive(clause, f"{spec.name}: {exc}")
        except Exception as exc:  # a check must never take the run down with it
            for clause in spec.clauses:
                ctx.inconclusive(clause, f"{spec.name} could not judge: {type(exc).__name__}: {str(exc)[:300]}")
        ran.update((spec.name, clause) for clause in spec.clauses)
        if progress:
            found = sum(1 for f in ctx.findings if f.check == spec.name and f.kind == "violation")
            tail = f"{found} finding(s)" if found else "ok"
            progress(f"{spec.name} [{', '.join(spec.clauses)}] {tail} ({time.monotonic() - started:.1f} s)")
    ctx.current = None
    return ran, False


def fold(
    findings: list[Finding],
    specs: list[CheckSpec],
    ran: set[tuple[str, str]],
    only: tuple[str, ...],
    contract: Contract | None = None,
) -> list[ClauseVerdict]:
    verdicts: list[ClauseVerdict] = []
    for clause in clauses.for_contract(contract) if contract is not None else clauses.CLAUSES:
        own = [f for f in findings if f.clause == clause.id]
        violations = [f for f in own if f.kind == "violation"]
        checks = [s.name for s in specs if clause.id in s.clauses]
        always = any(s.always for s in specs if clause.id in s.clauses)
        if only and clause.id not in only and not (violations and always):
            continue
        judged = [
            name
            for name in checks
            if (name, clause.id) in ran and not any(f.check == name and f.kind == "inconclusive" for f in own)
        ]
        note = ""
        if violations:
            verdict = _VIOLATION_VERDICT[clause.level]
        elif not judged:
            verdict = Verdict.SKIP
            reasons = [f.message for f in own if f.kind == "inconclusive"]
            if reasons:
                note = reasons[0]
            elif not checks:
                note = "no check of this clause is registered yet"
            else:
                note = "not judged: the run ended before its checks ran"
        elif clause.level is Level.MAY:
            verdict = Verdict.INFO
        else:
            verdict = Verdict.PASS
        verdicts.append(
            ClauseVerdict(clause.id, clause.level.value, clause.title, verdict, own, checks, note, clause.requirement)
        )
    return verdicts


def run(config: RunConfig, contract: Contract | None = None) -> RunResult:
    """Run the suite; raises http.Unreachable when the target cannot be reached at all."""
    contract = contract or load_contract(config.spec)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.monotonic()
    budget = Budget(config.max_time)
    from billing_kit import __version__

    client = Client(
        ClientOptions(
            base_url=config.base_url,
            timeout=config.timeout,
            extra_headers=config.headers,
            verify=config.verify,
            user_agent=f"billing-kit-conformance/{__version__}",
        ),
        budget,
        Redactor([config.api_key, config.live_key]),
    )
    try:
        client.preflight(CUSTOMERS_PATH)
        ctx = CheckContext(contract, config, client, nonce=secrets.token_hex(6))
        specs = select_checks(load_all(), config.only)
        deep_summary: dict[str, Any] = {}
        if config.duration:  # --duration: deep rounds between the default and the whole-run checks
            from billing_kit.conformance.deep import run_with_deep

            ran, exhausted, deep_summary = run_with_deep(ctx, specs, budget)
        else:
            ran, exhausted = run_checks(ctx, specs)
    finally:
        client.close()
    return RunResult(
        verdicts=fold(ctx.findings, specs, ran, config.only, contract),
        seed=config.seed,
        nonce=ctx.nonce,
        base_url=config.base_url,
        spec_sha256=contract.sha256,
        spec_origin=contract.origin,
        started_at=started_at,
        duration=time.monotonic() - started,
        requests_sent=client.sent + int(deep_summary.get("requests", 0)),
        created=list(ctx.created),
        budget_exhausted=exhausted,
        strict=config.strict,
        options={"examples": config.examples, "timeout": config.timeout, "max_time": config.max_time}
        | ({"deep": deep_summary} if deep_summary else {}),
    )
