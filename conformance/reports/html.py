"""`--html`: one self-contained page (inline CSS, no scripts, no external assets)."""

from __future__ import annotations

from pathlib import Path

import jinja2

from billing_kit.conformance.model import RunResult
from billing_kit.conformance.reports import build_document

TEMPLATE = Path(__file__).resolve().parent / "report.html.j2"


def render(result: RunResult) -> str:
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    template = env.from_string(TEMPLATE.read_text(encoding="utf-8"))
    return template.render(doc=build_document(result))


def write(result: RunResult, path: Path) -> None:
    path.write_text(render(result), encoding="utf-8")
