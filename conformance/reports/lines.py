"""The lines every format shows of a verdict and of a run (the terminal, JUnit, …).

Not a format itself: the terminal and JUnit reports both print these, so neither
imports the other.
"""

from __future__ import annotations

from pathlib import Path

from billing_kit.conformance.model import ClauseVerdict, RunResult, Verdict
from billing_kit.conformance.reports import (
    answer_beside,
    assurance_text,
    confirmation_label,
    confirmation_of,
    first_reproduction,
    labelled_attempts,
    ledger,
    more_hint,
    proven_text,
    server_answer,
)
from billing_kit.conformance.reports.names import readable_message

NOTES_LISTED = 3


def status_text(verdict: ClauseVerdict) -> str:
    """What stands after the title on the clause's line: the ledger, the confirmation, a SKIP's reason."""
    parts = [ledger(verdict.coverage), assurance_text(verdict), proven_text(verdict)]
    first = confirmation_of(verdict)
    if first is not None and verdict.verdict is not Verdict.PASS:
        parts.append(confirmation_label(first))
    if verdict.verdict is Verdict.SKIP:
        parts.append(verdict.note or verdict.coverage.note or "not judged")
    return " · ".join(p for p in parts if p)


def attempt_line(verdict: ClauseVerdict) -> str | None:
    """Every attempt's answer, for a FLAKY finding (the first sighting and each confirmation)."""
    first = confirmation_of(verdict)
    if first is None or not first.flaky:
        return None
    attempts = labelled_attempts(first)
    if not attempts:
        return None
    return "Attempts: " + " | ".join(f"{label}: {server_answer(e)}" for label, e in attempts)


def detail_lines(verdict: ClauseVerdict, json_path: Path | None = None) -> list[str]:
    """What a person needs under a FAIL/WARN: the first violation, expected vs actual, the answer, a reproduction."""
    lines: list[str] = []
    if verdict.verdict in (Verdict.FAIL, Verdict.WARN) or (verdict.verdict is Verdict.INFO and verdict.violations):
        first = verdict.violations[0]
        lines.append(readable_message(first))
        if first.expected is not None or first.actual is not None:
            lines.append(f"Expected: {first.expected}")
            lines.append(f"Actual:   {first.actual}")
        answer = answer_beside(first)
        if answer:
            lines.append(f"Server:   {answer}")
        attempts = attempt_line(verdict)
        if attempts:
            lines.append(attempts)
        reproduce = first_reproduction(verdict)
        if reproduce:
            lines.append(f"Reproduce: {reproduce}")
        more = len(verdict.violations) - 1
        if more > 0:
            lines.append(more_hint(more, json_path, "more violations" if more > 1 else "more violation"))
    elif verdict.verdict is Verdict.INFO:
        notes = [readable_message(f) for f in verdict.findings if f.kind == "note"]
        lines.extend(notes[:NOTES_LISTED])
        if len(notes) > NOTES_LISTED:
            lines.append(more_hint(len(notes) - NOTES_LISTED, json_path))
    elif (
        verdict.verdict is Verdict.SKIP
        and verdict.coverage.note
        and verdict.note not in (None, "", verdict.coverage.note)
    ):
        lines.append(verdict.coverage.note)
    return lines


def warning_lines(result: RunResult) -> list[str]:
    """What makes the run partial or untrustworthy, said before the table and again after it."""
    lines = []
    if result.stopped:
        lines.append(f"The run stopped early: {result.stopped}. Clauses without judged answers are SKIP.")
    if result.budget_exhausted:
        lines.append("The run budget (--max-time) ran out: this report is partial.")
    for error in result.internal_errors:
        lines.append(f"Internal error in the suite (not the server's fault): {error}")
    return lines
