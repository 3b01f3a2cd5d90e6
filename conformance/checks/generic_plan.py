"""The generic phase's plan: Schemathesis's cases turned into requests to send, cached per run.

Coverage-phase cases (boundaries and examples) come first, then `examples`
seeded positive and negative fuzzing cases; each becomes a `Planned` request
(or is dropped when an HTTP client could not send it), deduplicated. The run
keeps the plan in its `PlanCache` (conformance/plan_cache.py, `ctx.plans`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from billing_kit.conformance import strategies
from billing_kit.conformance.contract import CUSTOMERS_PATH, Contract

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy
    from schemathesis.generation.case import Case as SchemathesisCase

    Case = SchemathesisCase[Any]

# Methods not sent: OPTIONS may be a CORS preflight, QUERY is a draft method many HTTP stacks refuse.
SKIPPED_METHODS = frozenset({"OPTIONS", "QUERY", "HEAD", "CONNECT"})
# Headers the suite sets itself, or that frame the message and must not be fuzzed into it.
OWN_HEADERS = frozenset(
    {"authorization", "idempotency-key", "content-type", "content-length", "transfer-encoding", "host", "connection"}
)
SHORTEST_FRESH_KEY = 24  # a generated key shorter than this cannot be unique across runs: none is sent


@dataclass(frozen=True)
class Planned:
    """One request to send, built from a Schemathesis case."""

    case: Case
    method: str
    content_type: str | None
    body: Any  # a JSON value (run-tagged at send time), raw bytes, or None
    is_raw: bool
    auth: str  # "valid", "missing", or the verbatim invalid header
    key_length: int | None  # the generated Idempotency-Key's length; None: no key
    headers: tuple[tuple[str, str], ...]


def _schema(contract: Contract) -> Any:
    import schemathesis

    schemathesis.openapi.format("email", strategies.valid_emails())
    return schemathesis.openapi.from_dict(contract.spec)


def plan(contract: Contract, seed: int, examples: int, check_time: Callable[[], None] = lambda: None) -> list[Planned]:
    """Coverage cases, then `examples` positive and negative fuzzing cases, deduplicated (not cached here).

    `check_time` (the run budget's `check`) is called between cases: planning is CPU work, and on
    a busy machine it must not carry a run past its --max-time.
    """
    from schemathesis.generation import GenerationMode

    schema = _schema(contract)
    operation = schema[CUSTOMERS_PATH]["POST"]
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    cases: list[Case] = []
    for case in schema.iter_coverage_cases(
        operation, generation_modes=modes, generation_config=schema.config.generation_for(operation=operation)
    ):
        check_time()
        cases.append(case)
    for mode in modes:
        check_time()
        cases += draw(operation.as_strategy(generation_mode=mode), examples, seed)
    planned: list[Planned] = []
    seen: set[str] = set()
    for case in cases:
        item = _planned(case)
        if item is None:
            continue
        signature = repr((item.method, item.content_type, item.body, item.auth, item.key_length, item.headers))
        if signature not in seen:
            seen.add(signature)
            planned.append(item)
    return planned


def draw(strategy: SearchStrategy[Any], examples: int, seed: int) -> list[Case]:
    """`examples` seeded values of `strategy`, generated only (nothing fails, so nothing shrinks)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    drawn: list[Case] = []

    def collect(case: Case) -> None:
        drawn.append(case)

    run = settings(
        max_examples=examples,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )(given(strategy)(collect))
    hypothesis_seed(seed)(run)()
    return drawn


def _printable(value: str) -> bool:
    return value.isascii() and value.isprintable()


def _planned(case: Case) -> Planned | None:
    from schemathesis.core import NOT_SET

    method = case.method.upper()
    if method in SKIPPED_METHODS:
        return None
    headers = {str(k): str(v) for k, v in (case.headers or {}).items()}
    lowered = {k.lower(): v for k, v in headers.items()}
    header = lowered.get("authorization")
    if header is None:
        auth = "missing"
    elif header.startswith("Bearer") and all(c.isascii() and c.isprintable() and c != " " for c in header[7:]):
        auth = "valid"
    elif _printable(header):
        auth = header
    else:
        return None  # an HTTP client cannot send it; the auth matrix covers malformed headers
    key = lowered.get("idempotency-key")
    key_length = None if key is None or 0 < len(key) < SHORTEST_FRESH_KEY else len(key)
    extra = tuple((k, v) for k, v in headers.items() if k.lower() not in OWN_HEADERS and _printable(k + v))
    body: Any = case.body
    is_raw = isinstance(body, bytes)
    if body is NOT_SET:
        body, content_type = None, None
    else:
        content_type = lowered.get("content-type") or case.media_type or "application/json"
    return Planned(case, method, content_type, body, is_raw, auth, key_length, extra)
