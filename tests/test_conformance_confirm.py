"""Confirmation (--confirm N) and blame: every FAIL/WARN tried again, on the clause whose rule broke.

Real servers: zoo servers with one defect (tests/servers/zoo.py) and a tiny
server in this file that answers its first request with a 500 and every later
one correctly (a failure that does not reproduce: FLAKY).
"""

from __future__ import annotations

import io
import json
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from billing_kit.conformance import runner
from billing_kit.conformance.config import RunConfig
from billing_kit.conformance.contract import load_contract
from billing_kit.conformance.model import ClauseVerdict, RunResult, Verdict
from billing_kit.conformance.reports import terminal
from tests.servers import zoo_runner
from tests.support.procs import serve_in_thread

CONTRACT = load_contract()
SANDBOX_KEY = CONTRACT.prefix_of_environment(CONTRACT.sandbox_environment) + "flaky" + secrets.token_hex(8)


def zoo_run(defect: str, only: tuple[str, ...], confirm: int = 2, live: bool = False) -> RunResult:
    with zoo_runner.zoo_server(zoo_runner.PYTHON, defect) as target:
        config = RunConfig(
            base_url=target.base_url,
            api_key=target.keys.sandbox,
            live_key=target.keys.live if live else None,
            allow_live=live,
            seed=1,
            examples=5,
            timeout=5,
            only=only,
            confirm=confirm,
        )
        return runner.run(config)


def by_clause(result: RunResult) -> dict[str, ClauseVerdict]:
    return {v.clause: v for v in result.verdicts}


def test_a_consistent_defect_is_reproduced_every_time() -> None:
    result = zoo_run("id-wrong-prefix", ("RES-ID-1",))
    verdict = by_clause(result)["RES-ID-1"]
    assert verdict.verdict is Verdict.FAIL
    for finding in verdict.violations:
        assert (finding.confirmations, finding.reproduced) == (2, 2), finding.message
        assert len(finding.attempts) == 2 and not finding.flaky
        assert all(again.status == finding.exchange.status for again in finding.attempts if finding.exchange)
    assert result.flaky == 0


def test_confirm_0_turns_it_off() -> None:
    result = zoo_run("id-wrong-prefix", ("RES-ID-1",), confirm=0)
    violations = by_clause(result)["RES-ID-1"].violations
    assert violations and all(f.confirmations is None and f.attempts == [] for f in violations)


def test_a_multi_request_scenario_is_replayed_once() -> None:
    result = zoo_run("idem-ignored", ("IDEM-1",))
    verdict = by_clause(result)["IDEM-1"]
    assert verdict.verdict is Verdict.WARN
    replayed = [f for f in verdict.violations if f.check == "idempotency.replay"]
    assert replayed and all((f.confirmations, f.reproduced) == (1, 1) for f in replayed)


def test_idempotency_keyed_without_the_api_key_is_blamed_on_env_and_idem_4() -> None:
    """Seen: RES-ID-2 FAIL ("two creates got the same id") and RES-ENV-1 PASS; a replay is not a second create."""
    result = zoo_run("idem-not-scoped", ("IDEM-4", "RES-ENV-1", "RES-ID-2"), live=True)
    verdicts = by_clause(result)
    assert verdicts["RES-ENV-1"].verdict is Verdict.FAIL
    leak = verdicts["RES-ENV-1"].violations[0]
    assert leak.message == f"a {CONTRACT.live_environment} key got a {CONTRACT.sandbox_environment} customer"
    assert leak.exchange is not None and leak.exchange.request.key_ref == "live"
    assert verdicts["IDEM-4"].verdict is Verdict.WARN
    assert verdicts["RES-ID-2"].verdict is Verdict.PASS, verdicts["RES-ID-2"].violations


# -- a failure that does not reproduce ------------------------------------------------------------


class _FirstRequestFails(BaseHTTPRequestHandler):
    """A 500 to the first minimal create; every other request (that one again too) answered correctly."""

    server: _Server

    def log_message(self, *args: Any) -> None:
        return None

    def do_OPTIONS(self) -> None:
        self._send(405, {"type": "about:blank", "title": "x", "status": 405, "detail": "x"})

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with self.server.lock:
            first = b"Minimal." in raw and not self.server.failed  # the suite's minimal create, the first time
            self.server.failed |= first
        if first:
            self._send(500, {"type": "about:blank", "title": "Oops", "status": 500, "detail": "once"})
            return
        try:
            email = json.loads(raw)["email"]
        except Exception:
            problem = {"type": "about:blank", "title": "Bad", "status": 400, "detail": "x", "errors": [{"pointer": ""}]}
            self._send(400, problem)
            return
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        self._send(
            201,
            {
                "id": CONTRACT.id_prefix + secrets.token_hex(12),
                "email": email,
                "name": None,
                "external_id": None,
                "metadata": {},
                "environment": CONTRACT.sandbox_environment,
                "org_id": "org_1",
                "created_at": now,
                "updated_at": now,
            },
        )

    def _send(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if status < 300 else "application/problem+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    failed = False
    lock = threading.Lock()


@contextmanager
def first_request_fails() -> Iterator[str]:
    with serve_in_thread(_Server(("127.0.0.1", 0), _FirstRequestFails)) as base_url:
        yield base_url


def test_a_failure_that_does_not_reproduce_is_flaky_and_still_a_failure() -> None:
    with first_request_fails() as base_url:
        config = RunConfig(base_url=base_url, api_key=SANDBOX_KEY, only=("RES-TIME-2",), examples=5, timeout=5)
        result = runner.run(config)
    verdict = by_clause(result)["ERR-2"]
    assert verdict.verdict is Verdict.FAIL and result.exit_code == 1
    finding = verdict.violations[0]
    assert finding.message == "HTTP 500"
    assert (finding.confirmations, finding.reproduced) == (2, 0) and finding.flaky
    assert [again.status for again in finding.attempts] == [201, 201]
    assert result.flaky == 1
    out = io.StringIO()
    terminal.render(result, out, tty=False)
    assert "1 FAIL (1 FLAKY)" in out.getvalue().splitlines()[-1]


def test_confirm_option_is_validated_and_reaches_the_config() -> None:
    from click.testing import CliRunner

    from billing_kit.conformance.cli import build_config, check

    done = CliRunner().invoke(check, ["--base-url", "http://127.0.0.1:9/v1", "--confirm", "-1"])
    assert done.exit_code == 2
    assert done.output.strip().splitlines() == ["Error: --confirm must be 0 (off) or more"]
    # Every other option has its default in config.from_options, the one constructor.
    options: dict[str, Any] = {"base_url": "http://127.0.0.1:9/v1", "seed": 1}
    assert build_config(**options).confirm == 2
    assert build_config(**options, confirm=0).confirm == 0
