"""`--junit`: one testcase per clause.

FAIL is a failure; WARN a failure under --strict, else a pass with the warning
in system-out; INFO a pass with the note; SKIP skipped.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from billing_kit.conformance.model import RunResult, Verdict
from billing_kit.conformance.reports.terminal import detail_lines


def render(result: RunResult) -> bytes:
    failures = sum(
        1 for v in result.verdicts if v.verdict is Verdict.FAIL or (result.strict and v.verdict is Verdict.WARN)
    )
    suite = ET.Element(
        "testsuite",
        name="billing-kit conformance",
        tests=str(len(result.verdicts)),
        failures=str(failures),
        errors="0",
        skipped=str(result.count(Verdict.SKIP)),
        time=f"{result.duration:.3f}",
    )
    properties = ET.SubElement(suite, "properties")
    for name, value in (("seed", str(result.seed)), ("base_url", result.base_url), ("spec_sha256", result.spec_sha256)):
        ET.SubElement(properties, "property", name=name, value=value)
    for verdict in result.verdicts:
        case = ET.SubElement(
            suite, "testcase", classname=f"conformance.{verdict.level}", name=f"{verdict.clause} {verdict.title}"
        )
        text = "\n".join(detail_lines(verdict))
        failed = verdict.verdict is Verdict.FAIL or (result.strict and verdict.verdict is Verdict.WARN)
        if failed:
            message = verdict.violations[0].message if verdict.violations else verdict.verdict.value
            element = ET.SubElement(case, "failure", message=message[:500], type=verdict.verdict.value)
            element.text = text
        elif verdict.verdict is Verdict.SKIP:
            ET.SubElement(case, "skipped", message=verdict.note[:500])
        elif text:
            ET.SubElement(case, "system-out").text = f"{verdict.verdict.value}: {text}"
    ET.indent(suite)
    data: bytes = ET.tostring(suite, encoding="utf-8", xml_declaration=True)
    return data


def write(result: RunResult, path: Path) -> None:
    path.write_bytes(render(result))
