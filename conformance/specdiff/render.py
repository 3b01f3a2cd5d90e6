"""A diff printed three ways: text for a terminal, Markdown for a pull-request comment, JSON for a script."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from billing_kit.conformance.specdiff.model import Change

MARKDOWN_ROWS = 20  # changes listed in Markdown before "… and N more"
ORDER = {"clients and implementations": 0, "clients": 1, "implementations": 2, "unclassified": 3, "neither": 4}
WHOM = ("clients", "implementations", "unclassified", "neither")


def ordered(changes: list[Change]) -> list[Change]:
    """What breaks someone first, then what cannot be vouched for, then what breaks no one."""
    return sorted(changes, key=lambda c: ORDER.get(c.whom, 3))


def counts(changes: list[Change]) -> dict[str, int]:
    """How many changes break clients, implementations (a change may break both), neither, or are unclassified."""
    tally: Counter[str] = Counter()
    for change in changes:
        if not change.classified:
            tally["unclassified"] += 1
        elif not change.breaks:
            tally["neither"] += 1
        for party in change.breaks:
            tally[party.value] += 1
    return {name: tally[name] for name in WHOM}


def headline(changes: list[Change]) -> str:
    if not changes:
        return "No changes between the two contracts."
    tally = counts(changes)
    parts = [f"{tally[name]} {'break ' + name if name in ('clients', 'implementations') else name}" for name in WHOM]
    return f"{len(changes)} change{'s' if len(changes) != 1 else ''}: " + ", ".join(parts) + "."


def text(changes: list[Change], old_name: str, new_name: str) -> str:
    lines = [f"Contract changes from {old_name} to {new_name}", headline(changes)]
    for change in ordered(changes):
        clause = ", ".join(change.clauses) or "-"
        lines.append(f"  {change.whom.upper():<27} {clause:<20} {change.summary}")
        lines.append(f"  {'':<27} {'':<20} {change.pointer}")
    return "\n".join(lines) + "\n"


def _cell(value: str) -> str:
    return " ".join(value.split()).replace("|", "\\|")


def markdown(changes: list[Change], old_name: str, new_name: str, heading: str = "###") -> str:
    lines = [f"{heading} Contract changes", "", f"`{old_name}` → `{new_name}`: {headline(changes)}"]
    if changes:
        lines += ["", "| Breaks | Clause | Change | Where |", "|---|---|---|---|"]
        shown = ordered(changes)[:MARKDOWN_ROWS]
        for change in shown:
            whom = f"**{change.whom}**" if change.breaking else change.whom
            pointer = f"`{_cell(change.pointer)}`"
            lines.append(f"| {whom} | {', '.join(change.clauses)} | {_cell(change.summary)} | {pointer} |")
        if len(changes) > len(shown):
            lines += ["", f"… and {len(changes) - len(shown)} more (`billing-kit diff` lists them all)."]
    return "\n".join(lines) + "\n"


def as_json(changes: list[Change], old_name: str, new_name: str) -> str:
    document: dict[str, Any] = {
        "old": old_name,
        "new": new_name,
        "counts": counts(changes),
        "breaking": any(change.breaking for change in changes),
        "changes": [change.as_json() for change in changes],
    }
    return json.dumps(document, indent=2, default=str) + "\n"


FORMATS = {"text": text, "markdown": markdown, "json": as_json}


def rules_table() -> str:
    """The rules as a Markdown table, for docs/guide/contract-changes.md (a test keeps the page equal to it)."""
    from billing_kit.conformance.specdiff.rules import RULES

    lines = ["| Rule | Part of the contract | What it decides |", "|---|---|---|"]
    for registered in RULES:
        part = "anywhere" if registered.role == "*" else registered.role
        lines.append(f"| `{registered.name}` | {part} | {_cell(registered.doc)} |")
    return "\n".join(lines) + "\n"
