"""A statement of conformance: the reference with one implementation's verdicts beside it.

`billing-kit docs --report REPORT.json --name NAME` renders the same pages as
`billing-kit docs`, plus a header (implementation, spec sha256, tool version,
seed, date, counts) and a verdict beside every clause and every field (a
field's verdict is the worst of its clauses'). Only the report's `verdicts`
(clause, verdict), `spec.sha256`, `tool`, `seed` and `started_at` are read.

A report of real traffic (`proxy`, `judge`: one with `options.parties`) shows the
server's own verdicts beside the clauses (a clause only the client broke is the
server's PASS when its answers were judged on it), counts MUST clauses of those the
traffic exercised, and lists the client's findings in a section of their own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from billing_kit.conformance.report_reader import PartyFinding, client_findings, parties_of, server_verdicts

# Worst first: a field shows the worst verdict of its clauses.
SEVERITY = {"FAIL": 5, "WARN": 4, "SKIP": 3, "NOT RUN": 2, "INFO": 1, "PASS": 0}
NOT_RUN = "NOT RUN"


@dataclass(frozen=True)
class Traffic:
    """What a traffic report adds: how it was judged and what the client sent wrong."""

    mode: str  # "proxy" or "judge": the command that judged it
    exchanges: int
    client_findings: tuple[PartyFinding, ...]


@dataclass(frozen=True)
class RuledOut:
    """What one verdict rests on: generated cases and what they rule out, known defects its checks catch."""

    clause: str
    verdict: str
    generated: int  # 0: judged on listed cases only
    summary: str  # `rules out 1 in 16`, a FAIL's observed rate, or ""
    defects: tuple[str, ...]  # known defect classes (conformance/proven.json) the checks that ran catch


@dataclass(frozen=True)
class Statement:
    name: str
    spec_sha256: str
    tool_version: str
    seed: str
    date: str
    target: str
    verdicts: dict[str, str]
    counts: dict[str, int] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    traffic: Traffic | None = None
    ruled_out: tuple[RuledOut, ...] = ()

    def verdict(self, clause_id: str) -> str:
        return self.verdicts.get(clause_id, NOT_RUN)

    def worst(self, clauses: Iterable[Any]) -> str | None:
        """The worst verdict of these clauses (objects with `.id`), None when there are none."""
        found = [self.verdict(c.id) for c in clauses]
        return max(found, key=lambda v: SEVERITY.get(v, 0)) if found else None

    @property
    def must_line(self) -> str:
        passed, musts = self.counts.get("must_passed", 0), self.counts.get("must", 0)
        if self.traffic is None:
            return f"{passed}/{musts} MUST clauses pass"
        judged = self.counts.get("must_judged", 0)
        return (
            f"{passed}/{judged} MUST clauses the traffic exercised pass on the server's answers "
            f"({musts - judged} MUST clauses never exercised)"
        )


def statement_of(report: dict[str, Any], name: str | None, contract_sha256: str) -> Statement:
    """Raises ReportError when a traffic report's parties cannot be read."""
    spec = report.get("spec") if isinstance(report.get("spec"), dict) else {}
    tool = report.get("tool") if isinstance(report.get("tool"), dict) else {}
    target = report.get("target") if isinstance(report.get("target"), dict) else {}
    options = report.get("options") if isinstance(report.get("options"), dict) else {}
    assert isinstance(spec, dict) and isinstance(tool, dict) and isinstance(target, dict)
    assert isinstance(options, dict)
    rows = server_verdicts(report)
    verdicts = {str(v["clause"]): str(v.get("verdict", "SKIP")) for v in rows}
    musts = [v for v in rows if v.get("level") == "MUST"]
    counts = {k: sum(1 for v in verdicts.values() if v == k) for k in ("PASS", "FAIL", "WARN", "INFO", "SKIP")}
    counts["must"] = len(musts)
    counts["must_passed"] = sum(1 for v in musts if v.get("verdict") == "PASS")
    traffic = None
    if parties_of(report) is not None:
        counts["must_judged"] = sum(1 for v in musts if v.get("verdict") != "SKIP")
        exchanges = options.get("exchanges")
        traffic = Traffic(
            mode=str(options.get("mode", "proxy")),
            exchanges=exchanges if isinstance(exchanges, int) else 0,
            client_findings=tuple(client_findings(report)),
        )
    ruled_out = tuple(row for row in map(_ruled_out, rows) if row is not None)
    sha = str(spec.get("sha256", ""))
    warnings = []
    if sha and sha != contract_sha256:
        warnings.append(
            f"The report was made against a spec with sha256 {sha[:12]}, not the one documented here "
            f"({contract_sha256[:12]})."
        )
    target_url = str(target.get("base_url", ""))
    return Statement(
        name=name or target_url or "this implementation",
        spec_sha256=sha or "unknown",
        tool_version=str(tool.get("billing-kit", "unknown")),
        seed=str(report.get("seed", "unknown")),
        date=str(report.get("started_at", "unknown")),
        target=target_url,
        verdicts=verdicts,
        counts=counts,
        warnings=tuple(warnings),
        traffic=traffic,
        ruled_out=ruled_out,
    )


def _ruled_out(verdict: dict[str, Any]) -> RuledOut | None:
    """A judged verdict's detection power, as the JSON report states it (None when it states none)."""
    coverage = verdict.get("coverage") if isinstance(verdict.get("coverage"), dict) else {}
    assert isinstance(coverage, dict)
    assurance = coverage.get("assurance") if isinstance(coverage.get("assurance"), dict) else {}
    assert isinstance(assurance, dict)
    proven = verdict.get("proven_to_catch") if isinstance(verdict.get("proven_to_catch"), list) else []
    assert isinstance(proven, list)
    defects = tuple(str(d.get("name")) for d in proven if isinstance(d, dict) and d.get("name"))
    generated = assurance.get("generated")
    if str(verdict.get("verdict")) == "SKIP" or not (assurance or defects):
        return None
    return RuledOut(
        clause=str(verdict.get("clause", "")),
        verdict=str(verdict.get("verdict", "")),
        generated=generated if isinstance(generated, int) else 0,
        summary=str(assurance.get("summary") or ""),
        defects=defects,
    )
