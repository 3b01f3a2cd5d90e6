"""The check registry: small plain functions, each naming the clause(s) it verifies.

    @check("AUTH-2", "AUTH-3")
    def auth_matrix(ctx: CheckContext) -> None:
        ...

This module imports neither the context nor the checks (the context and every
check import it), so the layers point one way. `load_all()` imports every
module of `conformance/checks/`, so adding a module is all it takes to add checks.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
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
) -> Callable[[CheckFunc], CheckFunc]:
    if not clause_ids:
        raise ValueError("a check names at least one clause")
    for clause_id in clause_ids:
        if clause_id not in clauses.BY_ID:
            raise ValueError(f"unknown clause {clause_id!r}")

    def register(func: CheckFunc) -> CheckFunc:
        name = f"{func.__module__.rsplit('.', 1)[-1]}.{func.__name__}"
        if name in REGISTRY:
            raise ValueError(f"check {name} registered twice")
        summary = (func.__doc__ or "").strip().splitlines()[0] if func.__doc__ else func.__name__
        REGISTRY[name] = CheckSpec(
            name, tuple(clause_ids), func, order, needs, summary, always, minimum, confirm, corpora, generated
        )
        return func

    return register


def load_all() -> list[CheckSpec]:
    """Every registered check, in run order."""
    package = importlib.import_module("billing_kit.conformance.checks")
    for module in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{package.__name__}.{module.name}")
    return sorted(REGISTRY.values(), key=lambda spec: (spec.order, spec.name))


def checks_for(clause_id: str) -> list[CheckSpec]:
    return [spec for spec in load_all() if clause_id in spec.clauses]
