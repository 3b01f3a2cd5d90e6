"""`billing-kit compare OLD.json NEW.json`: what changed between two runs, clause by clause.

Findings are matched by the baseline's fingerprint (clause, check, case and the
message without run-specific values), so the same defect found with another seed
is `persistent`, not `fixed` plus `new`. Reports keep a few violations per
clause; what was left out of a report cannot be compared.

    --format text      for a terminal
    --format markdown  short enough for a pull-request comment
    --format json      for a script
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from billing_kit.conformance.baseline import Entry, evidence_entry
from billing_kit.conformance.errors import CliError, OneLineErrors
from billing_kit.conformance.report_reader import ReportError, evidence_of, load_report

MARKDOWN_ITEMS = 15  # findings listed per section in Markdown before "… and N more"
WORSE = {"PASS": 0, "INFO": 0, "SKIP": 1, "WARN": 2, "FAIL": 3}


def violations(report: dict[str, Any]) -> dict[str, Entry]:
    out: dict[str, Entry] = {}
    for verdict in report["verdicts"]:
        for item in evidence_of(verdict):
            if item.get("kind", "violation") == "violation":
                entry = evidence_entry(str(verdict["clause"]), item, str(verdict.get("level", "")))
                out.setdefault(entry.fingerprint, entry)
    return out


def spec_sha(report: dict[str, Any]) -> str:
    spec = report.get("spec")
    return str(spec.get("sha256", "")) if isinstance(spec, dict) else ""


@dataclass
class ClauseChange:
    clause: str
    level: str
    before: str
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after

    @property
    def direction(self) -> str:
        if not self.changed:
            return "same"
        if self.before == "absent" or self.after == "absent":
            return "changed"
        return "worse" if WORSE.get(self.after, 0) > WORSE.get(self.before, 0) else "better"


@dataclass
class Comparison:
    old_name: str
    new_name: str
    clauses: list[ClauseChange]
    new: list[Entry]
    fixed: list[Entry]
    persistent: list[Entry]
    warnings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        def items(entries: list[Entry]) -> list[dict[str, str]]:
            return [{"clause": e.clause, "fingerprint": e.fingerprint, "summary": e.summary} for e in entries]

        return {
            "old": self.old_name,
            "new": self.new_name,
            "warnings": self.warnings,
            "clauses": [
                {"clause": c.clause, "level": c.level, "before": c.before, "after": c.after, "change": c.direction}
                for c in self.clauses
            ],
            "findings": {"new": items(self.new), "fixed": items(self.fixed), "persistent": items(self.persistent)},
        }


def compare(old: dict[str, Any], new: dict[str, Any], old_name: str = "old", new_name: str = "new") -> Comparison:
    warnings = []
    if spec_sha(old) and spec_sha(new) and spec_sha(old) != spec_sha(new):
        warnings.append(
            f"the reports were made against different specs (sha256 {spec_sha(old)[:12]} and {spec_sha(new)[:12]}): "
            "a clause's verdict may have changed because the contract did"
        )
    before = {str(v["clause"]): v for v in old["verdicts"]}
    after = {str(v["clause"]): v for v in new["verdicts"]}
    order = [*after, *(c for c in before if c not in after)]
    changes = [
        ClauseChange(
            clause,
            str((after.get(clause) or before.get(clause) or {}).get("level", "")),
            str(before[clause].get("verdict", "?")) if clause in before else "absent",
            str(after[clause].get("verdict", "?")) if clause in after else "absent",
        )
        for clause in order
    ]
    was, now = violations(old), violations(new)
    return Comparison(
        old_name,
        new_name,
        changes,
        new=sorted(e for fp, e in now.items() if fp not in was),
        fixed=sorted(e for fp, e in was.items() if fp not in now),
        persistent=sorted(e for fp, e in now.items() if fp in was),
        warnings=warnings,
    )


# -- rendering -----------------------------------------------------------------
def render_text(c: Comparison) -> str:
    lines = [f"Comparing {c.old_name} -> {c.new_name}"]
    lines += [f"Warning: {w}" for w in c.warnings]
    lines.append("Clauses (before -> after):")
    for change in c.clauses:
        mark = {"worse": "  WORSE", "better": "  better", "changed": "  changed"}.get(change.direction, "")
        lines.append(f"  {change.clause:13} {change.level:6} {change.before:6} -> {change.after:6}{mark}".rstrip())
    for title, entries in (("New", c.new), ("Fixed", c.fixed), ("Persistent", c.persistent)):
        lines.append(f"{title} findings: {len(entries)}")
        lines += [f"  {e.clause:13} {e.fingerprint}  {e.summary}" for e in entries]
    return "\n".join(lines) + "\n"


def _md(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _md_items(entries: list[Entry]) -> list[str]:
    lines = [f"- `{e.clause}` {_md(e.summary)}" for e in entries[:MARKDOWN_ITEMS]]
    if len(entries) > MARKDOWN_ITEMS:
        lines.append(f"- … and {len(entries) - MARKDOWN_ITEMS} more")
    return lines


def render_markdown(c: Comparison) -> str:
    changed = [x for x in c.clauses if x.changed]
    lines = [
        f"### Conformance: {len(c.new)} new, {len(c.fixed)} fixed, {len(c.persistent)} persistent",
        "",
        f"Comparing `{_md(c.old_name)}` with `{_md(c.new_name)}`.",
    ]
    lines += ["", *[f"> **Warning:** {_md(w)}" for w in c.warnings]] if c.warnings else []
    lines.append("")
    if changed:
        lines += ["| Clause | Level | Before | After |", "|---|---|---|---|"]
        lines += [f"| `{x.clause}` | {x.level} | {x.before} | **{x.after}** |" for x in changed]
    else:
        lines.append("No clause changed its verdict.")
    for title, entries in (("New findings", c.new), ("Fixed findings", c.fixed)):
        if entries:
            lines += ["", f"**{title}**", "", *_md_items(entries)]
    if c.persistent:
        lines += ["", f"<details><summary>{len(c.persistent)} persistent findings</summary>", ""]
        lines += [*_md_items(c.persistent), "", "</details>"]
    return "\n".join(lines) + "\n"


def render(c: Comparison, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(c.as_json(), indent=2, ensure_ascii=False) + "\n"
    return render_markdown(c) if fmt == "markdown" else render_text(c)


@click.command(cls=OneLineErrors)
@click.argument("old", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("new", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), default="text", show_default=True)
@click.option(
    "--fail-on",
    type=click.Choice(["regression"]),
    help="regression: exit 1 when a clause got worse (PASS -> FAIL, WARN -> FAIL, …) or a new finding appeared.",
)
def compare_command(old: Path, new: Path, fmt: str, fail_on: str | None) -> None:
    """Compare two JSON reports: each clause's verdict before and after; findings new, fixed, persistent.

    Exit 0 (a comparison is information, not a verdict), or with --fail-on regression 1 when a clause
    got worse or a finding is new; 2 when a report cannot be read.
    """
    try:
        comparison = compare(load_report(old), load_report(new), str(old), str(new))
    except ReportError as exc:
        raise CliError(str(exc)) from None
    for warning in comparison.warnings if fmt == "json" else ():
        click.echo(f"Warning: {warning}", err=True)
    click.echo(render(comparison, fmt), nl=False)
    if fail_on == "regression":
        worse = regressions(comparison)
        if worse:
            click.echo(f"Regression: {worse}", err=True)
            raise SystemExit(1)


def regressions(c: Comparison) -> str:
    """What got worse, in one line ("" when nothing did): the clauses, then the count of new findings."""
    parts = [f"{x.clause} {x.before} -> {x.after}" for x in c.clauses if x.direction == "worse"]
    if c.new:
        parts.append(f"{len(c.new)} new finding{'s' if len(c.new) != 1 else ''}")
    return "; ".join(parts)
