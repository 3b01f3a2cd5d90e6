"""Running the selected checks in order: what they leave for `runner.fold` (the Outcome).

Shared by the default run (`runner.run`) and the deep rounds (`deep.py`), which is why
it is a module of its own: both import it, neither imports the other at load time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from billing_kit.conformance.config import RunConfig
from billing_kit.conformance.context import CheckContext
from billing_kit.conformance.failures import Inconclusive
from billing_kit.conformance.http import BudgetExhausted, TargetStopped
from billing_kit.conformance.ledger import Ledger
from billing_kit.conformance.model import Finding
from billing_kit.conformance.registry import CheckSpec

STOPPED_CHECK = "runner.target_stopped"


@dataclass
class Outcome:
    """What running the checks left for `fold`: which checks finished, their evidence, what went wrong."""

    completed: set[tuple[str, str]] = field(default_factory=set)  # (check, clause) of checks that ran to the end
    ledger: Ledger = field(default_factory=Ledger)
    crashed: dict[str, str] = field(default_factory=dict)  # check -> the internal error
    stopped: str | None = None  # why and when the target stopped answering
    exhausted: bool = False

    def __contains__(self, pair: object) -> bool:  # `(check, clause) in ran`, as before the ledger
        return pair in self.completed

    @property
    def internal_errors(self) -> list[str]:
        return [f"{name}: {error}" for name, error in self.crashed.items()]


def select_checks(specs: list[CheckSpec], only: tuple[str, ...], case: str | None = None) -> list[CheckSpec]:
    """The checks of the `--only` clauses (every check without); under `--case ID`, the owners of its corpus."""
    if case:
        from billing_kit.conformance import corpora

        found = corpora.find_case(case)
        corpus = found[0] if found else None
        return [
            spec
            for spec in specs
            if spec.always or (corpus in spec.corpora and (not only or bool(set(spec.clauses) & set(only))))
        ]
    if not only:
        return specs
    return [spec for spec in specs if spec.always or set(spec.clauses) & set(only)]


def _needs_unmet(spec: CheckSpec, config: RunConfig) -> str | None:
    if "api_key" in spec.needs and not config.api_key:
        return "needs an API key (--api-key or $BILLING_API_KEY)"
    if "live_key" in spec.needs and config.live_key and not config.allow_live:
        return "needs --allow-live: a live key was given without it"
    if "live_key" in spec.needs and not config.live_enabled:
        return "needs a live key (--live-key with --allow-live)"
    return None


def stop_reason(stopped: TargetStopped) -> str:
    return f"the server stopped answering at request {stopped.request_number}, {stopped.elapsed:.1f} s into the run"


def _record_stop(ctx: CheckContext, outcome: Outcome, stopped: TargetStopped) -> None:
    outcome.stopped = stop_reason(stopped)
    ctx.add_findings(
        [
            Finding(
                clause="ERR-2",
                kind="violation",
                message=f"{outcome.stopped}: {stopped.reason}",
                check=STOPPED_CHECK,
                expected="an answer to every request, for the whole run",
                actual=f"{stopped.reason} from request {stopped.request_number} on",
            )
        ]
    )


def run_checks(ctx: CheckContext, specs: list[CheckSpec]) -> tuple[Outcome, bool]:
    """Run the checks; return what they left for `fold` and whether the budget ran out."""
    outcome = Outcome(ledger=ctx.ledger)
    for spec in specs:
        if outcome.stopped and not spec.always:
            continue  # the target is gone: only the judges of the run so far (ERR-2) still run
        with ctx.running(spec):
            if not _run_one(ctx, spec, outcome):
                break
    return outcome, outcome.exhausted


def _run_one(ctx: CheckContext, spec: CheckSpec, outcome: Outcome) -> bool:
    """One check, its outcome into `outcome`; False when the run budget ran out (no further check runs)."""
    progress = ctx.progress
    unmet = _needs_unmet(spec, ctx.config)
    if unmet:
        for clause in spec.clauses:
            ctx.inconclusive(clause, f"{spec.name} {unmet}")
        return True
    started = time.monotonic()
    try:
        spec.func(ctx)
    except BudgetExhausted:
        if progress:
            progress(f"{spec.name}: the run budget (--max-time) ran out")
        outcome.exhausted = True
        return False
    except TargetStopped as stopped:
        if outcome.stopped is None:
            _record_stop(ctx, outcome, stopped)
            if progress:
                progress(f"{spec.name}: {outcome.stopped}; no more requests are sent")
        return True
    except Inconclusive as exc:
        for clause in spec.clauses:
            ctx.inconclusive(clause, f"{spec.name}: {exc}")
    except Exception as exc:  # a crash inside the suite: an internal error, never a verdict
        outcome.crashed[spec.name] = f"{type(exc).__name__}: {ctx.client.redactor.text(str(exc))[:300]}"
        for clause in spec.clauses:
            ctx.inconclusive(clause, f"internal error in {spec.name}: {outcome.crashed[spec.name]}")
        return True
    outcome.completed.update((spec.name, clause) for clause in spec.clauses)
    if progress:
        found = sum(1 for f in ctx.findings if f.check == spec.name and f.kind == "violation")
        tail = f"{found} finding(s)" if found else "ok"
        progress(f"{spec.name} [{', '.join(spec.clauses)}] {tail} ({time.monotonic() - started:.1f} s)")
    return True
