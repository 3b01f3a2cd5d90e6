"""The check registry: small plain functions, each naming the clause(s) it verifies.

    @check("AUTH-2", "AUTH-3")
    def auth_matrix(ctx: CheckContext) -> None:
        ...

This module imports neither the context nor the checks (the context and every
check import it), so the layers point one way. `load_all()` imports every
module of `conformance/checks/`, so adding a module is all it takes to add checks.

What a check is, is declared where it is registered, never listed elsewhere:
- `phase`: `Phase.SEND` (the default checks, beside or before the deep rounds) or
  `Phase.WHOLE_RUN` (after them: the judges of the whole run's exchanges, and what
  must be sent last); `order` orders the checks within a phase;
- `deep`: its part in each deep round (`"fuzz"`, the generic phase's cases;
  `"property"`, sent again on the round's seed; `"round-judge"`, judging the round's
  exchanges; `"ids"`, the creates folded into the run's ids and org_ids);
- `replay`: how `billing-kit replay` judges one of its findings alone (`"corpus"`,
  `"body"`, `"create"`); without it, replay runs its scenario again;
- `name`: its stable id (`module.function` unless given), which a baseline's
  fingerprints and `--case` carry: a check that moves keeps it by naming it.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Literal

from billing_kit.conformance import clauses

if TYPE_CHECKING:
    from billing_kit.conformance.context import CheckContext
    from billing_kit.conformance.model import Finding

CheckFunc = Callable[["CheckContext"], None]
# How a FAIL/WARN of the check is confirmed (--confirm N):
#   "request"  its smallest case (the finding's exchange) is sent N more times
#   "scenario" the check runs once more on a fresh run tag (concurrency, multi-request scenarios)
#   "none"     it cannot be replayed alone (its scenario is the run's first and last request)
#   a function (ctx, finding) -> reproduced?, None when it cannot tell: a whole-run scenario replayed once
Confirmer = Callable[["CheckContext", "Finding"], "bool | None"]
Confirm = Literal["request", "scenario", "none"] | Confirmer
DeepRole = Literal["fuzz", "property", "round-judge", "ids"]
ReplayRole = Literal["corpus", "body", "create"]


class Phase(Enum):
    """When a check runs: the default checks, then (with --duration) the deep rounds, then the whole-run judges."""

    SEND = "send"
    WHOLE_RUN = "whole run"


@dataclass(frozen=True)
class CheckSpec:
    name: str
    clauses: tuple[str, ...]
    func: CheckFunc
    # Lower runs earlier; checks whose evidence comes from the others' exchanges run last.
    order: int
    # "api_key": needs --api-key; "live_key": needs --live-key with --allow-live.
    needs: tuple[str, ...]
    summary: str
    # Runs even when --only leaves its clauses out; its violations are reported anyway.
    always: bool = False
    # Judged answers the check needs before its clauses can PASS: None, every probe it sent;
    # a number, at least that many (0: its probes are judged by another check, e.g. ERR-2's).
    minimum: int | None = None
    confirm: Confirm = "request"
    # The corpora (conformance/corpora/NAME.json) whose cases it sends: `--case ID` runs their owner.
    corpora: tuple[str, ...] = ()
    # Its cases are drawn by generators (Hypothesis properties, Schemathesis phases): what it
    # judged counts towards the detection power stated beside a verdict (conformance.assurance).
    generated: bool = False
    phase: Phase = Phase.SEND
    deep: DeepRole | None = None
    replay: ReplayRole | None = None


REGISTRY: dict[str, CheckSpec] = {}


def check(
    *clause_ids: str,
    order: int = 50,
    needs: tuple[str, ...] = ("api_key",),
    always: bool = False,
    minimum: int | None = None,
    confirm: Confirm = "request",
    corpora: tuple[str, ...] = (),
    generated: bool = False,
    phase: Phase = Phase.SEND,
    deep: DeepRole | None = None,
    replay: ReplayRole | None = None,
    name: str | None = None,
) -> Callable[[CheckFunc], CheckFunc]:
    if not clause_ids:
        raise ValueError("a check names at least one clause")
    for clause_id in clause_ids:
        if clause_id not in clauses.BY_ID:
            raise ValueError(f"unknown clause {clause_id!r}")

    def register(func: CheckFunc) -> CheckFunc:
        stable = name or f"{func.__module__.rsplit('.', 1)[-1]}.{func.__name__}"
        if stable in REGISTRY:
            raise ValueError(f"check {stable} registered twice")
        summary = (func.__doc__ or "").strip().splitlines()[0] if func.__doc__ else func.__name__
        REGISTRY[stable] = CheckSpec(
            stable, tuple(clause_ids), func, order, needs, summary, always, minimum, confirm, corpora, generated,
            phase, deep, replay,
        )  # fmt: skip
        return func

    return register


def load_all() -> list[CheckSpec]:
    """Every registered check, in run order."""
    package = importlib.import_module("billing_kit.conformance.checks")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    phases = list(Phase)
    return sorted(REGISTRY.values(), key=lambda spec: (phases.index(spec.phase), spec.order, spec.name))


def in_role(role: DeepRole, specs: list[CheckSpec] | None = None) -> list[CheckSpec]:
    """The checks (of `specs`, default every one) with this part in a deep round, in run order."""
    return [spec for spec in (load_all() if specs is None else specs) if spec.deep == role]


def checks_for(clause_id: str) -> list[CheckSpec]:
    return [spec for spec in load_all() if clause_id in spec.clauses]
