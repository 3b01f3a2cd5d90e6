"""The terminal report: a rich table by clause on a tty, plain lines otherwise."""

from __future__ import annotations

from typing import IO

from billing_kit.conformance.model import ClauseVerdict, RunResult, Verdict
from billing_kit.conformance.reports import first_reproduction

STYLES = {
    Verdict.PASS: "green",
    Verdict.FAIL: "bold red",
    Verdict.WARN: "yellow",
    Verdict.INFO: "cyan",
    Verdict.SKIP: "dim",
}
CREATED_LISTED = 10


def detail_lines(verdict: ClauseVerdict) -> list[str]:
    """What a person needs under a FAIL/WARN: the first violation, expected vs actual, reproduction."""
    lines: list[str] = []
    if verdict.verdict in (Verdict.FAIL, Verdict.WARN) or (verdict.verdict is Verdict.INFO and verdict.violations):
        first = verdict.violations[0]
        more = len(verdict.violations) - 1
        lines.append(first.message + (f" (+{more} more)" if more > 0 else ""))
        if first.expected is not None or first.actual is not None:
            lines.append(f"Expected: {first.expected}")
            lines.append(f"Actual:   {first.actual}")
        reproduce = first_reproduction(verdict)
        if reproduce:
            lines.append(f"Reproduce: {reproduce}")
    elif verdict.verdict is Verdict.INFO:
        notes = [f.message for f in verdict.findings if f.kind == "note"]
        lines.extend(notes[:3])
        if len(notes) > 3:
            lines.append(f"(+{len(notes) - 3} more in the JSON report)")
    elif verdict.verdict is Verdict.SKIP and verdict.note:
        lines.append(verdict.note)
    return lines


def summary_line(result: RunResult) -> str:
    counts = ", ".join(f"{result.count(v)} {v.value}" for v in Verdict)
    if result.flaky:
        counts += f" ({result.flaky} finding(s) FLAKY: not reproduced)"
    return f"{counts} - {result.requests_sent} requests in {result.duration:.1f} s, seed {result.seed}" + (
        " (strict)" if result.strict else ""
    )


def created_lines(result: RunResult) -> list[str]:
    if not result.created:
        return ["Created no customers."]
    ids = ", ".join(c.id for c in result.created[:CREATED_LISTED])
    more = (
        f" and {len(result.created) - CREATED_LISTED} more (all in --report-json)"
        if len(result.created) > CREATED_LISTED
        else ""
    )
    return [f"Created {len(result.created)} customers, tagged metadata.conformance_run = {result.nonce!r}: {ids}{more}"]


def render_plain(result: RunResult, out: IO[str]) -> None:
    for verdict in result.verdicts:
        out.write(f"{verdict.verdict.value:<4}  {verdict.clause:<14} {verdict.level:<6}  {verdict.title}\n")
        for line in detail_lines(verdict):
            out.write(f"        {line}\n")
    for line in created_lines(result):
        out.write(line + "\n")
    if result.budget_exhausted:
        out.write("The run budget (--max-time) ran out: this report is partial.\n")
    out.write(summary_line(result) + "\n")


def render_rich(result: RunResult, out: IO[str]) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(file=out, highlight=False)
    table = Table(title=f"Conformance of {escape(result.base_url)}", show_lines=False)
    table.add_column("Verdict")
    table.add_column("Clause")
    table.add_column("Level")
    table.add_column("Title / evidence", overflow="fold")
    for verdict in result.verdicts:
        lines = [escape(verdict.title)] + [f"[dim]{escape(line)}[/dim]" for line in detail_lines(verdict)]
        style = STYLES[verdict.verdict]
        table.add_row(f"[{style}]{verdict.verdict.value}[/{style}]", verdict.clause, verdict.level, "\n".join(lines))
    console.print(table)
    for line in created_lines(result):
        console.print(escape(line))
    if result.budget_exhausted:
        console.print("[bold red]The run budget (--max-time) ran out: this report is partial.[/bold red]")
    console.print(escape(summary_line(result)))


def render(result: RunResult, out: IO[str], tty: bool) -> None:
    (render_rich if tty else render_plain)(result, out)
