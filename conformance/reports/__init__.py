"""Report formats, all printed from one document built here (`build_document`).

terminal.py (rich table, plain lines when not a tty), json_report.py (versioned,
validated by ../report.schema.json), junit.py, html.py.
"""

from __future__ import annotations

import platform
from importlib import metadata
from typing import Any

from billing_kit.conformance import clauses
from billing_kit.conformance.context import RUN_TAG_KEY
from billing_kit.conformance.jsonsafe import excerpt
from billing_kit.conformance.model import ClauseVerdict, Exchange, Finding, RunResult, Verdict

SCHEMA_VERSION = "1.0"
FINDINGS_KEPT = 5
NOTES_KEPT = 40
BODY_EXCERPT = 1500
HEADER_EXCERPT = 200


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
        "check": finding.check,
        "case": finding.case,
        "expected": finding.expected,
        "actual": finding.actual,
        "reproduce": finding.reproduce,
        "exchange": exchange_evidence(finding.exchange) if finding.exchange else None,
    }


def shown_findings(verdict: ClauseVerdict) -> list[Finding]:
    """Violations first (a few), then notes; inconclusive only when they explain a SKIP."""
    violations = verdict.violations[:FINDINGS_KEPT]
    notes = [f for f in verdict.findings if f.kind == "note"][:NOTES_KEPT]
    skipped = [f for f in verdict.findings if f.kind == "inconclusive"][:2] if verdict.verdict is Verdict.SKIP else []
    return violations + notes + skipped


def first_reproduction(verdict: ClauseVerdict) -> str | None:
    return next((f.reproduce for f in verdict.violations if f.reproduce), None)


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
        "exit_code": result.exit_code,
        "options": result.options,
        "summary": {v.value: result.count(v) for v in Verdict},
        "verdicts": [
            {
                "clause": v.clause,
                "level": v.level,
                "verdict": v.verdict.value,
                "title": v.title,
                "requirement": v.requirement or clauses.get(v.clause).requirement,
                "checks": v.checks,
                "note": v.note,
                "violations": len(v.violations),
                "evidence": [finding_evidence(f) for f in shown_findings(v)],
                "reproduce": first_reproduction(v),
            }
            for v in result.verdicts
        ],
        "created": [{"id": c.id, "environment": c.environment, "key": c.key} for c in result.created],
    }
