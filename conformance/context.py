"""What a check receives: the contract, a way to send requests, and a way to report.

    ctx.post(body)                     POST /customers with the configured key, run-tagged
    ctx.post(raw=b"...", auth=None)    raw bytes, no Authorization header
    ctx.for_all(strategy, test)        a seeded Hypothesis property; `test` raises Violation
    ctx.violation / note / inconclusive

Every exchange of the run lands in `ctx.log`, so checks that judge the whole
run (ERR-2, ERR-3, RES-ID-2) read it at the end.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final, TypeVar

from hypothesis import HealthCheck, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis import strategies as st

from billing_kit.conformance import clauses
from billing_kit.conformance.checks import CheckSpec
from billing_kit.conformance.clauses import Level
from billing_kit.conformance.config import LIVE_CREATE_CAP, RunConfig
from billing_kit.conformance.contract import CUSTOMERS_PATH, Contract
from billing_kit.conformance.http import REQUEST_EXCERPT, BudgetExhausted, Client
from billing_kit.conformance.model import CreatedRecord, Exchange, Finding, FindingKind
from billing_kit.conformance.reproduce import curl_command, rerun_command

T = TypeVar("T")
RUN_TAG_KEY: Final = "conformance_run"


class _Missing:
    pass


MISSING: Final = _Missing()
API: Final = "api"
LIVE: Final = "live"


@dataclass(frozen=True)
class RawAuth:
    """An Authorization header value sent exactly as given (for the auth matrix)."""

    value: str


Auth = str | RawAuth | None


class Violation(Exception):
    """Raised inside a property test: the clause broken, with its evidence."""

    def __init__(
        self,
        clause: str,
        message: str,
        *,
        expected: str | None = None,
        actual: str | None = None,
        exchange: Exchange | None = None,
    ) -> None:
        super().__init__(f"{clause}: {message}")
        self.clause = clause
        self.message = message
        self.expected = expected
        self.actual = actual
        self.exchange = exchange


class Inconclusive(Exception):
    """Raised by a check that cannot judge (no usable answer, a key missing)."""


class LiveCapReached(Inconclusive):
    pass


class CheckContext:
    def __init__(self, contract: Contract, config: RunConfig, client: Client, nonce: str) -> None:
        self.contract = contract
        self.config = config
        self.client = client
        self.nonce = nonce
        self.findings: list[Finding] = []
        self.log: list[Exchange] = []
        self.created: list[CreatedRecord] = []
        self.current: CheckSpec | None = None
        self.live_requests = 0
        self.progress: Callable[[str], None] | None = None  # a line per finished check (runner.run's argument)
        self._created_ids: set[str] = set()
        self._lock = threading.Lock()
        client.on_exchange = self._record

    # -- requests -----------------------------------------------------------
    @property
    def run_tag(self) -> dict[str, str]:
        return {RUN_TAG_KEY: self.nonce}

    def tagged(self, body: Any) -> Any:
        """The body with the run tag merged into `metadata` (added when absent)."""
        if not isinstance(body, dict):
            return body
        metadata = body.get("metadata", {})
        if not isinstance(metadata, dict) or RUN_TAG_KEY in metadata:
            return body
        return {**body, "metadata": {**metadata, **self.run_tag}}

    def key(self, auth: Auth) -> str | None:
        if auth == API:
            return self.config.api_key
        if auth == LIVE:
            return self.config.live_key if self.config.live_enabled else None
        return None

    def post(
        self,
        body: Any = MISSING,
        *,
        raw: bytes | None = None,
        auth: Auth = API,
        tag: bool = True,
        content_type: str | None = "application/json",
        headers: Sequence[tuple[str, str]] = (),
        method: str = "POST",
        path: str = CUSTOMERS_PATH,
    ) -> Exchange:
        sent: Any = None
        if raw is None and not isinstance(body, _Missing):
            sent = self.tagged(body) if tag else body
            raw = json.dumps(sent, ensure_ascii=False).encode("utf-8", "surrogatepass")
        all_headers: list[tuple[str, str]] = []
        if content_type is not None and raw is not None:
            all_headers.append(("Content-Type", content_type))
        key_ref: str | None = None
        if isinstance(auth, RawAuth):
            all_headers.append(("Authorization", auth.value))
            key_ref = "raw"
        elif auth in (API, LIVE):
            key = self.key(auth)
            if key is None:
                raise Inconclusive(f"no {'live' if auth == LIVE else 'API'} key given")
            if auth == LIVE:
                with self._lock:
                    if self.live_requests >= LIVE_CREATE_CAP:
                        raise LiveCapReached(f"the live key is limited to {LIVE_CREATE_CAP} requests")
                    self.live_requests += 1
            all_headers.append(("Authorization", f"Bearer {key}"))
            key_ref = auth
        all_headers.extend(headers)
        exchange = self.client.send(method, path, body=raw, headers=all_headers, key_ref=key_ref)
        exchange.sent = sent
        return exchange

    def _record(self, exchange: Exchange) -> None:
        with self._lock:
            self.log.append(exchange)
            body = exchange.json_body()
            created = exchange.created and isinstance(body, dict) and isinstance(body.get("id"), str)
            if created and body["id"] not in self._created_ids:  # a replay repeats its first id
                self._created_ids.add(body["id"])
                env = body.get("environment")
                key = "live" if exchange.request.key_ref == LIVE else "api"
                self.created.append(CreatedRecord(body["id"], env if isinstance(env, str) else None, key))

    def require_answer(self, exchange: Exchange) -> Exchange:
        """The exchange, or Inconclusive when there is no usable HTTP answer (ERR-2 judges that)."""
        if exchange.response is None or exchange.response.status >= 500:
            raise Inconclusive(f"no usable answer ({describe(exchange)}); see ERR-2")
        return exchange

    # -- reporting ----------------------------------------------------------
    def _add(self, clause: str, kind: FindingKind, message: str, **extra: Any) -> None:
        if self.current is not None and clause not in self.current.clauses:
            raise ValueError(f"check {self.current.name} reported on {clause}, which it does not name")
        check = self.current.name if self.current else ""
        with self._lock:
            self.findings.append(Finding(clause=clause, kind=kind, message=message, check=check, **extra))

    def violation(
        self,
        clause: str,
        message: str,
        *,
        expected: str | None = None,
        actual: str | None = None,
        exchange: Exchange | None = None,
        reproduce: str | None = None,
        case: str | None = None,
    ) -> None:
        if reproduce is None:
            reproduce = self.reproduction(clause, exchange)
        self._add(
            clause,
            "violation",
            message,
            expected=expected,
            actual=actual,
            exchange=exchange,
            reproduce=reproduce,
            case=case,
        )

    def not_rejected(self, clause: str, message: str, **evidence: Any) -> None:
        """A request that breaks `clause` was not rejected; for a MUST of REQ-*/AUTH-* that also breaks ERR-1."""
        self.violation(clause, message, **evidence)
        rule = clauses.get(clause)
        if rule.level is Level.MUST and rule.family in ("REQ", "AUTH"):
            found = self.findings[-1]
            with self._lock:
                self.findings.append(
                    Finding(
                        clause="ERR-1",
                        kind="violation",
                        message=f"{clause}: {message}",
                        check=found.check,
                        expected=found.expected,
                        actual=found.actual,
                        exchange=found.exchange,
                        reproduce=found.reproduce,
                        case=found.case,
                    )
                )

    def note(self, clause: str, message: str, *, exchange: Exchange | None = None, case: str | None = None) -> None:
        self._add(clause, "note", message, exchange=exchange, case=case)

    def inconclusive(self, clause: str, message: str, *, exchange: Exchange | None = None) -> None:
        self._add(clause, "inconclusive", message, exchange=exchange)

    def reproduction(self, clause: str, exchange: Exchange | None) -> str:
        if exchange is not None and exchange.request.body_size <= REQUEST_EXCERPT:
            return curl_command(exchange.request)
        return rerun_command(self.config, clause)

    # -- properties -----------------------------------------------------------
    def for_all(self, strategy: st.SearchStrategy[T], test: Callable[[T], None], examples: int | None = None) -> None:
        """Run `test` on `examples` seeded values; report the smallest failing one.

        Outcomes are cached by value, and once a failure is found at most
        `max_shrink_requests` new values are sent: past that Hypothesis shrinks
        against the cache only and keeps the smallest failure seen.
        """
        cache: dict[str, Violation | None] = {}
        state: dict[str, Any] = {"failed": False, "after": 0, "last": None, "budget": False}
        cap = self.config.max_shrink_requests

        def body(value: T) -> None:
            key = repr(value)
            if key in cache:
                cached = cache[key]
                if cached is not None:
                    state["last"] = cached
                    raise cached
                return
            if state["budget"]:
                return
            if state["failed"]:
                state["after"] += 1
                if state["after"] > cap:
                    return
            try:
                test(value)
            except Violation as violation:
                cache[key] = violation
                state["failed"], state["last"] = True, violation
                raise
            except BudgetExhausted:
                state["budget"] = True
                return
            except Inconclusive:
                cache[key] = None
                return
            cache[key] = None

        run = settings(
            max_examples=examples or self.config.examples,
            database=None,
            deadline=None,
            derandomize=False,
            suppress_health_check=list(HealthCheck),
            verbosity=Verbosity.quiet,
            report_multiple_bugs=False,
        )(given(strategy)(body))
        run = hypothesis_seed(self.config.seed)(run)
        try:
            run()
        except Violation:
            found: Violation = state["last"]
            self.violation(
                found.clause, found.message, expected=found.expected, actual=found.actual, exchange=found.exchange
            )
        if state["budget"]:
            raise BudgetExhausted


def describe(exchange: Exchange) -> str:
    if exchange.response is None:
        return exchange.error or "no answer"
    return f"HTTP {exchange.response.status}"
