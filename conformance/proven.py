"""The defect classes the suite is proven to catch, and which of them a run's checks could catch.

`proven.json` ships with the kit: every defect planted in a zoo server (the
project's tests/servers/), with the clause it breaks and the checks whose
violations caught it when the suite ran on that clause (written by the zoo's
measurement, `python -m tests.servers.zoo_runner --write`). Beside a PASS the
reports list the defects of that clause that at least one check which ran to
its end on the clause has caught: a run narrowed by `--only` or `--case`, or cut
short, lists fewer. A PASS then says "a server with any of these defects would
not have passed", which is a statement about these defect classes only.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

PROVEN_FILE = Path(__file__).resolve().parent / "proven.json"


@dataclass(frozen=True)
class KnownDefect:
    name: str
    clause: str
    description: str
    checks: tuple[str, ...]


@functools.cache
def known_defects() -> tuple[KnownDefect, ...]:
    table = json.loads(PROVEN_FILE.read_text(encoding="utf-8"))
    return tuple(
        KnownDefect(row["name"], row["clause"], row["description"], tuple(row["checks"])) for row in table["defects"]
    )


def caught_by(clause: str, completed: Collection[tuple[str, str]]) -> list[KnownDefect]:
    """The known defects of `clause` that a check which completed on it is proven to catch."""
    return [
        defect
        for defect in known_defects()
        if defect.clause == clause and any((check, clause) in completed for check in defect.checks)
    ]
