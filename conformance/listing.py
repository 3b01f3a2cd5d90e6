"""`billing-kit check --list`: the clauses and their checks, printed from the registry."""

from __future__ import annotations

import json
from pathlib import Path

from billing_kit.conformance import clauses
from billing_kit.conformance.checks import checks_for


def rows() -> list[dict[str, object]]:
    return [
        {
            "clause": clause.id,
            "level": clause.level.value,
            "title": clause.title,
            "checks": [f"{spec.name}: {spec.summary}" for spec in checks_for(clause.id)],
        }
        for clause in clauses.CLAUSES
    ]


def render_listing(fmt: str) -> str:
    if fmt == "json":
        return json.dumps(rows(), indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        lines = ["| Clause | Level | Requirement | Checked by |", "|---|---|---|---|"]
        for row in rows():
            checks = "<br>".join(f"`{str(c).split(':')[0]}`" for c in row["checks"])  # type: ignore[attr-defined]
            lines.append(f"| {row['clause']} | {row['level']} | {row['title']} | {checks or '—'} |")
        return "\n".join(lines) + "\n"
    out = []
    for row in rows():
        out.append(f"{row['clause']:<14} {row['level']:<6}  {row['title']}")
        for c in row["checks"]:  # type: ignore[attr-defined]
            out.append(f"{'':<22}{c}")
    return "\n".join(out) + "\n"


README_START = "<!-- clauses:start -->\n"
README_END = "<!-- clauses:end -->"


def update_readme(path: Path) -> bool:
    """Replace the README's clause table with the registry's; True when it changed."""
    text = path.read_text(encoding="utf-8")
    head, _, rest = text.partition(README_START)
    _, _, tail = rest.partition(README_END)
    updated = head + README_START + render_listing("markdown") + README_END + tail
    if updated != text:
        path.write_text(updated, encoding="utf-8")
    return updated != text


if __name__ == "__main__":
    import sys

    changed = update_readme(Path(sys.argv[1] if len(sys.argv) > 1 else "README.md"))
    print("README table updated" if changed else "README table already current")
