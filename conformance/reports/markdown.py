"""A small, safe Markdown renderer for the requirement texts in the HTML report.

It knows what the clause texts use: code spans (any number of backticks),
**bold**, *emphasis*, [links](https://…) and `- ` lists, with paragraphs split on
blank lines. Everything outside a tag it writes is escaped first; a link whose
target is not http(s), a fragment or a relative path is left as text.
"""

from __future__ import annotations

import html
import re

CODE_SPAN = re.compile(r"(?<!`)(`+)(?!`)(.+?)(?<!`)\1(?!`)", re.DOTALL)
LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
BOLD = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*")
EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])")
SAFE_TARGET = re.compile(r"^(https?://|#|/|\.{0,2}/|[\w.-]+(?:[/#?]|$))", re.IGNORECASE)
LIST_ITEM = re.compile(r"^\s*[-*] +")


def _link(match: re.Match[str]) -> str:
    text, target = match.group(1), match.group(2)
    if ":" in target.split("/")[0] and not target.lower().startswith(("http://", "https://")):
        return match.group(0)
    if not SAFE_TARGET.match(target):
        return match.group(0)
    return f'<a href="{target}">{text}</a>'


def _text(raw: str) -> str:
    out = html.escape(raw, quote=True)
    out = LINK.sub(_link, out)
    out = BOLD.sub(r"<strong>\1</strong>", out)
    return EMPHASIS.sub(r"<em>\1</em>", out)


def inline(raw: str) -> str:
    """One run of text: code spans kept verbatim (escaped), the rest escaped then marked up."""
    parts: list[str] = []
    position = 0
    for match in CODE_SPAN.finditer(raw):
        parts.append(_text(raw[position : match.start()]))
        code = match.group(2).replace("\n", " ")
        if len(code) > 2 and code.startswith(" ") and code.endswith(" ") and code.strip():
            code = code[1:-1]
        parts.append(f"<code>{html.escape(code, quote=True)}</code>")
        position = match.end()
    parts.append(_text(raw[position:]))
    return "".join(parts)


def render(text: str) -> str:
    """HTML for `text`: paragraphs and lists of inline Markdown."""
    blocks: list[str] = []
    for block in re.split(r"\n\s*\n", text.strip()):
        lines = [line for line in block.splitlines() if line.strip()]
        if not lines:
            continue
        if all(LIST_ITEM.match(line) for line in lines):
            items = "".join(f"<li>{inline(LIST_ITEM.sub('', line, count=1))}</li>" for line in lines)
            blocks.append(f"<ul>{items}</ul>")
        else:
            blocks.append(f"<p>{inline(' '.join(line.strip() for line in lines))}</p>")
    return "\n".join(blocks)
