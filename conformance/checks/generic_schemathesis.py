"""Schemathesis's own checks on one answer of the generic phase, and what they mean for the contract.

`run_checks` runs them on an answer the suite's client got; `schema_findings`
maps their verdicts on a 2xx by the member they name (`id` to RES-ID-1,
`environment` to RES-ENV-1, a missing member to RES-1, …). On a 4xx they are
ERR-3's (judged over the whole run), on a 5xx ERR-2's, so they are not mapped.
"""

from __future__ import annotations

from typing import Any

from billing_kit.conformance.checks.generic_plan import Planned
from billing_kit.conformance.context import describe
from billing_kit.conformance.failures import Failure
from billing_kit.conformance.model import Exchange

# 2xx response members -> the clause a schema error in them breaks.
MEMBER_CLAUSES = {
    "id": "RES-ID-1",
    "environment": "RES-ENV-1",
    "created_at": "RES-TIME-1",
    "updated_at": "RES-TIME-1",
    "org_id": "RES-ORG-1",
}
ECHOED = ("email", "name", "external_id", "metadata")


RESPONSE_CHECKS = ("status_code_conformance", "content_type_conformance", "response_schema_conformance")


def run_checks(item: Planned, exchange: Exchange, only: tuple[str, ...] | None = None) -> list[tuple[str, Any]]:
    """(check name, failure) for every Schemathesis check that fails on this answer (`only`: those named)."""
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
    funcs = [
        func
        for func in (
            not_a_server_error,
            oas.status_code_conformance,
            oas.content_type_conformance,
            oas.response_schema_conformance,
            oas.negative_data_rejection,
            oas.positive_data_acceptance,
            oas.missing_required_header,
            oas.unsupported_method,
        )
        if only is None or func.__name__ in only
    ]
    # Most answers pass every check: one call judges them all (each call re-reads Schemathesis's
    # configuration). Only an answer that fails one is judged again check by check, to name it.
    try:
        item.case.validate_response(wrapped, checks=funcs)
        return []
    except (FailureGroup, Exception):  # FailureGroup is a BaseExceptionGroup
        pass
    failures: list[tuple[str, Any]] = []
    for func in funcs:
        try:
            item.case.validate_response(wrapped, checks=[func])
        except FailureGroup as group:
            failures += [(func.__name__, failure) for failure in group.exceptions]
        except Exception:  # a check that cannot judge this answer is no evidence either way
            continue
    return failures


def schema_findings(exchange: Exchange, failures: list[tuple[str, Any]]) -> list[Failure]:
    """Schemathesis's response checks on a 2xx as RES-* findings; format-only errors in echoes dropped."""
    found: list[Failure] = []

    def add(clause: str, title: str, expected: str, actual: str) -> None:
        found.append(Failure(clause, title, expected=expected, actual=actual, exchange=exchange))

    for name, failure in failures:
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
