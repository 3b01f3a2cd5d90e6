"""`--html`: one self-contained page (inline CSS, no scripts, no external assets).

Read top down: the summary and a linked list of the FAILs and WARNs, then each
FAIL, each WARN and each SKIP with its evidence; INFO, PASS and the customers
the run created are folded (`<details>`). Requirement texts render their
Markdown (markdown.py); a list cut short says how much of it is shown. A deep
run's page draws the rate each clause rules out against time (chart.py), with
--until's goal and which clauses reached it when.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from billing_kit.conformance.model import RunResult
from billing_kit.conformance.reports import FINDINGS_KEPT, build_document, chart, markdown

TEMPLATE = Path(__file__).resolve().parent / "report.html.j2"
GROUPS = ("FAIL", "WARN", "SKIP", "INFO", "PASS")
FOLDED = ("INFO", "PASS")
CASES_LISTED = 60


def _markdown(text: str) -> Markup:
    return Markup(markdown.render(text))


def _groups(doc: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for name in GROUPS:
        verdicts = [v for v in doc["verdicts"] if v["verdict"] == name]
        if verdicts:
            out.append({"name": name, "verdicts": verdicts, "folded": name in FOLDED})
    return out


def _chart(doc: dict[str, Any]) -> Markup | None:
    """The deep run's series as an SVG (None for a run without deep rounds)."""
    deep = doc.get("options", {}).get("deep", {})
    until = deep.get("until") or {}
    svg = chart.render(deep.get("series") or {}, until.get("rate"))
    return Markup(svg) if svg else None  # chart.render escapes every text it writes


def render(result: RunResult, json_path: Path | None = None) -> str:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["markdown"] = _markdown
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    doc = build_document(result)
    return template.render(
        doc=doc,
        groups=_groups(doc),
        kept=FINDINGS_KEPT,
        cases_listed=CASES_LISTED,
        json_path=str(json_path) if json_path else None,
        chart=_chart(doc),
        until=doc.get("options", {}).get("deep", {}).get("until"),
    )


def write(result: RunResult, path: Path, json_path: Path | None = None) -> None:
    path.write_text(render(result, json_path), encoding="utf-8")
