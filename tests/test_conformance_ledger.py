"""The evidence ledger: no clause is PASS on requests that got no answer.

Unit tests fold canned ledgers and findings; the integration tests run the
suite against a real server that answers three creates and then stops
listening, and against the reference with a check that crashes.
"""

from __future__ import annotations

import io
import json
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from click.testing import CliRunner

from billing_kit.conformance import execute, runner
from billing_kit.conformance.cli import check as check_command
from billing_kit.conformance.config import RunConfig
from billing_kit.conformance.contract import load_contract
from billing_kit.conformance.http import Budget, Client, ClientOptions, TargetStopped
from billing_kit.conformance.ledger import Ledger
from billing_kit.conformance.model import (
    ClauseVerdict,
    Exchange,
    Finding,
    RunResult,
    Verdict,
)
from billing_kit.conformance.redact import Redactor
from billing_kit.conformance.registry import REGISTRY, check
from billing_kit.conformance.reports import terminal
from tests.support.canned import check_spec as spec
from tests.support.canned import exchange_with_status as exchange
from tests.support.procs import serve_in_thread
from tests.support.reference import ReferenceServer

CONTRACT = load_contract()
SANDBOX_KEY = CONTRACT.prefix_of_environment(CONTRACT.sandbox_environment) + "dying" + secrets.token_hex(8)


def verdict_of(verdicts: list[ClauseVerdict], clause: str) -> ClauseVerdict:
    return next(v for v in verdicts if v.clause == clause)


# -- fold on canned evidence ------------------------------------------------------------------


def test_a_check_whose_requests_got_no_answer_leaves_its_clause_skip() -> None:
    """Seen: REQ-EMAIL-3 PASS although none of its requests was answered."""
    ledger = Ledger()
    for _ in range(14):
        ledger.auto("request.generated_invalid_emails", ("REQ-EMAIL-3",), exchange(None))
    specs = [spec("request.generated_invalid_emails", "REQ-EMAIL-3")]
    outcome = runner.Outcome(completed={("request.generated_invalid_emails", "REQ-EMAIL-3")}, ledger=ledger)
    verdict = verdict_of(runner.fold([], specs, outcome, ()), "REQ-EMAIL-3")
    assert verdict.verdict is Verdict.SKIP
    assert verdict.note.startswith("14 of 14 cases unanswered")
    assert (verdict.coverage.planned, verdict.coverage.sent, verdict.coverage.answered) == (14, 14, 0)
    assert verdict.coverage.judged == 0 and verdict.coverage.required == 14


def test_pass_needs_every_probe_judged_and_says_how_many() -> None:
    ledger = Ledger()
    for status in (201, 400, 400):
        ledger.auto("request.length_boundaries", ("REQ-LEN-1",), exchange(status))
    specs = [spec("request.length_boundaries", "REQ-LEN-1")]
    outcome = runner.Outcome(completed={("request.length_boundaries", "REQ-LEN-1")}, ledger=ledger)
    verdict = verdict_of(runner.fold([], specs, outcome, ()), "REQ-LEN-1")
    assert verdict.verdict is Verdict.PASS
    assert (verdict.coverage.judged, verdict.coverage.required) == (3, 3)
    assert verdict.coverage.cases == ["request.length_boundaries"]

    ledger.auto("request.length_boundaries", ("REQ-LEN-1",), exchange(500))  # ERR-2's, not judged here
    verdict = verdict_of(runner.fold([], specs, outcome, ()), "REQ-LEN-1")
    assert verdict.verdict is Verdict.SKIP
    assert verdict.note.startswith("1 of 4 cases unanswered"), verdict.note


def test_a_declared_minimum_and_explicit_probes_count_per_clause() -> None:
    ledger = Ledger()
    name = "request.request_shapes"
    ledger.probe(name, "REQ-EMAIL-1", exchange(400), case="email-missing")
    ledger.probe(name, "REQ-META-1", exchange(None), case="meta-array")
    ledger.auto(name, ("REQ-EMAIL-1", "REQ-META-1"), exchange(400))  # explicit probes replace these
    specs = [spec(name, "REQ-EMAIL-1", "REQ-META-1"), spec("body.hostile", "ERR-2", minimum=0)]
    outcome = runner.Outcome(completed={(name, "REQ-EMAIL-1"), (name, "REQ-META-1"), ("body.hostile", "ERR-2")})
    outcome.ledger = ledger
    ledger.auto("body.hostile", ("ERR-2",), exchange(None))
    ledger.evidence("errors.no_server_errors", "ERR-2", 5, required=1)
    specs.append(spec("errors.no_server_errors", "ERR-2"))
    outcome.completed.add(("errors.no_server_errors", "ERR-2"))
    verdicts = runner.fold([], specs, outcome, ())
    email = verdict_of(verdicts, "REQ-EMAIL-1")
    assert email.verdict is Verdict.PASS and email.coverage.cases == ["email-missing"]
    assert (email.coverage.planned, email.coverage.judged) == (1, 1)
    assert verdict_of(verdicts, "REQ-META-1").verdict is Verdict.SKIP
    err2 = verdict_of(verdicts, "ERR-2")
    assert err2.verdict is Verdict.PASS  # the hostile case's minimum is 0: ERR-2's judge counts it
    assert (err2.coverage.judged, err2.coverage.required) == (5, 1)


def test_a_violation_stands_whatever_the_coverage() -> None:
    finding = Finding("REQ-LEN-1", "violation", "name of 257 code points accepted", check="request.length_boundaries")
    specs = [spec("request.length_boundaries", "REQ-LEN-1")]
    outcome = runner.Outcome(completed={("request.length_boundaries", "REQ-LEN-1")})
    assert verdict_of(runner.fold([finding], specs, outcome, ()), "REQ-LEN-1").verdict is Verdict.FAIL


def test_a_crashed_check_never_leaves_its_clause_pass() -> None:
    ledger = Ledger()
    ledger.auto("response.minimal_create", ("RES-1",), exchange(201))
    ledger.auto("response.full_create", ("RES-1",), exchange(201))
    specs = [spec("response.minimal_create", "RES-1"), spec("response.full_create", "RES-1")]
    outcome = runner.Outcome(completed={("response.minimal_create", "RES-1")}, ledger=ledger)
    outcome.crashed["response.full_create"] = "KeyError: 'id'"
    verdict = verdict_of(runner.fold([], specs, outcome, ()), "RES-1")
    assert verdict.verdict is Verdict.SKIP
    assert verdict.note == "internal error in response.full_create: KeyError: 'id'"
    assert outcome.internal_errors == ["response.full_create: KeyError: 'id'"]


def test_checks_cut_off_by_a_stopped_target_leave_skip_with_the_moment() -> None:
    ledger = Ledger()
    ledger.auto("request.length_boundaries", ("REQ-LEN-1",), exchange(201))
    specs = [spec("request.length_boundaries", "REQ-LEN-1"), spec("generic.schemathesis_phases", "REQ-LEN-1")]
    outcome = runner.Outcome(completed={("request.length_boundaries", "REQ-LEN-1")}, ledger=ledger)
    outcome.stopped = execute.stop_reason(TargetStopped("connection refused", 371, 12.43))
    verdict = verdict_of(runner.fold([], specs, outcome, ()), "REQ-LEN-1")
    assert verdict.verdict is Verdict.SKIP
    assert verdict.note == "1 of 2 cases unanswered: the server stopped answering at request 371, 12.4 s into the run"


def test_the_old_call_shape_still_folds() -> None:
    """`fold(findings, specs, ran, only)` with a set of (check, clause) pairs, as before the ledger."""
    folded = runner.fold([], [], set(), (), CONTRACT)
    assert folded and all(v.verdict is Verdict.SKIP for v in folded)


# -- a real server that answers three creates, then stops listening ------------------------------


class _Dying(BaseHTTPRequestHandler):
    """Answers correctly until it has made three customers; then the listening socket is closed."""

    server: _DyingServer

    def log_message(self, *args: Any) -> None:
        return None

    def do_OPTIONS(self) -> None:
        self._send(405, {"type": "about:blank", "title": "x", "status": 405, "detail": "x"}, [("Allow", "POST")])

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if self.headers.get("Authorization") != f"Bearer {SANDBOX_KEY}":
            problem = {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": "key"}
            self._send(401, problem, [("WWW-Authenticate", "Bearer")])
            return
        try:
            body = json.loads(raw)
            email = body["email"]
            assert isinstance(email, str) and "@" in email
        except Exception:
            problem = {"type": "about:blank", "title": "Bad", "status": 400, "detail": "x", "errors": [{"pointer": ""}]}
            self._send(400, problem)
            return
        self.server.created += 1
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        customer = {
            "id": CONTRACT.id_prefix + secrets.token_hex(12),
            "email": email,
            "name": body.get("name"),
            "external_id": body.get("external_id"),
            "metadata": body.get("metadata", {}),
            "environment": CONTRACT.sandbox_environment,
            "org_id": "org_1",
            "created_at": now,
            "updated_at": now,
        }
        self._send(201, customer)
        if self.server.created >= 3:
            self.server.die()

    def _send(self, status: int, body: Any, headers: list[tuple[str, str]] = ()) -> None:  # type: ignore[assignment]
        data = json.dumps(body).encode()
        self.send_response(status)
        media = "application/json" if status < 300 else "application/problem+json"
        self.send_header("Content-Type", media)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)


class _DyingServer(ThreadingHTTPServer):
    daemon_threads = True
    created = 0

    def die(self) -> None:
        self.socket.close()  # later connections are refused


@contextmanager
def dying_server() -> Iterator[str]:
    with serve_in_thread(_DyingServer(("127.0.0.1", 0), _Dying)) as base_url:
        yield base_url


class StopsOnRefusal(Client):
    """The real client; a refused connection after answers raises TargetStopped, as the client's own
    detection does (a transport error followed by a failed connection probe)."""

    def send(self, *args: Any, **kwargs: Any) -> Exchange:
        exchange = super().send(*args, **kwargs)
        if exchange.response is None and "ConnectError" in (exchange.error or ""):
            raise TargetStopped("connection refused", self.sent, time.monotonic() - self.budget.started)
        return exchange


def test_a_server_that_dies_after_three_creates_gets_no_pass_it_did_not_earn() -> None:
    with dying_server() as base_url:
        config = RunConfig(base_url=base_url, api_key=SANDBOX_KEY, seed=1, examples=10, timeout=2, max_time=120)
        client = StopsOnRefusal(ClientOptions(base_url=base_url, timeout=2), Budget(120), Redactor([SANDBOX_KEY]))
        result = runner.run(config, client=client)
    by_clause = {v.clause: v for v in result.verdicts}
    assert result.stopped is not None and "the server stopped answering at request" in result.stopped
    assert result.exit_code == 1
    err2 = by_clause["ERR-2"]
    assert err2.verdict is Verdict.FAIL
    assert err2.violations[0].message.startswith(result.stopped)
    for clause in ("REQ-EMAIL-3", "REQ-LEN-1", "REQ-BODY-1", "ERR-1", "IDEM-3"):
        assert by_clause[clause].verdict is Verdict.SKIP, (clause, by_clause[clause].note)
        assert result.stopped in by_clause[clause].note
    for verdict in result.verdicts:
        if verdict.verdict is Verdict.PASS:
            assert verdict.coverage.judged >= max(verdict.coverage.required, 1), verdict
    out = io.StringIO()
    terminal.render(result, out, tty=False)
    assert "the server stopped answering at request" in out.getvalue()


# -- a check that crashes inside the suite ------------------------------------------------------


@pytest.fixture
def crashing_check() -> Iterator[str]:
    @check("ERR-4", order=80, needs=())
    def crashes(ctx: Any) -> None:
        """A check with a bug: it sends, then crashes."""
        ctx.send(method="GET", content_type=None)
        raise KeyError("id")

    name = f"{crashes.__module__.rsplit('.', 1)[-1]}.crashes"
    try:
        yield name
    finally:
        del REGISTRY[name]


def test_a_crashing_check_is_an_internal_error_not_a_verdict(
    reference_server: ReferenceServer, crashing_check: str
) -> None:
    config = RunConfig(base_url=reference_server.base_url, api_key=reference_server.sandbox_key, only=("ERR-4",))
    result: RunResult = runner.run(config)
    verdict = next(v for v in result.verdicts if v.clause == "ERR-4")
    assert verdict.verdict is Verdict.SKIP
    assert verdict.note == f"internal error in {crashing_check}: KeyError: 'id'"
    assert result.internal_errors == [f"{crashing_check}: KeyError: 'id'"]
    assert result.exit_code == 2

    done = CliRunner().invoke(
        check_command,
        ["--base-url", reference_server.base_url, "--api-key", reference_server.sandbox_key, "--only", "ERR-4"],
    )
    assert done.exit_code == 2
    errors = [line for line in done.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and crashing_check in errors[0], done.output
    assert "Traceback" not in done.output


def test_a_property_stops_at_once_when_the_target_stops() -> None:
    """TargetStopped inside a property is not a failing example: no shrinking, no more requests."""
    from hypothesis import strategies as st

    from billing_kit.conformance.context import CheckContext

    config = RunConfig(base_url="http://127.0.0.1:9/v1", seed=1)
    client = Client(ClientOptions(base_url=config.base_url), Budget(5), Redactor([]))
    client.close()
    ctx = CheckContext(CONTRACT, config, client, nonce="n")
    calls: list[int] = []

    def test(value: int) -> None:
        calls.append(value)
        raise TargetStopped("connection refused", 7, 1.5)

    with pytest.raises(TargetStopped):
        ctx.for_all(st.integers(), test, examples=20)
    assert len(calls) == 1
