"""Lay the reference out with the Jinja2 templates beside this module, and write the files."""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

import jinja2
from markupsafe import Markup, escape

from billing_kit.conformance.contract import Contract
from billing_kit.docs.changes import Changes
from billing_kit.docs.highlight import curl_html, json_html
from billing_kit.docs.model import Reference, build_reference
from billing_kit.docs.statement import Statement

TEMPLATES = Path(__file__).resolve().parent / "templates"
HTML_NAME = "index.html"
MARKDOWN_NAME = "reference.md"

_CODE_SPAN = re.compile(r"``(.+?)``|`([^`]+)`")


def code_spans(text: str) -> Markup:
    """Escape `text`, turning Markdown code spans into <code> (the spec and the clauses use them)."""
    out: list[str] = []
    pos = 0
    for match in _CODE_SPAN.finditer(text):
        out.append(str(escape(text[pos : match.start()])))
        out.append(f"<code>{escape(match.group(1) or match.group(2))}</code>")
        pos = match.end()
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def md_cell(text: object) -> str:
    """One Markdown table cell: no line breaks, pipes escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=lambda name: name is not None and ".html" in name,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(code_spans=code_spans, md_cell=md_cell, json_html=json_html, curl_html=curl_html)
    return env


def render_html(reference: Reference, statement: Statement | None = None, changes: Changes | None = None) -> str:
    template = _environment().get_template("reference.html.j2")
    return template.render(ref=reference, statement=statement, changes=changes)


def render_markdown(reference: Reference, statement: Statement | None = None, changes: Changes | None = None) -> str:
    template = _environment().get_template("reference.md.j2")
    text = template.render(ref=reference, statement=statement, changes=changes)
    # Optional template blocks leave runs of blank lines; Markdown needs at most one.
    return re.sub(r"\n{3,}", "\n\n", text)


def write_docs(
    contract: Contract, out: Path, statement: Statement | None = None, changes: Changes | None = None
) -> list[Path]:
    """Write `index.html` and `reference.md` into `out` (created if missing); return their paths.

    With a statement (`docs --report`), the pages carry the implementation's verdicts; with
    changes (`docs --changes-from`), a "Changes" section before the clauses.
    """
    reference = build_reference(contract)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    pages = (
        (HTML_NAME, render_html(reference, statement, changes)),
        (MARKDOWN_NAME, render_markdown(reference, statement, changes)),
    )
    for name, text in pages:
        path = out / name
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return written
