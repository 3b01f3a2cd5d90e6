"""The options of one run, as the CLI and the pytest plugin pass them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

DEFAULT_EXAMPLES = 50
DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_TIME = 600.0
DEFAULT_CLOCK_SKEW = 300.0
DEFAULT_MAX_SHRINK_REQUESTS = 60
LIVE_CREATE_CAP = 5


@dataclass(frozen=True)
class RunConfig:
    base_url: str
    api_key: str | None = None
    live_key: str | None = None
    allow_live: bool = False
    spec: str | None = None
    strict: bool = False
    seed: int = 0
    examples: int = DEFAULT_EXAMPLES
    timeout: float = DEFAULT_TIMEOUT
    max_time: float = DEFAULT_MAX_TIME
    clock_skew: float = DEFAULT_CLOCK_SKEW
    headers: tuple[tuple[str, str], ...] = ()
    verify: bool | str = True
    only: tuple[str, ...] = ()
    # Requests Hypothesis may spend shrinking a failure before the smallest found so far is kept.
    max_shrink_requests: int = DEFAULT_MAX_SHRINK_REQUESTS
    # --duration / --workers (conformance/deep.py): seconds of fresh cases after the default checks.
    duration: float | None = None
    workers: int = 1
    progress: Callable[[str], None] | None = field(default=None, compare=False)

    @property
    def live_enabled(self) -> bool:
        return bool(self.live_key and self.allow_live)
