"""The generic phase: Schemathesis's coverage and fuzzing phases on the spec in use.

Schemathesis generates the requests (coverage-phase boundaries and examples,
then seeded positive and negative fuzzing) and runs its own checks on every
answer; the suite sends them through its own client (so ERR-2 and ERR-3 see
them) and maps each finding to the contract's clause and level:

- what a request breaks is read from the request as sent (`generic_judge`), so
  a negative case that is still legal (a valid address, a quoted one) or a
  legal answer (422 for 400, a refused MAY case) is never a finding;
- Schemathesis's response checks on a 2xx map by the member they name: `id`
  to RES-ID-1, `environment` to RES-ENV-1, a missing member to RES-1, …;
  on a 4xx they are ERR-3's (judged over the whole run), on a 5xx ERR-2's.

Its `email` format draws from the REQ-EMAIL-2 generator. The generic phase
sends no `Idempotency-Key` or a fresh one from the run's nonce (of the
generated key's length, so its boundaries stay tested). Generated cases are
cached per spec, seed and example count: the same seed sends the same cases.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from billing_kit.conformance import strategies
from billing_kit.conformance.checks import check, generic_judge
from billing_kit.conformance.checks.generic_judge import Expectation
from billing_kit.conformance.context import API, CheckContext, RawAuth, describe
from billing_kit.conformance.contract import CUSTOMERS_PATH
from billing_kit.conformance.failures import Failure
from billing_kit.conformance.model import Exchange

if TYPE_CHECKING:
    from hypothesis.strategies import SearchStrategy
    from schemathesis.generation.case import Case as SchemathesisCase

    Case = SchemathesisCase[Any]

GENERIC_CLAUSES = (
    "AUTH-1",
    "AUTH-2",
    "REQ-EMAIL-1",
    "REQ-EMAIL-2",
    "REQ-EMAIL-3",
    "REQ-LEN-1",
    "REQ-LEN-2",
    "REQ-META-1",
    "REQ-UNKNOWN-1",
    "REQ-TEXT-1",
    "REQ-BODY-1",
    "REQ-BODY-2",
    "RES-1",
    "RES-ID-1",
    "RES-ENV-1",
    "RES-TIME-1",
    "RES-ORG-1",
    "RES-ECHO-1",
    "ERR-1",
    "ERR-4",
    "IDEM-3",
)
# Methods not sent: OPTIONS may be a CORS preflight, QUERY is a draft method many HTTP stacks refuse.
SKIPPED_METHODS = frozenset({"OPTIONS", "QUERY", "HEAD", "CONNECT"})
# Headers the suite sets itself, or that frame the message and must not be fuzzed into it.
OWN_HEADERS = frozenset(
    {"authorization", "idempotency-key", "content-type", "content-length", "transfer-encoding", "host", "connection"}
)
SHORTEST_FRESH_KEY = 24  # a generated key shorter than this cannot be unique across runs: none is sent
# 2xx response members -> the clause a schema error in them breaks.
MEMBER_CLAUSES = {
    "id": "RES-ID-1",
    "environment": "RES-ENV-1",
    "created_at": "RES-TIME-1",
    "updated_at": "RES-TIME-1",
    "org_id": "RES-ORG-1",
}
ECHOED = ("email", "name", "external_id", "metadata")
# A refused valid request, by the field its problem points at.
POINTER_CLAUSES = {"email": "REQ-EMAIL-2", "name": "REQ-LEN-1", "external_id": "REQ-LEN-1", "metadata": "REQ-META-1"}
MUST_ACCEPT_CLAUSES = frozenset({"RES-1", "RES-ID-1", "RES-ENV-1", "RES-TIME-1", "RES-ORG-1", "RES-ECHO-1", "AUTH-1"})


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


@dataclass
class Tally:
    """How Schemathesis's own verdicts compare with the contract's, for the progress line."""

    sent: int = 0
    flagged: dict[str, int] = field(default_factory=dict)
    kept: int = 0
    dismissed: int = 0
    beyond: int = 0


@dataclass
class Collected:
    """The smallest request that broke a rule this way, and how many did."""

    count: int
    failure: Failure
    must: bool


_CACHE: dict[tuple[str, int, int], list[Planned]] = {}


def _schema(ctx: CheckContext) -> Any:
    import schemathesis

    schemathesis.openapi.format("email", strategies.valid_emails())
    return schemathesis.openapi.from_dict(ctx.contract.spec)


def plan(ctx: CheckContext) -> list[Planned]:
    """Coverage cases, then `--examples` positive and negative fuzzing cases, deduplicated."""
    cache_key = (ctx.contract.sha256, ctx.config.seed, ctx.config.examples)
    if cache_key in _CACHE:
        return _CACHE[cache_key]
    from schemathesis.generation import GenerationMode

    schema = _schema(ctx)
    operation = schema[CUSTOMERS_PATH]["POST"]
    modes = [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    cases: list[Case] = list(
        schema.iter_coverage_cases(
            operation, generation_modes=modes, generation_config=schema.config.generation_for(operation=operation)
        )
    )
    for mode in modes:
        cases += draw(operation.as_strategy(generation_mode=mode), ctx.config.examples, ctx.config.seed)
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
    _CACHE[cache_key] = planned
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


def clauses_of(item: Planned, expectation: Expectation) -> set[str]:
    """The clauses a case can show something about (what it is judged for, in the ledger too)."""
    if item.method != "POST":
        return {"ERR-4"}
    clauses = {b.clause for b in expectation.breaks} | {"ERR-1"}
    if expectation.must_accept:
        clauses |= MUST_ACCEPT_CLAUSES | set(POINTER_CLAUSES.values())
    if expectation.nul_fields:
        clauses.add("REQ-TEXT-1")
    return clauses


class GenericRun:
    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.tally = Tally()
        self.collected: dict[tuple[str, str], Collected] = {}
        self.failures: list[tuple[str, Any]] = []
        self.keys = 0

    # -- sending ------------------------------------------------------------
    def fresh_key(self, length: int) -> str:
        self.keys += 1
        return generic_judge_key(self.ctx.nonce, self.keys, length)

    def send(self, item: Planned) -> tuple[Exchange, Expectation, Any] | None:
        ctx = self.ctx
        sent: Any = None
        raw: bytes | None
        if item.body is None:
            raw = None
        elif item.is_raw:
            raw = bytes(item.body)
        else:
            sent = ctx.tagged(item.body)
            try:
                raw = json.dumps(sent, ensure_ascii=False).encode("utf-8", "surrogatepass")
            except (TypeError, ValueError):
                return None
        key = None if item.key_length is None else self.fresh_key(item.key_length)
        valid = f"Bearer {ctx.config.api_key}"
        header = None if item.auth == "missing" else valid if item.auth == "valid" else item.auth
        expectation = generic_judge.judge_request(
            ctx.contract,
            content_type=item.content_type,
            body=raw,
            auth=generic_judge.auth_kind(header, valid),
            idempotency_key=key,
        )
        if not self.relevant(item, expectation):
            return None
        headers = [*item.headers, *([("Idempotency-Key", key)] if key is not None else [])]
        auth: Any = API if item.auth == "valid" else None if item.auth == "missing" else RawAuth(item.auth)
        exchange = ctx.send(
            raw=raw if raw is not None else None,
            auth=auth,
            content_type=item.content_type,
            headers=headers,
            method=item.method,
        )
        exchange.sent = sent
        self.tally.sent += 1
        return exchange, expectation, sent

    def relevant(self, item: Planned, expectation: Expectation) -> bool:
        """Under --only, send a case only when it can show something about the selected clauses."""
        only = set(self.ctx.config.only)
        return not only or bool(clauses_of(item, expectation) & only)

    # -- judging ------------------------------------------------------------
    def fail(
        self,
        clause: str,
        title: str,
        exchange: Exchange,
        *,
        must: bool = False,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        self.finding(Failure(clause, title, expected=expected, actual=actual, exchange=exchange), must)

    def finding(self, failure: Failure, must: bool = False) -> None:
        """Keep one finding per (clause, title): the one with the smallest request, and a count."""
        assert failure.exchange is not None
        known = self.collected.get((failure.clause, failure.title))
        if known is None:
            self.collected[(failure.clause, failure.title)] = Collected(1, failure, must)
            return
        known.count += 1
        assert known.failure.exchange is not None
        if failure.exchange.request.body_size < known.failure.exchange.request.body_size:
            known.failure, known.must = failure, must

    def flush(self) -> None:
        for found in self.collected.values():
            failure = found.failure
            failure.title = f"generic phase: {failure.title}" + (
                f" ({found.count} requests)" if found.count > 1 else ""
            )
            if found.must:
                self.ctx.report_not_rejected(failure)
            else:
                self.ctx.report(failure)

    def judge(self, item: Planned, exchange: Exchange, expectation: Expectation, sent: Any) -> bool:
        """Report what the contract says of this answer; True when something was found."""
        if not exchange.ok:
            return False  # ERR-2, judged once over the whole run
        response = exchange.response
        assert response is not None
        if item.method != "POST":
            return self.judge_method(item, exchange)
        status = response.status
        if 400 <= status < 500:
            if expectation.must_accept:
                self.refused_valid(exchange)
                return True
            if len({b.clause for b in expectation.breaks}) == 1:
                brk = expectation.breaks[0]
                if brk.statuses and status not in brk.statuses:
                    self.fail(
                        brk.clause,
                        f"{brk.label}: answered {status}",
                        exchange,
                        expected=" or ".join(map(str, brk.statuses)),
                        actual=f"{describe(exchange)} to {brk.reason}",
                    )
                    return True
            return False
        for brk in expectation.breaks:
            self.fail(
                brk.clause,
                f"{brk.label}: not rejected",
                exchange,
                must=brk.strength == "must",
                expected=" or ".join(map(str, brk.statuses)) if brk.statuses else "a 4xx",
                actual=f"{describe(exchange)} to {brk.reason}",
            )
        if expectation.breaks:
            return True
        if not exchange.succeeded:
            self.fail("RES-1", "a valid create not answered 2xx", exchange, expected="201", actual=describe(exchange))
            return True
        return self.judge_created(exchange, expectation, sent)

    def judge_method(self, item: Planned, exchange: Exchange) -> bool:
        response = exchange.response
        assert response is not None
        allow = {p.strip().upper() for p in (response.header("allow") or "").split(",")}
        if response.status != 405:
            self.fail("ERR-4", f"{item.method} not answered 405", exchange, expected="405", actual=describe(exchange))
            return True
        if "POST" not in allow:
            actual = response.header("allow") or "no Allow header"
            self.fail("ERR-4", "405 without `Allow: POST`", exchange, expected="Allow: POST", actual=actual)
            return True
        return False

    def judge_created(self, exchange: Exchange, expectation: Expectation, sent: Any) -> bool:
        response = exchange.response
        assert response is not None
        found = False
        if response.status != 201:
            self.fail("RES-1", "a valid create not answered 201", exchange, expected="201", actual=describe(exchange))
            found = True
        body = response.json
        if not isinstance(body, dict):
            why = response.json_error or type(body).__name__
            self.fail("RES-1", "a 2xx body not a JSON object", exchange, expected="a JSON object", actual=why)
            return True
        for name in expectation.nul_fields:
            # Only the strings decide: numbers past I-JSON may come back rounded (RES-ECHO-1's MAY).
            echoed = set(generic_judge.strings_of(body.get(name)))
            nul_strings = [
                t for t in generic_judge.strings_of(sent.get(name) if isinstance(sent, dict) else None) if "\x00" in t
            ]
            if any(t not in echoed for t in nul_strings):
                self.fail(
                    "REQ-TEXT-1",
                    f"{name} with U+0000 stored mangled",
                    exchange,
                    expected=ascii(sent.get(name))[:100],
                    actual=ascii(body.get(name))[:100],
                )
                found = True
        for failure in self.schema_findings(exchange):
            self.finding(failure)
            found = True
        return found

    def refused_valid(self, exchange: Exchange) -> None:
        """A request every server must accept was refused: blame the field its problem points at, if any."""
        response = exchange.response
        assert response is not None
        clause = {401: "AUTH-1", 415: "REQ-BODY-2"}.get(response.status, "RES-1")
        body = response.json
        if clause == "RES-1" and isinstance(body, dict) and isinstance(body.get("errors"), list):
            for error in body["errors"]:
                pointer = error.get("pointer") if isinstance(error, dict) else None
                member = pointer.strip("/").split("/")[0] if isinstance(pointer, str) else ""
                if member in POINTER_CLAUSES:
                    clause = POINTER_CLAUSES[member]
                    break
        self.fail(clause, "a valid request refused", exchange, expected="201", actual=describe(exchange))

    # -- Schemathesis's own checks -------------------------------------------
    def run_checks(self, item: Planned, exchange: Exchange) -> list[tuple[str, Any]]:
        """(check name, failure) for every Schemathesis check that fails on this answer."""
        import requests
        from schemathesis.checks import not_a_server_error
        from schemathesis.core.failures import FailureGroup
        from schemathesis.core.transport import Response
        from schemathesis.specs.openapi import checks as oas

        response = exchange.response
        assert response is not None
        request = requests.Request(
            item.method, exchange.request.url, headers=dict(exchange.request.headers), data=exchange.request.body
        ).prepare()
        headers: dict[str, list[str]] = {}
        for name, value in response.headers:
            headers.setdefault(name.lower(), []).append(value)
        wrapped = Response(response.status, headers, response.body, request, response.elapsed, True)
        failures: list[tuple[str, Any]] = []
        for func in (
            not_a_server_error,
            oas.status_code_conformance,
            oas.content_type_conformance,
            oas.response_schema_conformance,
            oas.negative_data_rejection,
            oas.positive_data_acceptance,
            oas.missing_required_header,
            oas.unsupported_method,
        ):
            try:
                item.case.validate_response(wrapped, checks=[func])
            except FailureGroup as group:
                failures += [(func.__name__, failure) for failure in group.exceptions]
            except Exception:  # a check that cannot judge this answer is no evidence either way
                continue
        return failures

    def schema_findings(self, exchange: Exchange) -> list[Failure]:
        """Schemathesis's response checks on a 2xx as RES-* findings; format-only errors in echoes dropped."""
        found: list[Failure] = []

        def add(clause: str, title: str, expected: str, actual: str) -> None:
            found.append(Failure(clause, title, expected=expected, actual=actual, exchange=exchange))

        for name, failure in self.failures:
            if name == "content_type_conformance":
                add("RES-1", "a 2xx not application/json", "application/json", str(failure.title))
            elif name == "status_code_conformance":
                add("RES-1", "an undocumented 2xx status", "201", describe(exchange))
            elif name == "response_schema_conformance":
                path = list(getattr(failure, "instance_path", None) or [])
                member = str(path[0]) if path else ""
                keyword = str(list(getattr(failure, "schema_path", None) or ["?"])[-1])
                instance = repr(getattr(failure, "instance", None))[:100]
                if member in MEMBER_CLAUSES:
                    add(MEMBER_CLAUSES[member], f"`{member}` breaks the schema ({keyword})", keyword, instance)
                elif member in ECHOED and keyword != "format":  # a MAY address echoed: RES-ECHO-1 judges it
                    add("RES-ECHO-1", f"`{member}` breaks the schema ({keyword})", keyword, instance)
                elif not member:
                    add("RES-1", f"the 2xx body breaks the schema ({keyword})", keyword, instance)
        return found

    def one(self, item: Planned) -> None:
        sent = self.send(item)
        if sent is None:
            return
        exchange, expectation, value = sent
        self.failures = self.run_checks(item, exchange) if exchange.ok else []
        found = self.judge(item, exchange, expectation, value)
        for clause in sorted(clauses_of(item, expectation) & set(GENERIC_CLAUSES)):
            self.ctx.probe(clause, exchange, case="generic phase")
        names = {name for name, _ in self.failures} - {"not_a_server_error"}
        for name in names:
            self.tally.flagged[name] = self.tally.flagged.get(name, 0) + 1
        if names and found:
            self.tally.kept += 1
        elif names:
            self.tally.dismissed += 1
        elif found:
            self.tally.beyond += 1


def generic_judge_key(nonce: str, counter: int, length: int) -> str:
    """A fresh Idempotency-Key of exactly `length` characters."""
    base = f"gen-{nonce}-{counter:06d}-"
    return (base + "0" * max(0, length - len(base)))[:length] if length >= len(base) else base[:length]


@check(*GENERIC_CLAUSES, order=40)
def schemathesis_phases(ctx: CheckContext) -> None:
    """Schemathesis's coverage and fuzzing phases, each finding mapped to its clause and level."""
    run = GenericRun(ctx)
    for item in plan(ctx):
        run.one(item)
    run.flush()
    if ctx.progress:
        t = run.tally
        flagged = ", ".join(f"{k} {v}" for k, v in sorted(t.flagged.items())) or "none"
        ctx.progress(
            f"generic: {t.sent} requests; Schemathesis flagged {flagged}; "
            f"kept {t.kept}, dismissed as contract-legal {t.dismissed}, found beyond Schemathesis {t.beyond}"
        )
