"""What a diff is made of: one `Change` per difference, and whom it breaks."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Party(StrEnum):
    CLIENTS = "clients"  # requests that were valid stop being accepted, or answers they rely on change
    IMPLEMENTATIONS = "implementations"  # servers that conformed stop conforming


class _Absent:
    """The value on the side of a change where the node does not exist."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Change:
    """One difference between two contracts, classified by the rule that recognised it."""

    pointer: str  # RFC 6901 JSON pointer into the spec (the node that differs)
    before: Any  # ABSENT when added
    after: Any  # ABSENT when removed
    rule: str  # the rule's name ("unclassified" when no rule knew the change)
    summary: str
    clause: str | None = None
    breaks: tuple[Party, ...] = ()
    classified: bool = True
    also: tuple[str, ...] = ()  # clauses the change touches through `clause` (ERR-1 follows every MUST of REQ/AUTH)

    @property
    def clauses(self) -> tuple[str, ...]:
        return ((self.clause,) if self.clause else ()) + self.also

    @property
    def breaking(self) -> bool:
        """Breaks someone, or cannot be vouched for (an unclassified change is never called safe)."""
        return bool(self.breaks) or not self.classified

    @property
    def whom(self) -> str:
        if not self.classified:
            return "unclassified"
        if not self.breaks:
            return "neither"
        return " and ".join(party.value for party in self.breaks)

    def as_json(self) -> dict[str, Any]:
        return {
            "pointer": self.pointer,
            "rule": self.rule,
            "summary": self.summary,
            "clause": self.clause,
            "clauses": list(self.clauses),
            "breaks": [party.value for party in self.breaks],
            "whom": self.whom,
            "before": None if self.before is ABSENT else self.before,
            "after": None if self.after is ABSENT else self.after,
            "added": self.before is ABSENT,
            "removed": self.after is ABSENT,
        }
