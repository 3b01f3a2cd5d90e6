"""One run: preflight, every selected check in order, confirmation, then a verdict per clause.

Data flows one way: the contract is loaded once, the checks report findings
and their evidence (the ledger) through their context, failures are confirmed
(`confirm.py`), and `fold` turns findings and evidence into one verdict per clause.
"""

from __future__ import annotations

import secrets
import time
from datetime import UTC, datetime
from typing import Any

from billing_kit.conformance import clauses, preflight, proven
from billing_kit.conformance.clauses import Level
from billing_kit.conformance.config import RunConfig
from billing_kit.conformance.context import CheckContext
from billing_kit.conformance.contract import Contract
from billing_kit.conformance.execute import Outcome, run_checks, select_checks
from billing_kit.conformance.http import Budget, Client, ClientOptions
from billing_kit.conformance.ledger import Entry, coverage_of
from billing_kit.conformance.model import VIOLATION_VERDICT, ClauseVerdict, Finding, RunResult, Verdict
from billing_kit.conformance.plan_cache import PlanCache
from billing_kit.conformance.progress import Progress
from billing_kit.conformance.redact import Redactor
from billing_kit.conformance.registry import CheckSpec, load_all
from billing_kit.conformance.spec_source import load_contract


def _required(spec: CheckSpec, entry: Entry) -> int:
    if entry.required is not None:
        return entry.required
    return spec.minimum if spec.minimum is not None else entry.planned


def _why_not_run(outcome: Outcome) -> str:
    if outcome.stopped:
        return outcome.stopped
    if outcome.exhausted:
        return "the run budget (--max-time) ran out before its checks finished"
    return "the run ended before its checks ran"


def fold(
    findings: list[Finding],
    specs: list[CheckSpec],
    ran: Outcome | set[tuple[str, str]],
    only: tuple[str, ...],
    contract: Contract | None = None,
) -> list[ClauseVerdict]:
    """One verdict per clause: a PASS only on judged answers at least every check's minimum."""
    outcome = ran if isinstance(ran, Outcome) else Outcome(completed=set(ran))
    verdicts: list[ClauseVerdict] = []
    for clause in clauses.for_contract(contract) if contract is not None else clauses.CLAUSES:
        own = [f for f in findings if f.clause == clause.id]
        violations = [f for f in own if f.kind == "violation"]
        mine = [s for s in specs if clause.id in s.clauses]
        checks = [s.name for s in mine]
        always = any(s.always for s in mine)
        if only and clause.id not in only and not (violations and always):
            continue
        entries: list[tuple[Entry, int]] = []
        blockers: list[str] = []
        reasons: list[str] = []
        for spec in mine:
            gave_up = next((f.message for f in own if f.check == spec.name and f.kind == "inconclusive"), None)
            if spec.name in outcome.crashed:
                blockers.append(f"internal error in {spec.name}: {outcome.crashed[spec.name]}")
            elif gave_up is not None:
                reasons.append(gave_up)
            elif (spec.name, clause.id) not in outcome.completed:
                entry = outcome.ledger.get(spec.name, clause.id)
                entries.append((entry, max(entry.planned, 1)))
                blockers.append(f"{spec.name} did not finish: {_why_not_run(outcome)}")
            else:
                entry = outcome.ledger.get(spec.name, clause.id)
                required = _required(spec, entry)
                entries.append((entry, required))
                if entry.judged < required:
                    blockers.append(f"{spec.name}: {entry.judged} of {required} required answers judged")
        coverage = coverage_of(entries)
        generators = {s.name for s in mine if s.generated}
        coverage.generated = sum(outcome.ledger.get(name, clause.id).judged for name in generators)
        coverage.failing = sum(1 for f in violations if f.check in generators)
        note = ""
        if violations:
            verdict = VIOLATION_VERDICT[clause.level]
        elif blockers or coverage.judged == 0:
            verdict = Verdict.SKIP
            wanted = max(coverage.planned, coverage.required)
            note = _skip_note(wanted, coverage.judged, blockers, reasons, bool(mine), outcome)
        elif clause.level is Level.MAY:
            verdict = Verdict.INFO
        else:
            verdict = Verdict.PASS
        if blockers:
            coverage.note = "; ".join(filter(None, [coverage.note, *blockers]))
        verdicts.append(
            ClauseVerdict(
                clause.id,
                clause.level.value,
                clause.title,
                verdict,
                own,
                checks,
                note,
                clause.requirement,
                coverage,
                [d.name for d in proven.caught_by(clause.id, outcome.completed)] if verdict is Verdict.PASS else [],
            )
        )
    return verdicts


def _skip_note(
    planned: int, judged: int, blockers: list[str], reasons: list[str], registered: bool, outcome: Outcome
) -> str:
    internal = next((b for b in blockers if b.startswith("internal error")), None)
    if internal:
        return internal
    if outcome.stopped and blockers:
        if planned:
            return f"{planned - judged} of {planned} cases unanswered: {outcome.stopped}"
        return f"not judged: {outcome.stopped}"
    if blockers:
        if planned > judged:
            return f"{planned - judged} of {planned} cases unanswered ({blockers[0]})"
        return f"not judged: {blockers[0]}"
    if reasons:
        return reasons[0]
    if not registered:
        return "no check of this clause is registered yet"
    if planned:
        return f"{planned - judged} of {planned} cases unanswered: no judged answer"
    return "not judged: the run ended before its checks ran"


def run(
    config: RunConfig,
    contract: Contract | None = None,
    progress: Progress | None = None,
    *,
    client: Client | None = None,
) -> RunResult:
    """Run the suite; raises http.Unreachable when the target cannot be reached at all.

    `progress`, if given, sees the run start (and so its live state) and a line per check.
    `client` replaces the HTTP client the run would build (it is closed at the end).
    """
    from billing_kit.conformance.confirm import confirm_findings, mark_unconfirmed

    contract = contract or load_contract(config.spec)
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    started = time.monotonic()
    if client is None:
        client = Client(
            ClientOptions.of_run(config),
            Budget(config.max_time),
            Redactor([config.api_key, config.live_key]),
        )
    try:
        preflight.require_key(config)
        client.reachable()
        # The run owns the generic phase's plan: planned once, reused by confirmation reruns.
        ctx = CheckContext(contract, config, client, nonce=secrets.token_hex(6), plans=PlanCache())
        if progress is not None:
            ctx.progress = progress.line
            progress.started(ctx)
        preflight.check_target(ctx)
        if progress is not None:
            progress.ready()
        specs = select_checks(load_all(), config.only, config.case)
        deep_summary: dict[str, Any] = {}
        if config.duration:  # --duration: deep rounds between the default and the whole-run checks
            from billing_kit.conformance.deep import run_with_deep

            outcome, exhausted, deep_summary = run_with_deep(ctx, specs, client.budget)
        else:
            outcome, exhausted = run_checks(ctx, specs)
        if outcome.stopped:
            mark_unconfirmed(ctx.findings, f"not tried again: {outcome.stopped}")
        elif exhausted:
            mark_unconfirmed(ctx.findings, "not tried again: the run's --max-time ran out")
        else:
            confirm_findings(ctx, specs, config.confirm)
    finally:
        client.close()
    verdicts = fold(ctx.findings, specs, outcome, config.only, contract)
    for verdict in verdicts:  # the deep rounds' cases per clause, in every report's ledger
        verdict.coverage.deep = int(deep_summary.get("judged", {}).get(verdict.clause, 0))
        verdict.coverage.failing += int(deep_summary.get("failing", {}).get(verdict.clause, 0))
    return RunResult(
        verdicts=verdicts,
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
        options={
            "examples": config.examples,
            "timeout": config.timeout,
            "max_time": config.max_time,
            "confirm": config.confirm,
            "rate": config.rate,
            "max_connections": config.max_connections,
        }
        | ({"deep": deep_summary} if deep_summary else {}),
        stopped=outcome.stopped,
        internal_errors=outcome.internal_errors,
    )
