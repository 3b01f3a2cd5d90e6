"""What a check receives: the contract, a way to send requests, and a way to report.

    ctx.send(body)                     POST /customers with the configured key, run-tagged
    ctx.send(raw=b"...", auth=None)    raw bytes, no Authorization header
    ctx.send(method="GET")             any method (`post` is the same method, kept for old callers)
    ctx.for_all(strategy, test)        a seeded Hypothesis property; `test` raises Failure
    ctx.report(failure)                a broken rule (`ctx.violation(...)`: the same, by keywords)
    ctx.note / inconclusive
    ctx.probe / evidence               what the check judged, for the evidence ledger

Every exchange of the run lands in `ctx.log`, so checks that judge the whole
run (ERR-2, ERR-3, RES-ID-2) read it at the end.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from billing_kit.conformance import clauses
from billing_kit.conformance.clauses import Level
from billing_kit.conformance.config import LIVE_CREATE_CAP, RunConfig
from billing_kit.conformance.contract import CUSTOMERS_PATH, Contract
from billing_kit.conformance.failures import Failure, Inconclusive
from billing_kit.conformance.http import REQUEST_EXCERPT, Client
from billing_kit.conformance.ledger import Ledger
from billing_kit.conformance.model import CreatedRecord, Exchange, Finding, FindingKind
from billing_kit.conformance.plan_cache import PlanCache
from billing_kit.conformance.registry import CheckSpec
from billing_kit.conformance.reproduce import curl_command, rerun_command

if TYPE_CHECKING:
    from hypothesis import strategies as st

    from billing_kit.conformance.properties import PropertyRun

T = TypeVar("T")
RUN_TAG_KEY: Final = "conformance_run"
IDEMPOTENCY_HEADER: Final = "idempotency-key"

__all__ = ["Failure", "Inconclusive"]


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


class LiveCapReached(Inconclusive):
    """The run sent as many live-key requests as it may; the rest cannot be judged."""


class CheckContext:
    def __init__(
        self, contract: Contract, config: RunConfig, client: Client, nonce: str, plans: PlanCache | None = None
    ) -> None:
        self.contract = contract
        self.config = config
        self.client = client
        self.nonce = nonce
        self.findings: list[Finding] = []
        self.log: list[Exchange] = []
        self.created: list[CreatedRecord] = []
        self.current: CheckSpec | None = None
        self.live_requests = 0
        self.ledger = Ledger()
        # Ids of 2xx exchanges a targeted check judged with what it sent (`response.every_success` judges the rest).
        self.judged_success: set[int] = set()
        self.plans = plans if plans is not None else PlanCache()  # the generic phase's cases (runner.run's)
        self.progress: Callable[[str], None] | None = None  # a line per finished check (runner.run's argument)
        self._created_ids: set[str] = set()
        self._resends = 0
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

    def send(
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
        """Send one request (any method) and return what came back; it is recorded in `log`."""
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
        if key_ref != LIVE:  # the live key's few requests are never spent on confirmation
            exchange.resend = lambda: self._resend(method, path, raw, all_headers, key_ref, sent)
        return exchange

    def _resend(
        self, method: str, path: str, raw: bytes | None, headers: list[tuple[str, str]], key_ref: str | None, sent: Any
    ) -> Exchange:
        """The same request again, with a fresh Idempotency-Key of the same length (a replay would prove nothing)."""
        with self._lock:
            self._resends += 1
            counter = self._resends
        fresh: list[tuple[str, str]] = []
        for name, value in headers:
            if name.lower() == IDEMPOTENCY_HEADER and value:
                base = f"{self.nonce}-confirm-{counter}-"
                value = (base + "x" * len(value))[: len(value)] if len(value) >= len(base) else base[-len(value) :]
            fresh.append((name, value))
        exchange = self.client.send(method, path, body=raw, headers=fresh, key_ref=key_ref)
        exchange.sent = sent
        return exchange

    def _record(self, exchange: Exchange) -> None:
        exchange.answered_at = time.monotonic()
        with self._lock:
            self.log.append(exchange)
            body = exchange.json_body()
            created = exchange.succeeded and isinstance(body, dict) and isinstance(body.get("id"), str)
            if created and body["id"] not in self._created_ids:  # a replay repeats its first id
                self._created_ids.add(body["id"])
                env = body.get("environment")
                key = "live" if exchange.request.key_ref == LIVE else "api"
                self.created.append(CreatedRecord(body["id"], env if isinstance(env, str) else None, key, self._check))
        current = self.current
        if current is not None:
            self.ledger.auto(current.name, current.clauses, exchange)

    # -- what the engine does with a context --------------------------------
    @contextmanager
    def running(self, spec: CheckSpec | None) -> Iterator[None]:
        """Attribute what is sent and found to `spec` until the block ends (then to the check before it)."""
        before, self.current = self.current, spec
        try:
            yield
        finally:
            self.current = before

    def add_findings(self, findings: Iterable[Finding]) -> None:
        """Findings made outside a check (the deep phase's merged ledger, a target that stopped)."""
        with self._lock:
            self.findings.extend(findings)

    def take_back(self, sub: CheckContext) -> None:
        """The client again, after `sub` (a confirmation's rerun on it) is done; keep the customers it created."""
        self.client.on_exchange = self._record
        self.live_requests = sub.live_requests
        with self._lock:
            known = {c.id for c in self.created}
            self.created += [c for c in sub.created if c.id not in known]

    def require_answer(self, exchange: Exchange) -> Exchange:
        """The exchange, or Inconclusive when there is no usable HTTP answer (ERR-2 judges that)."""
        if not exchange.ok:
            raise Inconclusive(f"no usable answer ({describe(exchange)}); see ERR-2")
        return exchange

    # -- the evidence ledger ---------------------------------------------------
    @property
    def _check(self) -> str:
        return self.current.name if self.current else ""

    def probe(self, clause: str, exchange: Exchange | None, *, case: str = "", judged: bool | None = None) -> None:
        """One request of this check for `clause` (None: planned, not sent); judged defaults to answered."""
        self.ledger.probe(self._check, clause, exchange, case=case, judged=judged)

    def evidence(self, clause: str, judged: int, *, required: int | None = None, case: str = "") -> None:
        """`judged` answers of the run, sent by other checks, judged by this one for `clause`."""
        self.ledger.evidence(self._check, clause, judged, required=required, case=case)

    def property_note(self, run: PropertyRun) -> None:
        text = f"property {self._check}: {run.tried} value(s) of {run.examples} examples tried"
        if run.cut:
            text += ", the rest cut by the run budget (--max-time)"
        elif run.tried < run.examples:
            text += " (Hypothesis found no more distinct values)"
        for clause in self.current.clauses if self.current else ():
            self.ledger.note(self._check, clause, text)

    # -- reporting ----------------------------------------------------------
    def _add(self, clause: str, kind: FindingKind, message: str, **extra: Any) -> Finding:
        if self.current is not None and clause not in self.current.clauses:
            raise ValueError(f"check {self.current.name} reported on {clause}, which it does not name")
        finding = Finding(clause=clause, kind=kind, message=message, check=self._check, **extra)
        with self._lock:
            self.findings.append(finding)
        return finding

    def report(self, failure: Failure) -> Finding:
        """Record a broken rule (FAIL for a MUST, WARN for a SHOULD, INFO for a MAY)."""
        reproduce = failure.reproduce or self.reproduction(failure.clause, failure.exchange)
        if failure.exchange is not None:  # a 5xx the check judged on its clause: judged, not unanswered
            self.ledger.judged_5xx(self._check, failure.clause, failure.exchange)
        return self._add(
            failure.clause,
            "violation",
            failure.title,
            expected=failure.expected,
            actual=failure.actual,
            exchange=failure.exchange,
            reproduce=reproduce,
            case=failure.case,
        )

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
        """`report(Failure(...))` by keywords."""
        self.report(
            Failure(
                clause, message, expected=expected, actual=actual, exchange=exchange, case=case, reproduce=reproduce
            )
        )

    def report_not_rejected(self, failure: Failure) -> None:
        """A request breaking `failure.clause` was not rejected; for a MUST of REQ-*/AUTH-* that also breaks ERR-1."""
        found = self.report(failure)
        rule = clauses.get(failure.clause)
        if rule.level is Level.MUST and rule.family in ("REQ", "AUTH"):
            with self._lock:
                self.findings.append(
                    Finding(
                        clause="ERR-1",
                        kind="violation",
                        message=f"{failure.clause}: {failure.title}",
                        check=found.check,
                        expected=found.expected,
                        actual=found.actual,
                        exchange=found.exchange,
                        reproduce=found.reproduce,
                        case=found.case,
                    )
                )

    def not_rejected(self, clause: str, message: str, **evidence: Any) -> None:
        """`report_not_rejected(Failure(...))` by keywords."""
        self.report_not_rejected(Failure(clause, message, **evidence))

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
        """Run `test` on `examples` seeded values; report the smallest failing one (see properties.py)."""
        from billing_kit.conformance.properties import for_all

        for_all(self, strategy, test, examples)


def describe(exchange: Exchange) -> str:
    if exchange.response is None:
        return exchange.error or "no answer"
    return f"HTTP {exchange.response.status}"
