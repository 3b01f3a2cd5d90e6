"""RunResults built by hand, with the evidence ledger and confirmations filled in, for the report tests.

`failing_run()` has a bit of everything a report must show: a confirmed FAIL with
12 violations (REQ-LEN-1), a FLAKY FAIL whose attempts differ (ERR-2), a WARN
with a non-JSON answer (ERR-3), SKIPs after the target stopped, an INFO with 17
notes, PASSes with their ledgers, 206 created ids and an internal error.
`passing_run()` is all PASS and INFO.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from billing_kit.conformance import clauses
from billing_kit.conformance.contract import Contract, load_contract
from billing_kit.conformance.model import (
    ClauseVerdict,
    Coverage,
    CreatedRecord,
    Exchange,
    Finding,
    RecordedRequest,
    RecordedResponse,
    RunResult,
    Verdict,
)

BASE_URL = "http://127.0.0.1:8000/v1"
NONCE = "0123456789ab"
STOPPED = "the server stopped answering at request 371, 12.4 s into the run"
SKIP_REASON = "12 of 14 cases unanswered: " + STOPPED
INTERNAL_ERROR = "check problems.errors_are_problems crashed: KeyError: 'detail'"
PROBLEM_DETAIL = "/name: longer than 256 characters"
HTML_BODY = "<html><body>" + "Internal details " * 30 + "</body></html>"


@cache
def _contract() -> Contract:
    return load_contract()


def exchange(status: int | None, body: Any = None, media: str = "application/problem+json") -> Exchange:
    request = RecordedRequest(
        "POST",
        f"{BASE_URL}/customers",
        [("Content-Type", "application/json"), ("Authorization", "Bearer sk_test_…abcd")],
        b'{"email": "a@example.com"}',
        26,
    )
    if status is None:
        return Exchange(request, None, error="Connection reset by peer after 0.05 s")
    raw = body if isinstance(body, str) else json.dumps(body or {})
    parsed = body if isinstance(body, dict) else None
    response = RecordedResponse(
        status, [("content-type", media)], raw.encode(), False, 0.01, **({"json": parsed} if parsed else {})
    )
    return Exchange(request, response)


def problem(status: int, detail: str) -> dict[str, Any]:
    return {"type": "about:blank", "title": "Bad Request", "status": status, "detail": detail}


def verdict(clause_id: str, value: Verdict, findings: list[Finding] | None = None, **coverage: Any) -> ClauseVerdict:
    clause = clauses.get(clause_id)
    contract = _contract()
    return ClauseVerdict(
        clause=clause.id,
        level=clause.level.value,
        title=clause.title,
        verdict=value,
        findings=list(findings or []),
        checks=["sample.check"],
        requirement=clause.render(contract).requirement,
        coverage=Coverage(**coverage),
    )


def length_violations() -> list[Finding]:
    out = []
    for n, (unit, count) in enumerate([("bmp-3-byte", 255), ("bmp-3-byte", 256)] + [("astral", 256)] * 10):
        case = f"name: {unit} x{count}"
        out.append(
            Finding(
                clause="REQ-LEN-1",
                kind="violation",
                message=f"{case} refused",
                check="request.length_boundaries",
                expected="201",
                actual="HTTP 400",
                exchange=exchange(400, problem(400, PROBLEM_DETAIL)),
                reproduce="curl -sS -i -X POST http://127.0.0.1:8000/v1/customers" if n == 0 else None,
                case=case,
                confirmations=2 if n == 0 else None,
                reproduced=2 if n == 0 else None,
                attempts=[exchange(400, problem(400, PROBLEM_DETAIL)) for _ in range(2)] if n == 0 else [],
            )
        )
    return out


def flaky_drop() -> Finding:
    return Finding(
        clause="ERR-2",
        kind="violation",
        message="dropped connection on a 64 KiB header",
        check="errors.no_server_errors",
        expected="an HTTP answer",
        actual="Connection reset by peer after 0.05 s",
        exchange=exchange(None),
        case="oversize-headers",
        confirmations=2,
        reproduced=0,
        attempts=[exchange(431, problem(431, "headers too large")), exchange(431, problem(431, "headers too large"))],
    )


def html_error() -> Finding:
    return Finding(
        clause="ERR-3",
        kind="violation",
        message="json-trailing-comma: a trailing comma after the last member: not application/problem+json",
        check="problems.errors_are_problems",
        expected="application/problem+json",
        actual="text/html",
        exchange=exchange(400, HTML_BODY, "text/html"),
        case="json-trailing-comma",
        confirmations=2,
        reproduced=1,
    )


def notes(clause_id: str, count: int) -> list[Finding]:
    return [
        Finding(clause_id, "note", f"may-case-{n}: an unusual address: rejected (HTTP 400)", case=f"may-case-{n}")
        for n in range(count)
    ]


def run_result(verdicts: list[ClauseVerdict], created: int = 206, **extra: Any) -> RunResult:
    return RunResult(
        verdicts=verdicts,
        seed=1,
        nonce=NONCE,
        base_url=BASE_URL,
        spec_sha256="a" * 64,
        spec_origin="bundled openapi.yaml",
        started_at="2026-12-02T06:00:00+00:00",
        duration=12.5,
        requests_sent=371,
        created=[
            CreatedRecord(f"cus_{n:024x}", "live" if n == 0 else "sandbox", "live" if n == 0 else "api")
            for n in range(created)
        ],
        **extra,
    )


def ledger(judged: int, planned: int | None = None, answered: int | None = None, required: int = 1) -> dict[str, Any]:
    planned = judged if planned is None else planned
    answered = judged if answered is None else answered
    return {"planned": planned, "sent": planned, "answered": answered, "judged": judged, "required": required}


def failing_run() -> RunResult:
    verdicts = []
    for clause in clauses.CLAUSES:
        if clause.id == "REQ-LEN-1":
            boundary = [f"name: ascii x{n}" for n in (255, 256, 257)] * 16
            verdicts.append(verdict(clause.id, Verdict.FAIL, length_violations(), cases=boundary, **ledger(48)))
        elif clause.id == "ERR-2":
            verdicts.append(verdict(clause.id, Verdict.FAIL, [flaky_drop()], **ledger(370, 371, 370)))
        elif clause.id == "ERR-3":
            verdicts.append(verdict(clause.id, Verdict.WARN, [html_error()], **ledger(40)))
        elif clause.id in ("RES-1", "IDEM-3"):
            skipped = verdict(clause.id, Verdict.SKIP, **ledger(2, 14, 2, required=14))
            skipped.note = SKIP_REASON
            verdicts.append(skipped)
        elif clause.id == "REQ-EMAIL-4":
            verdicts.append(verdict(clause.id, Verdict.INFO, notes(clause.id, 17), **ledger(17)))
        else:
            cases = [f"{clause.id.lower()}-case-{n}" for n in range(20)]
            verdicts.append(verdict(clause.id, Verdict.PASS, cases=cases, **ledger(20, required=5)))
    return run_result(verdicts, stopped=STOPPED, internal_errors=[INTERNAL_ERROR])


def passing_run() -> RunResult:
    verdicts = []
    for clause in clauses.CLAUSES:
        if clause.level is clauses.Level.MAY:
            verdicts.append(verdict(clause.id, Verdict.INFO, notes(clause.id, 3), **ledger(3)))
        else:
            verdicts.append(verdict(clause.id, Verdict.PASS, **ledger(48, required=48)))
    return run_result(verdicts, created=40)
