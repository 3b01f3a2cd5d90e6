"""The generic phase's planned cases, kept per (spec sha, seed, examples) by the run that owns them.

The runner makes one per run and hands it to the context (`ctx.plans`); a
confirmation rerun then plans nothing, and tests that run the phase several
times may share one. Planning itself is `checks/generic_plan.py`'s: this
module imports nothing of the kit, so the context can hold one without
importing a check.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PlanKey = tuple[str, int, int]  # (spec sha256, seed, examples)


class PlanCache:
    """Planned cases by (spec sha, seed, examples): the same seed sends the same cases."""

    def __init__(self) -> None:
        self._plans: dict[PlanKey, list[Any]] = {}

    def get(self, key: PlanKey, make: Callable[[], list[Any]]) -> list[Any]:
        """The plan under `key`, made (once) by `make` when not kept yet."""
        if key not in self._plans:
            self._plans[key] = make()
        return self._plans[key]

    def __len__(self) -> int:
        return len(self._plans)
