"""Seeded Hypothesis properties over a live server, with a budget for shrinking.

    for_all(ctx, strategy, test)   `test(value)` raises Failure when the answer breaks a rule

Outcomes are cached by value, and once a failure is found at most
`max_shrink_requests` new values are sent: past that Hypothesis shrinks against
the cache only and keeps the smallest failure seen. The check's ledger entry
says how many values were tried and how many the run budget cut.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from hypothesis import HealthCheck, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from billing_kit.conformance.failures import Failure, Inconclusive
from billing_kit.conformance.http import BudgetExhausted, TargetStopped

if TYPE_CHECKING:
    from billing_kit.conformance.context import CheckContext

T = TypeVar("T")


@dataclass
class PropertyRun:
    examples: int
    tried: int = 0  # distinct values sent before any failure
    shrinking: int = 0  # values sent while shrinking
    cut: bool = False  # the run budget ended the property early
    failed: Failure | None = None
    stopped: TargetStopped | None = None  # the target stopped answering: nothing more is sent


def for_all(
    ctx: CheckContext, strategy: st.SearchStrategy[T], test: Callable[[T], None], examples: int | None = None
) -> PropertyRun:
    """Run `test` on `examples` seeded values; report the smallest failing one."""
    state = PropertyRun(examples or ctx.config.examples)
    cache: dict[str, Failure | None] = {}
    cap = ctx.config.max_shrink_requests

    def body(value: T) -> None:
        key = repr(value)
        if key in cache:
            cached = cache[key]
            if cached is not None:
                state.failed = cached
                raise cached
            return
        if state.cut or state.stopped is not None:
            return
        if state.failed is not None:
            if state.shrinking >= cap:
                return
            state.shrinking += 1
        else:
            state.tried += 1
        try:
            test(value)
        except Failure as failure:
            cache[key] = failure
            state.failed = failure
            raise
        except BudgetExhausted:
            state.cut = True
            return
        except TargetStopped as stopped:  # not a failing example: Hypothesis must not shrink it
            state.stopped = stopped
            return
        except Inconclusive:
            cache[key] = None
            return
        cache[key] = None

    run = settings(
        max_examples=state.examples,
        database=None,
        deadline=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
        report_multiple_bugs=False,
    )(given(strategy)(body))
    run = hypothesis_seed(ctx.config.seed)(run)
    try:
        run()
    except Failure:
        assert state.failed is not None
        ctx.report(state.failed)
    ctx.property_note(state)
    if state.stopped is not None:
        raise state.stopped
    if state.cut:
        raise BudgetExhausted
    return state
