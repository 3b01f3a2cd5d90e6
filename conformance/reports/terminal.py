"""The terminal report: a rich table by clause on a tty, plain lines otherwise.

One short line per clause: verdict, clause, level, title and the evidence ledger
(`48/48 judged`); FAIL/WARN add their confirmation (`reproduced 2/2`, `FLAKY 0/2`),
SKIP its reason. Under a FAIL/WARN: the first violation with Expected, Actual, the
server's answer and a reproduction.
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import IO

from billing_kit.conformance.model import ClauseVerdict, RunResult, Verdict
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


ACCEPTED = "ACCEPTED"  # a FAIL/WARN whose every violation the --baseline file accepts


def plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def verdict_word(verdict: ClauseVerdict, accepted: AbstractSet[str] = frozenset()) -> str:
    return ACCEPTED if verdict.clause in accepted else verdict.verdict.value


def summary_line(result: RunResult, accepted: AbstractSet[str] = frozenset(), traffic: bool = False) -> str:
    """`27 PASS, 1 ACCEPTED, … - 1,344 requests in 3.1 s, seed 7`; traffic says exchanges judged, no seed."""
    flaky = flaky_count(result)
    counts = []
    for v in Verdict:
        shown = [x for x in result.verdicts if x.verdict is v and x.clause not in accepted]
        text = f"{len(shown)} {v.value}"
        flaky_here = sum(1 for x in shown if verdict_flaky(x)) if flaky else 0
        counts.append(text + (f" ({flaky_here} FLAKY)" if flaky_here else ""))
        if v is Verdict.FAIL and accepted:
            counts.append(f"{sum(1 for x in result.verdicts if x.clause in accepted)} {ACCEPTED}")
    if traffic:
        tail = f"{plural(result.requests_sent, 'exchange')} judged"
    else:
        tail = f"{plural(result.requests_sent, 'request')} in {result.duration:.1f} s, seed {result.seed}"
    return f"{', '.join(counts)} - {tail}" + (" (strict)" if result.strict else "")


def created_lines(result: RunResult, json_path: Path | None = None, traffic: bool = False) -> list[str]:
    if traffic:
        return []  # the proxy and the judge create nothing themselves
    if not result.created:
        return ["Created no customers."]
    ids = ", ".join(c.id for c in result.created[:CREATED_LISTED])
    more = len(result.created) - CREATED_LISTED
    tail = f" {more_hint(more, json_path)}" if more > 0 else ""
    created = plural(len(result.created), "customer")
    return [f"Created {created}, tagged metadata.conformance_run = {result.nonce!r}: {ids}{tail}"]


def _title_width(result: RunResult) -> int:
    return min(TITLE_WIDTH, max((len(v.title) for v in result.verdicts), default=0))


def render_plain(
    result: RunResult,
    out: IO[str],
    json_path: Path | None = None,
    accepted: AbstractSet[str] = frozenset(),
    traffic: bool = False,
) -> None:
    for line in warning_lines(result):
        out.write(line + "\n")
    width = _title_width(result)
    word_width = len(ACCEPTED) if accepted else 4
    for verdict in result.verdicts:
        status = status_text(verdict)
        head = f"{verdict_word(verdict, accepted):<{word_width}}  {verdict.clause:<14} {verdict.level:<6}  "
        head += f"{verdict.title:<{width}}  {status}" if status else verdict.title
        out.write(head.rstrip() + "\n")
        for line in detail_lines(verdict, json_path):
            out.write(f"        {line}\n")
    for line in created_lines(result, json_path, traffic):
        out.write(line + "\n")
    for line in warning_lines(result):
        out.write(line + "\n")
    out.write(summary_line(result, accepted, traffic) + "\n")


def render_rich(
    result: RunResult,
    out: IO[str],
    json_path: Path | None = None,
    accepted: AbstractSet[str] = frozenset(),
    traffic: bool = False,
) -> None:
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
        style = "magenta" if verdict.clause in accepted else STYLES[verdict.verdict]
        judged = [escape(ledger(verdict.coverage)).replace(" (", "\n(")]
        first = confirmation_of(verdict)
        if first is not None and verdict.verdict is not Verdict.PASS:
            label = escape(confirmation_label(first))
            judged.append(f"[bold magenta]{label}[/bold magenta]" if first.flaky else label)
        table.add_row(
            f"[{style}]{verdict_word(verdict, accepted)}[/{style}]",
            verdict.clause,
            verdict.level,
            "\n".join(j for j in judged if j),
            "\n".join(lines),
        )
    console.print(table)
    for line in created_lines(result, json_path, traffic):
        console.print(escape(line))
    for line in warning_lines(result):
        console.print(f"[bold red]{escape(line)}[/bold red]")
    console.print(escape(summary_line(result, accepted, traffic)))


def render(
    result: RunResult,
    out: IO[str],
    tty: bool,
    json_path: Path | None = None,
    accepted: AbstractSet[str] = frozenset(),
    traffic: bool = False,
) -> None:
    """`json_path`: the JSON report this run writes, if any (where a cut list's rest can be read).

    `accepted`: clauses a --baseline accepts (printed ACCEPTED); `traffic`: a proxy/judge result
    (exchanges judged; no seed, no customers of its own).
    """
    (render_rich if tty else render_plain)(result, out, json_path, accepted, traffic)
