"""The terminal report: a rich table by clause on a tty, plain lines otherwise.

One short line per clause: verdict, clause, level, title and the evidence ledger
(`48/48 judged`); FAIL/WARN add their confirmation (`reproduced 2/2`, `FLAKY 0/2`),
SKIP its reason. Under a FAIL/WARN: the first violation with Expected, Actual, the
server's answer and a reproduction.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO

from billing_kit.conformance.model import RunResult, Verdict
from billing_kit.conformance.reports import (
    confirmation_label,
    confirmation_of,
    flaky_count,
    ledger,
    more_hint,
    verdict_flaky,
)
from billing_kit.conformance.reports.lines import detail_lines, status_text, warning_lines

STYLES = {
    Verdict.PASS: "green",
    Verdict.FAIL: "bold red",
    Verdict.WARN: "yellow",
    Verdict.INFO: "cyan",
    Verdict.SKIP: "dim",
}
CREATED_LISTED = 10
TITLE_WIDTH = 56


def summary_line(result: RunResult) -> str:
    flaky = flaky_count(result)
    counts = []
    for v in Verdict:
        text = f"{result.count(v)} {v.value}"
        flaky_here = sum(1 for x in result.verdicts if x.verdict is v and verdict_flaky(x)) if flaky else 0
        counts.append(text + (f" ({flaky_here} FLAKY)" if flaky_here else ""))
    return f"{', '.join(counts)} - {result.requests_sent} requests in {result.duration:.1f} s, seed {result.seed}" + (
        " (strict)" if result.strict else ""
    )


def created_lines(result: RunResult, json_path: Path | None = None) -> list[str]:
    if not result.created:
        return ["Created no customers."]
    ids = ", ".join(c.id for c in result.created[:CREATED_LISTED])
    more = len(result.created) - CREATED_LISTED
    tail = f" {more_hint(more, json_path)}" if more > 0 else ""
    return [f"Created {len(result.created)} customers, tagged metadata.conformance_run = {result.nonce!r}: {ids}{tail}"]


def _title_width(result: RunResult) -> int:
    return min(TITLE_WIDTH, max((len(v.title) for v in result.verdicts), default=0))


def render_plain(result: RunResult, out: IO[str], json_path: Path | None = None) -> None:
    for line in warning_lines(result):
        out.write(line + "\n")
    width = _title_width(result)
    for verdict in result.verdicts:
        status = status_text(verdict)
        head = f"{verdict.verdict.value:<4}  {verdict.clause:<14} {verdict.level:<6}  "
        head += f"{verdict.title:<{width}}  {status}" if status else verdict.title
        out.write(head.rstrip() + "\n")
        for line in detail_lines(verdict, json_path):
            out.write(f"        {line}\n")
    for line in created_lines(result, json_path):
        out.write(line + "\n")
    for line in warning_lines(result):
        out.write(line + "\n")
    out.write(summary_line(result) + "\n")


def render_rich(result: RunResult, out: IO[str], json_path: Path | None = None) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(file=out, highlight=False)
    for line in warning_lines(result):
        console.print(f"[bold red]{escape(line)}[/bold red]")
    table = Table(title=f"Conformance of {escape(result.base_url)}", show_lines=False)
    table.add_column("Verdict", no_wrap=True)
    table.add_column("Clause", no_wrap=True)
    table.add_column("Level", no_wrap=True)
    table.add_column("Judged", min_width=12, max_width=16)
    table.add_column("Title / evidence", overflow="fold")
    for verdict in result.verdicts:
        details = detail_lines(verdict, json_path)
        if verdict.verdict is Verdict.SKIP:
            details.insert(0, verdict.note or verdict.coverage.note or "not judged")
        lines = [escape(verdict.title)] + [f"[dim]{escape(line)}[/dim]" for line in details]
        style = STYLES[verdict.verdict]
        judged = [escape(ledger(verdict.coverage)).replace(" (", "\n(")]
        first = confirmation_of(verdict)
        if first is not None and verdict.verdict is not Verdict.PASS:
            label = escape(confirmation_label(first))
            judged.append(f"[bold magenta]{label}[/bold magenta]" if first.flaky else label)
        table.add_row(
            f"[{style}]{verdict.verdict.value}[/{style}]",
            verdict.clause,
            verdict.level,
            "\n".join(j for j in judged if j),
            "\n".join(lines),
        )
    console.print(table)
    for line in created_lines(result, json_path):
        console.print(escape(line))
    for line in warning_lines(result):
        console.print(f"[bold red]{escape(line)}[/bold red]")
    console.print(escape(summary_line(result)))


def render(result: RunResult, out: IO[str], tty: bool, json_path: Path | None = None) -> None:
    """`json_path`: the JSON report this run writes, if any (where a cut list's rest can be read)."""
    (render_rich if tty else render_plain)(result, out, json_path)
