"""`docs --changes-from OLD.yaml`: the reference's "Changes" section, from the same diff as `billing-kit diff`."""

from __future__ import annotations

from dataclasses import dataclass

from billing_kit.conformance.contract import Contract
from billing_kit.conformance.specdiff import diff_contracts
from billing_kit.conformance.specdiff.render import headline, ordered


@dataclass(frozen=True)
class ChangeRow:
    whom: str
    breaking: bool
    clauses: tuple[str, ...]
    summary: str
    pointer: str


@dataclass(frozen=True)
class Changes:
    old_origin: str
    old_sha256: str
    headline: str
    rows: tuple[ChangeRow, ...]


def changes_from(old: Contract, new: Contract) -> Changes:
    """Every change from `old` to the spec being documented, what breaks someone first."""
    changes = diff_contracts(old, new)
    rows = tuple(ChangeRow(c.whom, c.breaking, c.clauses, c.summary, c.pointer) for c in ordered(changes))
    return Changes(old.origin, old.sha256, headline(changes), rows)
