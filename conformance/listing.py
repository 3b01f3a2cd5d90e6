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


# The page that holds the generated clause table (a path from the repository root).
CLAUSE_TABLE_PAGE = "docs/guide/checking-a-server.md"
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


def _main(argv: list[str]) -> int:
    """`python -m billing_kit.conformance.listing [PAGE]`: refresh the guide's clause table."""
    import click

    from billing_kit.conformance.errors import CliError, OneLineErrors

    @click.command(cls=OneLineErrors)
    @click.argument("page", type=click.Path(dir_okay=False, path_type=Path), default=CLAUSE_TABLE_PAGE)
    def main(page: Path) -> None:
        """Replace the clause table between the clauses:start/end markers of PAGE with the registry's."""
        try:
            changed = update_readme(page)
        except OSError as exc:
            raise CliError(f"cannot update {page}: {exc.strerror or exc}") from None
        click.echo("Clause table updated" if changed else "Clause table already current")

    main.main(argv, prog_name="python -m billing_kit.conformance.listing", standalone_mode=True)
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(_main(sys.argv[1:]))
