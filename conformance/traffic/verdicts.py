"""Findings of real traffic folded per clause into a RunResult the suite's reports write.

Per clause: PASS with the number of exchanges that exercised it, FAIL/WARN (by
the clause's level) with a few exchanges as evidence and a count, SKIP when the
traffic never exercised it (most clauses, for a quiet client). Each finding is
blamed on the client or the server (`Finding.check`); the per-party verdicts go
in the report's `options.parties`, so a team sees what its SDK does wrong apart
from what its server does wrong. Evidence is bounded: a few findings per clause
and party, counts for the rest, so memory stays flat over any amount of traffic.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from billing_kit.conformance import clauses
from billing_kit.conformance.clauses import Level
from billing_kit.conformance.contract import Contract
from billing_kit.conformance.model import ClauseVerdict, Coverage, Finding, RunResult, Verdict
from billing_kit.conformance.traffic import masked
from billing_kit.conformance.traffic.judge import CLIENT, SERVER, Judged

EVIDENCE_KEPT = 5  # findings kept per clause and party
NOTES_KEPT = 5
PARTIES = (CLIENT, SERVER)
_LEVEL_VERDICT = {Level.MUST: Verdict.FAIL, Level.SHOULD: Verdict.WARN, Level.MAY: Verdict.INFO}


# Real traffic is judged as it was seen: the proxy and `judge` never send a request of their own.
UNCONFIRMED = "real traffic is judged as seen; nothing is sent again"


@dataclass
class Tally:
    """What the traffic showed so far, per clause and party."""

    contract: Contract
    origin: str
    strict: bool = False
    mode: str = "proxy"
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    started: float = field(default_factory=time.monotonic)
    exchanges: int = 0
    exercised: Counter[str] = field(default_factory=Counter)
    counts: Counter[tuple[str, str]] = field(default_factory=Counter)  # (clause, party) -> violations
    kept: dict[tuple[str, str], list[Finding]] = field(default_factory=dict)
    skipped: Counter[str] = field(default_factory=Counter)
    dropped: int = 0  # exchanges the judge could not keep up with
    masked: Counter[str] = field(default_factory=Counter)  # header a recorder masked -> exchanges
    masked_clauses: Counter[str] = field(default_factory=Counter)  # clause -> exchanges it could not be judged on

    def add(self, judged: Judged, *, held: bool = False) -> None:
        """`held`: a judgment made earlier and released now (its exchange was counted then)."""
        self.exchanges += 0 if held else 1
        self.exercised.update(judged.clauses)
        for finding in judged.findings:
            party = finding.check if finding.check in PARTIES else SERVER
            slot = (finding.clause, party)
            if finding.kind == "violation":
                self.counts[slot] += 1
                finding.unconfirmed = finding.unconfirmed or UNCONFIRMED
            kept = self.kept.setdefault(slot, [])
            limit = EVIDENCE_KEPT if finding.kind == "violation" else NOTES_KEPT
            if sum(1 for f in kept if f.kind == finding.kind) < limit:
                kept.append(finding)

    def party_verdict(self, clause: clauses.Clause, party: str) -> Verdict | None:
        if self.counts[(clause.id, party)]:
            return _LEVEL_VERDICT[clause.level]
        return None

    def verdicts(self) -> list[ClauseVerdict]:
        out = []
        for clause in clauses.for_contract(self.contract):
            # Every report format prints the message: it names who must fix the finding.
            findings = [
                replace(f, message=f"[{party}] {f.message}")
                for party in PARTIES
                for f in self.kept.get((clause.id, party), [])
            ]
            failing = [self.party_verdict(clause, p) for p in PARTIES]
            counts = {p: self.counts[(clause.id, p)] for p in PARTIES}
            judged = self.exercised[clause.id]
            if any(failing):
                verdict = _LEVEL_VERDICT[clause.level]
                note = f"{judged} exchanges judged; violations: client {counts[CLIENT]}, server {counts[SERVER]}"
            elif judged:
                verdict = Verdict.INFO if clause.level is Level.MAY else Verdict.PASS
                note = f"{judged} exchanges judged"
            elif self.masked_clauses[clause.id]:
                verdict = Verdict.SKIP
                note = masked.skip_note(self.masked)
            else:
                verdict = Verdict.SKIP
                note = "the traffic never exercised this clause"
            if judged and self.masked_clauses[clause.id]:
                note += f"; {self.masked_clauses[clause.id]} more not judged (masked by the recorder)"
            coverage = Coverage(sent=judged, answered=judged, judged=judged, note=note)
            out.append(
                ClauseVerdict(
                    clause.id, clause.level.value, clause.title, verdict, findings, [CLIENT, SERVER], note,
                    clause.requirement, coverage,
                )
            )  # fmt: skip
        return out

    def parties(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for party in PARTIES:
            rows = {}
            for clause in clauses.for_contract(self.contract):
                verdict = self.party_verdict(clause, party)
                if verdict is not None:
                    rows[clause.id] = {"verdict": verdict.value, "violations": self.counts[(clause.id, party)]}
            out[party] = rows
        return out

    def result(self, spec_sha256: str, spec_origin: str) -> RunResult:
        verdicts = self.verdicts()
        options: dict[str, Any] = {
            "mode": self.mode,
            "exchanges": self.exchanges,
            "not_judged": dict(self.skipped),
            "dropped_by_judge": self.dropped,
            "parties": self.parties(),
        }
        if self.masked:
            options["masked"] = dict(self.masked)
            options["masked_note"] = masked.headline(set(self.masked))
        return RunResult(
            verdicts=verdicts,
            seed=0,
            nonce="",
            base_url=self.origin,
            spec_sha256=spec_sha256,
            spec_origin=spec_origin,
            started_at=self.started_at,
            duration=time.monotonic() - self.started,
            requests_sent=self.exchanges,
            created=[],
            strict=self.strict,
            options=options,
        )


def live_line(finding: Finding) -> str:
    """One line per finding as it happens: who, which clause, what."""
    level = clauses.get(finding.clause).level
    verdict = _LEVEL_VERDICT[level].value if finding.kind == "violation" else "NOTE"
    exchange = finding.exchange
    where = ""
    if exchange is not None:
        answer = f"HTTP {exchange.response.status}" if exchange.response else (exchange.error or "no answer")
        path = exchange.request.url.split("://", 1)[-1]
        path = path[path.find("/") :] if "/" in path else path
        where = f" [{exchange.request.method} {path} -> {answer}]"
    return f"{finding.check:6} {verdict:4} {finding.clause:13} {finding.message}{where}"
