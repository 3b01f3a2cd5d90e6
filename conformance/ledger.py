"""The evidence ledger: per (check, clause), how many probes were planned, sent, answered, judged.

By default every exchange a check sends counts for every clause the check names
(sent; answered when it got an HTTP answer of any status; judged when that answer
is usable, i.e. not a 5xx, or when the check judged the 5xx itself: see
`rules.exercised`). A check that knows better records its probes
itself (`probe`: one request for one clause; `evidence`: answers of the whole
run it judged): from its first such call, only those count for it.

`runner.fold` turns the ledger into each verdict's `Coverage`: a PASS needs, for
every check of the clause, judged answers at least its minimum (by default,
every probe it sent).
"""

from __future__ import annotations

import dataclasses
import threading
from dataclasses import dataclass, field

from billing_kit.conformance.model import Coverage, Exchange
from billing_kit.conformance.rules import exercised

# A request the HTTP library could not even put on the wire is no probe at all.
UNSENDABLE = "not sent: the HTTP client"
CASES_KEPT = 50


def unsendable(exchange: Exchange) -> bool:
    return exchange.response is None and (exchange.error or "").startswith(UNSENDABLE)


def was_sent(exchange: Exchange) -> bool:
    return exchange.response is not None or not (exchange.error or "").startswith("not sent")


@dataclass
class Entry:
    planned: int = 0
    sent: int = 0
    answered: int = 0
    judged: int = 0
    required: int | None = None  # None: every planned probe
    cases: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add_case(self, case: str) -> None:
        if case and case not in self.cases and len(self.cases) < CASES_KEPT:
            self.cases.append(case)

    def count(self, exchange: Exchange | None, judged: bool | None, case: str) -> None:
        self.planned += 1
        if exchange is None:
            return
        self.sent += was_sent(exchange)
        self.answered += exercised.answered(exchange)
        if judged if judged is not None else exercised.usable(exchange):
            self.judged += 1
            self.add_case(case)


class Ledger:
    def __init__(self) -> None:
        self._auto: dict[tuple[str, str], Entry] = {}
        self._explicit: dict[tuple[str, str], Entry] = {}
        self._explicit_checks: set[str] = set()
        self._judged_5xx: set[tuple[str, str, int]] = set()
        self._lock = threading.Lock()

    def auto(self, check: str, clauses: tuple[str, ...], exchange: Exchange) -> None:
        """An exchange sent while `check` ran: counted for each of its clauses."""
        if unsendable(exchange):
            return
        with self._lock:
            for clause in clauses:
                self._auto.setdefault((check, clause), Entry()).count(exchange, None, check)

    def judged_5xx(self, check: str, clause: str, exchange: Exchange) -> None:
        """A 5xx counted (answered, not judged) for an auto-counted check, which judged it on `clause`."""
        if not exercised.server_error(exchange):
            return
        with self._lock:
            if check in self._explicit_checks or (check, clause, id(exchange)) in self._judged_5xx:
                return  # probes say themselves what they judged
            entry = self._auto.get((check, clause))
            if entry is None or entry.judged >= entry.answered:
                return
            self._judged_5xx.add((check, clause, id(exchange)))
            entry.judged += 1
            entry.add_case(check)

    def probe(
        self, check: str, clause: str, exchange: Exchange | None, *, case: str = "", judged: bool | None = None
    ) -> None:
        """One probe of `check` for `clause` (None: planned, not sent); judged defaults to answered."""
        if exchange is not None and unsendable(exchange):
            return
        with self._lock:
            self._explicit_checks.add(check)
            self._explicit.setdefault((check, clause), Entry()).count(exchange, judged, case or check)

    def evidence(self, check: str, clause: str, judged: int, *, required: int | None = None, case: str = "") -> None:
        """`judged` answers of the run (sent by other checks) judged by `check` for `clause`."""
        with self._lock:
            self._explicit_checks.add(check)
            entry = self._explicit.setdefault((check, clause), Entry())
            entry.planned += judged
            entry.sent += judged
            entry.answered += judged
            entry.judged += judged
            if required is not None:
                entry.required = required
            if judged:
                entry.add_case(case or check)

    def note(self, check: str, clause: str, note: str) -> None:
        with self._lock:
            target = self._explicit if check in self._explicit_checks else self._auto
            target.setdefault((check, clause), Entry()).notes.append(note)

    def get(self, check: str, clause: str) -> Entry:
        with self._lock:
            if check in self._explicit_checks:
                entry = self._explicit.get((check, clause), Entry())
                auto = self._auto.get((check, clause))
                if auto is not None and auto.notes:  # a copy: reading the ledger never changes it
                    entry = dataclasses.replace(entry, notes=[*auto.notes, *entry.notes])
                return entry
            return self._auto.get((check, clause), Entry())


def coverage_of(entries: list[tuple[Entry, int]], note: str = "") -> Coverage:
    """The clause's coverage: the sums over its checks' entries (each with its required count)."""
    cases: list[str] = []
    for entry, _ in entries:
        cases += [c for c in entry.cases if c not in cases]
    notes = [n for entry, _ in entries for n in entry.notes]
    return Coverage(
        planned=sum(e.planned for e, _ in entries),
        sent=sum(e.sent for e, _ in entries),
        answered=sum(e.answered for e, _ in entries),
        judged=sum(e.judged for e, _ in entries),
        required=sum(required for _, required in entries),
        cases=cases[:CASES_KEPT],
        note="; ".join(filter(None, [note, *notes])),
    )
