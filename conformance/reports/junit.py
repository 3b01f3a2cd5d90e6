"""`--junit`: one testcase per clause.

FAIL is a failure; WARN a failure under --strict, else a pass with the warning
in system-out; INFO a pass with the note; SKIP skipped, with its reason. Every
testcase carries the evidence ledger as properties (`judged`, `planned`, …) and
as the first line of its text; a failure's message names the first violation
with Expected, Actual and the server's answer, prefixed `FLAKY 0/2:` when the
confirmations did not reproduce it.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from billing_kit.conformance.model import ClauseVerdict, RunResult, Verdict
from billing_kit.conformance.reports import answer_beside, confirmation_label, confirmation_of, ledger, verdict_flaky
from billing_kit.conformance.reports.lines import detail_lines, status_text, warning_lines
from billing_kit.conformance.reports.names import readable_message

MESSAGE_LIMIT = 1000


def failure_message(verdict: ClauseVerdict) -> str:
    if not verdict.violations:
        return verdict.verdict.value
    first = verdict.violations[0]
    parts = [readable_message(first)]
    if first.expected is not None or first.actual is not None:
        parts.append(f"Expected: {first.expected}; Actual: {first.actual}")
    answer = answer_beside(first)
    if answer:
        parts.append(f"Server: {answer}")
    message = ". ".join(parts)
    confirmed = confirmation_of(verdict)
    if confirmed is not None:
        label = confirmation_label(confirmed)
        message = f"{label}: {message}" if verdict_flaky(verdict) else f"{message} ({label})"
    return message[:MESSAGE_LIMIT]


def _properties(case: ET.Element, verdict: ClauseVerdict) -> None:
    coverage = verdict.coverage
    rows = [("verdict", verdict.verdict.value), ("level", verdict.level)]
    summary = ledger(coverage)
    if summary:
        rows += [("ledger", summary)]
        rows += [(name, str(getattr(coverage, name))) for name in ("planned", "sent", "answered", "judged", "required")]
    assurance = coverage.assurance()
    if assurance is not None and verdict.verdict is not Verdict.SKIP:
        rows += [("generated", str(assurance.generated)), ("assurance", assurance.summary())]
        if assurance.rate_ruled_out is not None:
            rows += [("rate_ruled_out", f"{assurance.rate_ruled_out:.6g}")]
    if verdict.proven:
        rows += [("proven_to_catch", ", ".join(verdict.proven))]
    confirmed = confirmation_of(verdict)
    if confirmed is not None:
        tried = bool(confirmed.confirmations)
        rows += [("reproduced", f"{confirmed.reproduced or 0}/{confirmed.confirmations}" if tried else "not confirmed")]
        rows += [] if tried else [("unconfirmed", confirmed.unconfirmed or "")]
        rows += [("flaky", "true" if verdict_flaky(verdict) else "false")]
    properties = ET.SubElement(case, "properties")
    for name, value in rows:
        ET.SubElement(properties, "property", name=name, value=value)


def render(result: RunResult, json_path: Path | None = None) -> bytes:
    failures = sum(
        1 for v in result.verdicts if v.verdict is Verdict.FAIL or (result.strict and v.verdict is Verdict.WARN)
    )
    suite = ET.Element(
        "testsuite",
        name="billing-kit conformance",
        tests=str(len(result.verdicts) + len(result.internal_errors)),
        failures=str(failures),
        errors=str(len(result.internal_errors)),
        skipped=str(result.count(Verdict.SKIP)),
        time=f"{result.duration:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    run_facts = [("seed", str(result.seed)), ("base_url", result.base_url), ("spec_sha256", result.spec_sha256)]
    if result.stopped:
        run_facts.append(("stopped", result.stopped))
    for name, value in run_facts:
        ET.SubElement(properties, "property", name=name, value=value)
    for verdict in result.verdicts:
        case = ET.SubElement(
            suite, "testcase", classname=f"conformance.{verdict.level}", name=f"{verdict.clause} {verdict.title}"
        )
        _properties(case, verdict)
        status = status_text(verdict)
        body = [f"{verdict.verdict.value} {verdict.clause}" + (f": {status}" if status else "")]
        text = "\n".join(body + detail_lines(verdict, json_path))
        failed = verdict.verdict is Verdict.FAIL or (result.strict and verdict.verdict is Verdict.WARN)
        if failed:
            element = ET.SubElement(case, "failure", message=failure_message(verdict), type=verdict.verdict.value)
            element.text = text
        elif verdict.verdict is Verdict.SKIP:
            ET.SubElement(case, "skipped", message=(verdict.note or status or "not judged")[:MESSAGE_LIMIT])
            ET.SubElement(case, "system-out").text = text
        else:
            ET.SubElement(case, "system-out").text = text
    for n, error in enumerate(result.internal_errors, 1):
        case = ET.SubElement(suite, "testcase", classname="conformance.suite", name=f"internal error {n}")
        ET.SubElement(case, "error", message=error[:MESSAGE_LIMIT], type="internal").text = error
    warnings = warning_lines(result)
    if warnings:
        ET.SubElement(suite, "system-err").text = "\n".join(warnings)
    ET.indent(suite)
    data: bytes = ET.tostring(suite, encoding="utf-8", xml_declaration=True)
    return data


def write(result: RunResult, path: Path, json_path: Path | None = None) -> None:
    path.write_bytes(render(result, json_path))
