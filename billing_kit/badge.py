"""`billing-kit badge REPORT.json -o badge.svg`: a small static SVG, "conformance | 32/32 MUST".

Green when every MUST clause passed, red when one failed, amber when none failed
but some were skipped (SKIP). The counts come from the report's verdicts; the
total is the MUST clauses the report lists (a run with --only lists fewer).

A report of real traffic (`proxy`, `judge`: one with `options.parties`) gives
"traffic | 14/14 MUST | client: 1 FAIL": the first count is the server's own
verdicts on the MUST clauses its answers were judged on (green when all passed,
red when one failed, amber when none was judged); the clauses the client broke
stand apart in a third, neutral part, never in the server's tally.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import click

from billing_kit.conformance.errors import CliError, OneLineErrors

GREEN, RED, AMBER, GREY = "#2e8540", "#c9302c", "#b7791f", "#555"
CLIENT_COLOR = "#5a6b7d"  # neutral: the client's findings are not the server's to fix
LABEL = "conformance"
TRAFFIC_LABEL = "traffic"
CHAR_WIDTH = 7.0  # px per character of 11 px Verdana, close enough for ASCII
PADDING = 10


@dataclass(frozen=True)
class Badge:
    label: str
    message: str
    color: str
    passed: int
    total: int
    failed: int
    client: str = ""  # a traffic report's client findings ("client: 1 FAIL"); "" when none
    detail: str = ""  # more for the title (a traffic report: what was judged, whom to fix)


def badge_of(report: dict[str, Any]) -> Badge:
    """Raises ReportError when a traffic report's parties cannot be read."""
    from billing_kit.conformance.report_reader import client_findings, parties_of, server_verdicts

    if parties_of(report) is not None:
        return _traffic_badge(server_verdicts(report), client_findings(report))
    musts = [v for v in report["verdicts"] if v.get("level") == "MUST"]
    passed = sum(1 for v in musts if v.get("verdict") == "PASS")
    failed = sum(1 for v in musts if v.get("verdict") == "FAIL")
    color = RED if failed else GREEN if musts and passed == len(musts) else AMBER
    return Badge(LABEL, f"{passed}/{len(musts)} MUST", color, passed, len(musts), failed)


def _traffic_badge(server: list[dict[str, Any]], client: list[Any]) -> Badge:
    musts = [v for v in server if v.get("level") == "MUST"]
    judged = [v for v in musts if v.get("verdict") != "SKIP"]
    passed = sum(1 for v in judged if v.get("verdict") == "PASS")
    failed = sum(1 for v in judged if v.get("verdict") == "FAIL")
    color = RED if failed else GREEN if judged and passed == len(judged) else AMBER
    by_verdict = Counter(f.verdict for f in client)
    client_text = ", ".join(f"{by_verdict[v]} {v}" for v in ("FAIL", "WARN", "INFO") if by_verdict[v])
    unexercised = len(musts) - len(judged)
    detail = f"; the server's verdicts on its answers to real traffic ({unexercised} MUST clauses never exercised)"
    if client:
        listed = ", ".join(f"{f.clause} {f.verdict} ({f.violations})" for f in client)
        detail += f"; client findings, not the server's to fix: {listed}"
    return Badge(
        TRAFFIC_LABEL,
        f"{passed}/{len(judged)} MUST",
        color,
        passed,
        len(judged),
        failed,
        client=f"client: {client_text}" if client_text else "",
        detail=detail,
    )


def _width(text: str) -> int:
    return int(len(text) * CHAR_WIDTH + 2 * PADDING)


def render_svg(badge: Badge) -> str:
    left, right = _width(badge.label), _width(badge.message)
    third = _width(badge.client) if badge.client else 0
    total = left + right + third
    title = escape(
        f"{badge.label}: {badge.message}" + (f", {badge.failed} failing" if badge.failed else "") + badge.detail
    )
    label, message = escape(badge.label), escape(badge.message)
    client_rect = client_text = ""
    if badge.client:
        client_rect = f'<rect class="client" x="{left + right}" width="{third}" height="20" fill="{CLIENT_COLOR}"/>'
        client_text = f'<text class="client" x="{left + right + third / 2:g}" y="14">{escape(badge.client)}</text>'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{total}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="{GREY}"/>'
        f'<rect class="message" x="{left}" width="{right}" height="20" fill="{badge.color}"/>{client_rect}'
        f'<rect width="{total}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text class="label" x="{left / 2:g}" y="14">{label}</text>'
        f'<text class="message" x="{left + right / 2:g}" y="14">{message}</text>{client_text}</g></svg>\n'
    )


@click.command(cls=OneLineErrors)
@click.argument("report", type=click.Path(dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help="The SVG file.")
def badge_command(report: Path, output: Path) -> None:
    """Write an SVG badge from a JSON report: "conformance | 32/32 MUST", green, or red when a MUST fails.

    A report of real traffic (proxy, judge) gives "traffic | N/N MUST", the server's verdicts only,
    and the client's findings apart ("client: 1 FAIL").
    """
    from billing_kit.conformance.report_reader import ReportError, load_report

    try:
        badge = badge_of(load_report(report))
    except ReportError as exc:
        raise CliError(str(exc)) from None
    try:
        output.write_text(render_svg(badge), encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror}") from None
    click.echo(f"{output}: {badge.label} | {badge.message}" + (f" | {badge.client}" if badge.client else ""))
