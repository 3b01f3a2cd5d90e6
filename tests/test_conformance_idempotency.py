"""IDEM-1..4 against real servers: the reference passes; each idempotency defect gets its WARN.

IDEM-* are SHOULD clauses: a defect is a WARN, exit 0, and exit 1 under --strict.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from billing_kit.conformance import runner
from billing_kit.conformance.config import RunConfig
from billing_kit.conformance.contract import load_contract
from billing_kit.conformance.model import RunResult, Verdict
from tests.support.procs import free_port, run_server
from tests.support.reference import ReferenceServer
from tests.support.zoo import LIVE_KEY, SANDBOX_KEY, zoo

CONTRACT = load_contract()
IDEM = ("IDEM-1", "IDEM-2", "IDEM-3", "IDEM-4")

# A server that records every answer under its Idempotency-Key, failures included:
# the corrected retry of a rejected request gets the old 400 back (IDEM-3).
RECORDS_FAILURES = r"""
import json, sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port, key = int(sys.argv[1]), sys.argv[2]
answers = {}

class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        idem = self.headers.get("Idempotency-Key")
        if self.headers.get("Authorization") != "Bearer " + key:
            status, doc = 401, {"type": "about:blank", "title": "Unauthorized", "status": 401, "detail": "key"}
        elif idem in answers:
            status, doc = answers[idem]
        else:
            data = json.loads(body)
            if "email" not in data:
                status, doc = 400, {"type": "about:blank", "title": "Bad Request", "status": 400,
                                    "detail": "email missing", "errors": [{"pointer": "/email", "detail": "missing"}]}
            else:
                status, doc = 201, {"id": "cus_%024x" % len(answers), "email": data["email"]}
            if idem is not None:
                answers[idem] = (status, doc)
        out = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if status < 300 else "application/problem+json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_GET(self):
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass

ThreadingHTTPServer(("127.0.0.1", port), Handler).serve_forever()
"""


def check(base_url: str, key: str, live: str | None = None, strict: bool = False) -> RunResult:
    config = RunConfig(base_url=base_url, api_key=key, live_key=live, allow_live=live is not None, only=IDEM)
    return runner.run(RunConfig(**{**config.__dict__, "strict": strict}))


def verdicts(result: RunResult) -> dict[str, Verdict]:
    return {v.clause: v.verdict for v in result.verdicts}


def violations(result: RunResult) -> list[str]:
    return [f"{v.clause}: {f.message}" for v in result.verdicts for f in v.violations]


def test_reference_passes_every_idem_clause(reference_server: ReferenceServer) -> None:
    result = check(reference_server.base_url, reference_server.sandbox_key, reference_server.live_key)
    assert violations(result) == []
    assert verdicts(result) == dict.fromkeys(IDEM, Verdict.PASS)
    live_created = [c for c in result.created if c.key == "live"]
    assert len(live_created) == 1  # one live create, within the budget of 5


def test_without_a_live_key_scoping_is_skipped(reference_server: ReferenceServer) -> None:
    result = check(reference_server.base_url, reference_server.sandbox_key)
    assert verdicts(result)["IDEM-4"] is Verdict.SKIP
    assert {verdicts(result)[c] for c in IDEM[:3]} == {Verdict.PASS}


def test_keys_come_from_the_nonce_not_the_seed(reference_server: ReferenceServer) -> None:
    """Two runs with the same seed use different keys: the second is no replay of the first."""
    first = check(reference_server.base_url, reference_server.sandbox_key)
    second = check(reference_server.base_url, reference_server.sandbox_key)
    assert first.nonce != second.nonce
    assert not {c.id for c in first.created} & {c.id for c in second.created}
    assert violations(second) == []


@pytest.mark.parametrize("may", ["lenient", "strict"])
def test_conforming_servers_pass(may: str) -> None:
    with zoo(may=may) as base_url:
        result = check(base_url, SANDBOX_KEY, LIVE_KEY)
    assert violations(result) == []
    assert verdicts(result) == dict.fromkeys(IDEM, Verdict.PASS)


DEFECTS = [
    ("idem-ignored", "IDEM-1"),
    ("idem-body-ignored", "IDEM-2"),
    ("idem-race", "IDEM-3"),
    ("idem-long-key-accepted", "IDEM-3"),
    ("idem-not-scoped", "IDEM-4"),
]


@pytest.mark.parametrize(("defect", "clause"), DEFECTS, ids=[d[0] for d in DEFECTS])
def test_defect_is_a_warn_on_its_clause(defect: str, clause: str) -> None:
    with zoo(defect) as base_url:
        result = check(base_url, SANDBOX_KEY, LIVE_KEY)
        strict = check(base_url, SANDBOX_KEY, LIVE_KEY, strict=True) if defect == "idem-race" else None
    assert verdicts(result)[clause] is Verdict.WARN, violations(result)
    assert result.exit_code == 0
    if strict is not None:
        assert strict.exit_code == 1
    if defect != "idem-ignored":  # a server ignoring the header breaks all of IDEM-1..3 at once
        assert [c for c, v in verdicts(result).items() if v is Verdict.WARN] == [clause]


def test_a_recorded_failure_is_a_warn_on_idem3(tmp_path: Path) -> None:
    script = tmp_path / "records_failures.py"
    script.write_text(RECORDS_FAILURES)
    port = free_port()
    with run_server([sys.executable, str(script), str(port), SANDBOX_KEY], port) as server:
        result = runner.run(RunConfig(base_url=f"{server.origin}/v1", api_key=SANDBOX_KEY, only=("IDEM-3",)))
    idem3 = next(v for v in result.verdicts if v.clause == "IDEM-3")
    assert idem3.verdict is Verdict.WARN
    found = [f for f in idem3.violations if "corrected retry" in f.message]
    assert found, violations(result)
    assert found[0].reproduce and "--only IDEM-3" in found[0].reproduce  # two requests: a rerun, not a curl
