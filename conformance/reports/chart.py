"""The rate each clause rules out against time, as an inline SVG (no script, no external asset).

A deep run records, per clause, its generated cases after each merged round with the
seconds into the run (`options.deep.series`). Each point becomes the smallest rate of
breaking inputs those cases rule out at 95 % (`assurance.rate_ruled_out`), drawn on a
log scale labelled `1 in N`: a line falls as cases pile up, and the clauses drawn high
at the end are the thinly tested ones. With `--until RATE` a dashed line marks the goal.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

from billing_kit.conformance.assurance import one_in, rate_ruled_out

WIDTH, PLOT_HEIGHT = 720, 300  # the plot grows taller when the clause names need it
LEFT, RIGHT, TOP, BOTTOM = 78, 140, 16, 40  # room for the axis labels and the clause names
LEADER = 22  # pixels of the thin line from a clause's last point to its name
LABEL_GAP = 14.0  # pixels between two clause names at the right edge (11 px text)
FONT = "11px system-ui, sans-serif"
COLOURS = (
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2",
    "#7f7f7f", "#bcbd22", "#393b79", "#ad494a", "#637939", "#7b4173", "#3182bd", "#e6550d",
)  # fmt: skip


def _ticks(low: float, high: float) -> list[float]:
    """Rates at whole decades between low and high (1 in 10, 1 in 100, ...)."""
    top = math.floor(math.log10(high))
    bottom = math.ceil(math.log10(low))
    return [10.0**k for k in range(top, bottom - 1, -1)]


def _seconds_ticks(start: float, end: float) -> list[float]:
    span = max(end - start, 1.0)
    step = next((s for s in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1800, 3600) if span / s <= 8), 7200)
    first = math.ceil(start / step)
    return [s * step for s in range(first, int(end // step) + 1)]


def _spread(wanted: list[tuple[float, str]], top: float, bottom: float) -> dict[str, float]:
    """Clause names at the right edge, each near its line's end, none closer than LABEL_GAP to the next."""
    placed: dict[str, float] = {}
    last = top - LABEL_GAP
    for y, name in sorted(wanted):
        y = max(y, last + LABEL_GAP)
        placed[name] = y
        last = y
    overflow = last - bottom
    if overflow > 0:  # pushed past the bottom: move them all up (the gap kept where it can be)
        placed = {name: max(top, y - overflow) for name, y in placed.items()}
    return placed


def render(
    series: Mapping[str, Sequence[Sequence[float]]],
    goal: float | None = None,
    title: str = "Rate ruled out at 95 % against time",
) -> str:
    """`series`: clause -> [[seconds, cases], ...]; `goal`: --until's rate. An empty string for no points."""
    lines = {c: [(float(t), rate_ruled_out(int(n))) for t, n in points if n > 0] for c, points in series.items()}
    lines = {c: [(t, r) for t, r in points if r is not None] for c, points in lines.items()}
    lines = {c: points for c, points in sorted(lines.items()) if points}
    if not lines:
        return ""
    rates = [r for points in lines.values() for _, r in points if r is not None] + ([goal] if goal else [])
    high = min(0.5, max(rates))
    low = min(rates)
    top_decade, bottom_decade = math.ceil(math.log10(high)), math.floor(math.log10(low))
    if top_decade == bottom_decade:
        bottom_decade -= 1
    # The time axis starts at the first merged round (the rounds' first counts come a round in, not at 0 s).
    start = min(t for points in lines.values() for t, _ in points)
    end = max(t for points in lines.values() for t, _ in points)
    start = start if end > start else max(0.0, end - 1.0)
    end = end if end > start else start + 1.0
    plot_w, plot_h = WIDTH - LEFT - RIGHT, max(PLOT_HEIGHT, LABEL_GAP * len(lines) + 8)
    height = TOP + plot_h + BOTTOM

    def x(seconds: float) -> float:
        return LEFT + plot_w * (seconds - start) / (end - start)

    def y(rate: float) -> float:
        span = top_decade - bottom_decade
        return TOP + plot_h * (top_decade - math.log10(max(rate, 10.0**bottom_decade))) / span

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" viewBox="0 0 {WIDTH} {height:g}" '
        f'width="{WIDTH}" height="{height:g}" style="max-width:100%;height:auto;font:{FONT}">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#c9d0da"/>',
    ]
    for rate in _ticks(10.0**bottom_decade, 10.0**top_decade):
        ty = y(rate)
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{ty:.1f}" y2="{ty:.1f}" stroke="#e3e7ee"/>'
        )
        out.append(
            f'<text class="y-label" x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end" fill="#5b6472">'
            f"{escape(one_in(rate))}</text>"
        )
    for seconds in _seconds_ticks(start, end):
        tx = x(seconds)
        out.append(
            f'<text class="x-label" x="{tx:.1f}" y="{TOP + plot_h + 15}" text-anchor="middle" fill="#5b6472">'
            f"{seconds:g} s</text>"
        )
    out.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{height - 6:g}" text-anchor="middle" fill="#5b6472">'
        "seconds into the run</text>"
    )
    if goal:
        gy = y(goal)
        out.append(
            f'<line class="goal" x1="{LEFT}" x2="{LEFT + plot_w}" y1="{gy:.1f}" y2="{gy:.1f}" '
            'stroke="#a11818" stroke-dasharray="5 4"/>'
        )
        out.append(f'<text x="{LEFT + 4}" y="{gy - 4:.1f}" fill="#a11818">goal: {escape(one_in(goal))}</text>')
    ends = []
    for index, (clause, points) in enumerate(lines.items()):
        colour = COLOURS[index % len(COLOURS)]
        path = " ".join(f"{x(t):.1f},{y(r):.1f}" for t, r in points if r is not None)
        last_t, last_r = points[-1]
        assert last_r is not None
        tip = f"{clause}: {one_in(last_r)} at {last_t:g} s"
        out.append(
            f'<polyline class="clause-line" data-clause="{escape(clause)}" points="{path}" fill="none" '
            f'stroke="{colour}" stroke-width="1.6"><title>{escape(tip)}</title></polyline>'
        )
        out.append(f'<circle cx="{x(last_t):.1f}" cy="{y(last_r):.1f}" r="2.5" fill="{colour}"/>')  # a lone point shows
        ends.append((y(last_r), clause, colour))
    placed = _spread([(ey, c) for ey, c, _ in ends], TOP + 4, TOP + plot_h)
    edge = LEFT + plot_w
    for end_y, clause, colour in ends:
        out.append(
            f'<line class="leader" x1="{edge}" y1="{end_y:.1f}" x2="{edge + LEADER}" y2="{placed[clause]:.1f}" '
            f'stroke="{colour}" stroke-width="0.8"/>'
        )
        out.append(
            f'<text class="clause-label" x="{edge + LEADER + 3}" y="{placed[clause] + 4:.1f}" fill="{colour}">'
            f"{escape(clause)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)
