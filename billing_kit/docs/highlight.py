"""Syntax colouring for the page's code panels, done at build time so the page needs no JavaScript.

Only spans are added: a panel's text content is exactly the code (tests copy it from the DOM).
"""

from __future__ import annotations

import re

from markupsafe import Markup, escape

_JSON_TOKEN = re.compile(
    r'(?P<key>"(?:\\.|[^"\\])*")(?=\s*:)'
    r'|(?P<str>"(?:\\.|[^"\\])*")'
    r"|(?P<num>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<lit>\b(?:true|false|null)\b)"
)
_CURL_TOKEN = re.compile(
    r"(?P<cmd>^curl\b)"
    r"|(?P<flag>(?<=\s)--?[A-Za-z][A-Za-z-]*)"
    r'|(?P<dq>"(?:\\.|[^"\\])*")'
    r"|(?P<sq>'[^']*')"
)
_SHELL_VAR = re.compile(r"\$[A-Za-z_][A-Za-z0-9_]*")


def _span(kind: str, text: str | Markup) -> str:
    return f'<span class="tok-{kind}">{escape(text) if not isinstance(text, Markup) else text}</span>'


def json_html(text: str) -> Markup:
    out: list[str] = []
    pos = 0
    for match in _JSON_TOKEN.finditer(text):
        out.append(str(escape(text[pos : match.start()])))
        kind = match.lastgroup or "str"
        out.append(_span(kind, match.group(0)))
        pos = match.end()
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))


def _with_vars(text: str) -> Markup:
    parts: list[str] = []
    pos = 0
    for match in _SHELL_VAR.finditer(text):
        parts.append(str(escape(text[pos : match.start()])))
        parts.append(_span("var", match.group(0)))
        pos = match.end()
    parts.append(str(escape(text[pos:])))
    return Markup("".join(parts))


def curl_html(text: str) -> Markup:
    out: list[str] = []
    pos = 0
    for match in _CURL_TOKEN.finditer(text):
        out.append(str(escape(text[pos : match.start()])))
        kind = match.lastgroup or "str"
        token = match.group(0)
        if kind == "dq":
            out.append(_span("str", _with_vars(token)))
        elif kind == "sq":
            out.append(_span("punct", "'") + str(json_html(token[1:-1])) + _span("punct", "'"))
        else:
            out.append(_span(kind, token))
        pos = match.end()
    out.append(str(escape(text[pos:])))
    return Markup("".join(out))
