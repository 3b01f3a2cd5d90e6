"""Report formats, all printed from one document built here (`build_document`).

terminal.py (rich table, plain lines when not a tty), json_report.py (versioned,
validated by ../report.schema.json), junit.py, html.py. What several formats say
the same way lives here: the evidence ledger (`ledger`), the confirmation label
(`confirmation_label`), the server's answer in one line (`server_answer`) and
where the rest of a cut list can be read (`more_hint`); readable case names are
in names.py.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import Any

from billing_kit.conformance import clauses, proven
from billing_kit.conformance.context import RUN_TAG_KEY
from billing_kit.conformance.jsonsafe import excerpt
from billing_kit.conformance.model import ClauseVerdict, Coverage, Exchange, Finding, RunResult, Verdict
from billing_kit.conformance.reports.names import case_name, readable_message

# 1.1: coverage (the evidence ledger) per verdict; confirmation, attempts and the server's answer per
# finding; every violation up to VIOLATIONS_KEPT (was 5); stopped, internal_errors and flaky per run.
# 1.2: every FAIL/WARN verdict carries `reproduced`; one not tried again has `reproduced: null` and says why
# (`unconfirmed`, also per finding).
# 1.3: `coverage.assurance` (what the generated cases rule out, or a FAIL's observed rate; null for a
# verdict on listed cases only) and `coverage.generated` / `coverage.listed`; `proven_to_catch` per verdict
# (the known defect classes, conformance/proven.json, that the checks which ran catch; a PASS only).
SCHEMA_VERSION = "1.3"
FINDINGS_KEPT = 5  # shown in the HTML report per clause; the JSON report keeps VIOLATIONS_KEPT
VIOLATIONS_KEPT = 100
NOTES_KEPT = 40
BODY_EXCERPT = 1500
HEADER_EXCERPT = 200
ANSWER_EXCERPT = 200
JSON_HINT = "billing-kit check --report-json FILE"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


def tool_versions() -> dict[str, str]:
    return {
        "billing-kit": _version("billing-kit"),
        "schemathesis": _version("schemathesis"),
        "hypothesis": _version("hypothesis"),
        "httpx": _version("httpx"),
        "python": platform.python_version(),
    }


def _one_line(text: str, limit: int = ANSWER_EXCERPT) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def server_answer(exchange: Exchange | None) -> str | None:
    """What the server said, in one line: the status and the problem's `detail`, or the body's start."""
    if exchange is None:
        return None
    response = exchange.response
    if response is None:
        return f"no answer: {exchange.error or 'unknown error'}"
    head = f"HTTP {response.status}"
    if response.media_type:
        head += f" {response.media_type}"
    document = response.json if response.is_json else None
    if isinstance(document, dict) and isinstance(document.get("detail"), str) and document["detail"].strip():
        return f'{head}: detail "{_one_line(document["detail"])}"'
    if not response.body:
        return f"{head}, empty body"
    return f"{head}: {_one_line(excerpt(response.body, ANSWER_EXCERPT * 2))}"


def answer_beside(finding: Finding) -> str | None:
    """The server's answer to show beside Expected/Actual; None when Actual already says all of it."""
    answer = server_answer(finding.exchange)
    exchange = finding.exchange
    if exchange is not None and exchange.response is None and finding.actual == exchange.error:
        return None
    return answer


def ledger(coverage: Coverage) -> str:
    """`48/48 judged`, with what is missing: `(3 not sent, 2 unanswered, needs 40)`, and a deep run's
    cases (`48/48 judged + 1,295 deep`); "" when not recorded."""
    if not (coverage.planned or coverage.sent or coverage.answered or coverage.judged or coverage.required):
        return ""
    total = max(coverage.planned, coverage.sent, coverage.judged)
    gaps = []
    if coverage.sent < coverage.planned:
        gaps.append(f"{coverage.planned - coverage.sent} not sent")
    if coverage.answered < coverage.sent:
        gaps.append(f"{coverage.sent - coverage.answered} unanswered")
    if coverage.required and coverage.judged < coverage.required:
        gaps.append(f"needs {coverage.required}")
    deep = f" + {coverage.deep:,} deep" if coverage.deep else ""
    return f"{coverage.judged}/{total} judged{deep}" + (f" ({', '.join(gaps)})" if gaps else "")


def assurance_text(verdict: ClauseVerdict) -> str:
    """`rules out 1 in 16` (a PASS on generated cases), a FAIL's observed rate; "" for listed cases or a SKIP."""
    assurance = verdict.coverage.assurance()
    if assurance is None or verdict.verdict is Verdict.SKIP:
        return ""
    return assurance.summary()


def proven_text(verdict: ClauseVerdict) -> str:
    """`catches 7 known defects` beside a PASS whose checks are proven on the zoo's defect classes."""
    count = len(verdict.proven)
    return f"catches {count} known defect{'s' if count != 1 else ''}" if count else ""


def confirmed(finding: Finding) -> bool:
    return finding.kind == "violation" and bool(finding.confirmations)


def confirmation_label(finding: Finding) -> str:
    """`reproduced 2/2`, `FLAKY 0/2` when the confirmations did not break the rule again,
    `not confirmed: <why>` when it was not tried again; "" for what is not confirmed at all (a note)."""
    if not confirmed(finding):
        return f"not confirmed: {finding.unconfirmed}" if finding.unconfirmed else ""
    kind = "FLAKY" if finding.flaky else "reproduced"
    return f"{kind} {finding.reproduced or 0}/{finding.confirmations}"


def confirmation_of(verdict: ClauseVerdict) -> Finding | None:
    """The violation whose confirmation speaks for the verdict: the first one confirmed, else the first
    that says why it was not tried again."""
    return next((f for f in verdict.violations if confirmed(f)), None) or next(
        (f for f in verdict.violations if f.unconfirmed), None
    )


def verdict_flaky(verdict: ClauseVerdict) -> bool:
    """A FAIL/WARN whose every confirmed violation failed to reproduce (still a violation, labelled FLAKY)."""
    tried = [f for f in verdict.violations if confirmed(f)]
    return verdict.verdict in (Verdict.FAIL, Verdict.WARN) and bool(tried) and all(f.flaky for f in tried)


def flaky_count(result: RunResult) -> int:
    return sum(1 for v in result.verdicts if verdict_flaky(v))


def labelled_attempts(finding: Finding) -> list[tuple[str, Exchange]]:
    """Every attempt with its name: the first sighting, then each confirmation.

    `attempts` holds the confirmations, or (one longer) the first sighting and the confirmations.
    """
    attempts = [e for e in finding.attempts if e is not finding.exchange]
    if not attempts:
        return []
    first: Exchange | None = finding.exchange
    confirmations = attempts
    if finding.confirmations is not None and len(attempts) > finding.confirmations:
        first, confirmations = attempts[0], attempts[1:]
    out = [("first sighting", first)] if first is not None else []
    return out + [(f"confirmation {n}", e) for n, e in enumerate(confirmations, 1)]


def more_hint(count: int, json_path: Path | None, what: str = "more") -> str:
    """Where the `count` items a list left out can be read: the JSON report written, or how to write one."""
    if json_path is not None:
        return f"(+{count} {what} in the JSON report {json_path})"
    return f"(+{count} {what}: `{JSON_HINT}` lists them all)"


def exchange_evidence(exchange: Exchange) -> dict[str, Any]:
    request = exchange.request
    out: dict[str, Any] = {
        "request": {
            "method": request.method,
            "url": request.url,
            "headers": [[k, v[:HEADER_EXCERPT]] for k, v in request.headers],
            "body": excerpt(request.body, BODY_EXCERPT) if request.body is not None else None,
            "body_size": request.body_size,
        },
        "response": None,
        "error": exchange.error,
        "answer": server_answer(exchange),
    }
    if exchange.response is not None:
        response = exchange.response
        out["response"] = {
            "status": response.status,
            "headers": [[k, v[:HEADER_EXCERPT]] for k, v in response.headers],
            "body": excerpt(response.body, BODY_EXCERPT),
            "truncated": response.truncated,
            "elapsed_seconds": round(response.elapsed, 4),
        }
    return out


def finding_evidence(finding: Finding) -> dict[str, Any]:
    return {
        "kind": finding.kind,
        "message": finding.message,
        "title": readable_message(finding),
        "check": finding.check,
        "case": finding.case,
        "case_name": case_name(finding.case) if finding.case else None,
        "expected": finding.expected,
        "actual": finding.actual,
        "answer": server_answer(finding.exchange),
        "reproduce": finding.reproduce,
        "exchange": exchange_evidence(finding.exchange) if finding.exchange else None,
        "confirmations": finding.confirmations,
        "reproduced": finding.reproduced,
        "flaky": finding.flaky,
        "confirmation": confirmation_label(finding) or None,
        "unconfirmed": finding.unconfirmed,
        "attempts": [{"label": label, **exchange_evidence(e)} for label, e in labelled_attempts(finding)],
    }


def shown_findings(verdict: ClauseVerdict, violations: int = VIOLATIONS_KEPT) -> list[Finding]:
    """Violations first, then notes; inconclusive only when they explain a SKIP."""
    kept = verdict.violations[:violations]
    notes = [f for f in verdict.findings if f.kind == "note"][:NOTES_KEPT]
    skipped = [f for f in verdict.findings if f.kind == "inconclusive"][:2] if verdict.verdict is Verdict.SKIP else []
    return kept + notes + skipped


def first_reproduction(verdict: ClauseVerdict) -> str | None:
    return next((f.reproduce for f in verdict.violations if f.reproduce), None)


def coverage_document(coverage: Coverage) -> dict[str, Any]:
    return {
        "planned": coverage.planned,
        "sent": coverage.sent,
        "answered": coverage.answered,
        "judged": coverage.judged,
        "required": coverage.required,
        "cases": list(coverage.cases),
        "note": coverage.note,
        "deep": coverage.deep,
        "generated": coverage.generated,
        "listed": max(coverage.judged - coverage.generated, 0),
        "assurance": assurance.document() if (assurance := coverage.assurance()) else None,
        "summary": ledger(coverage),
    }


def _reproduced(first: Finding | None) -> dict[str, Any] | None:
    """`reproduced: k/N` of a FAIL/WARN; k is null (and `unconfirmed` says why) when it was not tried again."""
    if first is None:
        return None
    tried = confirmed(first)
    return {
        "reproduced": (first.reproduced or 0) if tried else None,
        "confirmations": first.confirmations if tried else 0,
        "label": confirmation_label(first),
        "unconfirmed": None if tried else first.unconfirmed,
    }


def verdict_document(verdict: ClauseVerdict) -> dict[str, Any]:
    first = confirmation_of(verdict)
    notes = sum(1 for f in verdict.findings if f.kind == "note")
    return {
        "clause": verdict.clause,
        "level": verdict.level,
        "verdict": verdict.verdict.value,
        "title": verdict.title,
        "requirement": verdict.requirement or clauses.get(verdict.clause).requirement,
        "checks": verdict.checks,
        "note": verdict.note,
        "violations": len(verdict.violations),
        "notes": notes,
        "coverage": coverage_document(verdict.coverage),
        "reproduced": _reproduced(first),
        "flaky": verdict_flaky(verdict),
        "evidence": [finding_evidence(f) for f in shown_findings(verdict)],
        "reproduce": first_reproduction(verdict),
        "proven_to_catch": [
            {"name": d.name, "description": d.description, "checks": list(d.checks)}
            for d in proven.known_defects()
            if d.name in verdict.proven and d.clause == verdict.clause
        ],
    }


def build_document(result: RunResult) -> dict[str, Any]:
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": tool_versions(),
        "target": {"base_url": result.base_url},
        "spec": {"origin": result.spec_origin, "sha256": result.spec_sha256},
        "seed": result.seed,
        "run_tag": {"metadata_key": RUN_TAG_KEY, "value": result.nonce},
        "started_at": result.started_at,
        "duration_seconds": round(result.duration, 3),
        "requests_sent": result.requests_sent,
        "strict": result.strict,
        "budget_exhausted": result.budget_exhausted,
        "stopped": result.stopped,
        "internal_errors": list(result.internal_errors),
        # With --baseline only new findings decide the exit (options.baseline says how many).
        "exit_code": result.options.get("baseline", {}).get("exit_code", result.exit_code),
        "options": result.options,
        "summary": {v.value: result.count(v) for v in Verdict},
        "flaky": flaky_count(result),
        "verdicts": [verdict_document(v) for v in result.verdicts],
        "created": [{"id": c.id, "environment": c.environment, "key": c.key} for c in result.created],
    }
