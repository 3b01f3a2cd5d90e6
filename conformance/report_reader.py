"""Reading a JSON report back (compare, replay, baseline, the badge and the statement).

A traffic report's verdicts are read per party too: the server's own (`server_verdicts`)
apart from what the client sent wrong (`client_findings`).

Defensive: a report from another version, or edited by hand, is an error with its
reason (`ReportError`), never a traceback.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from billing_kit.conformance.errors import InputError


class ReportError(InputError):
    """A report that cannot be read back."""


def load_report(path: Path) -> dict[str, Any]:
    """A JSON report, read defensively: only `verdicts` (a list of objects with `clause`) is required."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportError(f"cannot read {path}: {exc.strerror}") from None
    except ValueError as exc:
        raise ReportError(f"{path}: not JSON: {exc}") from None
    verdicts = document.get("verdicts") if isinstance(document, dict) else None
    if not isinstance(verdicts, list) or not all(isinstance(v, dict) and "clause" in v for v in verdicts):
        raise ReportError(f"{path}: not a billing-kit JSON report (no list `verdicts`)")
    return dict(document)


def evidence_of(verdict: dict[str, Any]) -> list[dict[str, Any]]:
    """A verdict's recorded findings (`evidence` in schema 1.x; `findings` accepted too)."""
    items = verdict.get("evidence", verdict.get("findings", []))
    return [e for e in items if isinstance(e, dict)] if isinstance(items, list) else []


# A traffic report (`billing-kit proxy`, `billing-kit judge`) blames each finding on a party:
# `options.parties` maps "client" and "server" to {clause: {"verdict", "violations"}}.
CLIENT, SERVER = "client", "server"
_FOUND = ("FAIL", "WARN")


@dataclass(frozen=True)
class PartyFinding:
    """One clause a party broke in the traffic: its verdict, how often, and one recorded message."""

    clause: str
    level: str
    title: str
    verdict: str
    violations: int
    example: str


def parties_of(report: dict[str, Any]) -> dict[str, dict[str, dict[str, Any]]] | None:
    """A traffic report's verdicts per party; None for a report without parties (`billing-kit check`)."""
    options = report.get("options")
    parties = options.get("parties") if isinstance(options, dict) else None
    if parties is None:
        return None
    if not (
        isinstance(parties, dict)
        and all(isinstance(rows, dict) for rows in parties.values())
        and all(
            isinstance(row, dict) and isinstance(row.get("verdict"), str)
            for rows in parties.values()
            for row in rows.values()
        )
    ):
        raise ReportError("the report's `options.parties` is not party -> clause -> {verdict, violations}")
    return {str(party): dict(rows) for party, rows in parties.items()}


def server_verdicts(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's verdicts as the server earned them.

    A report without parties: its verdicts unchanged. A traffic report's FAIL or WARN can
    be the client's alone (a request that broke the clause, which the server refused as it
    should): the server's verdict on that clause is then PASS when its answers were judged
    on it, SKIP when they were not.
    """
    parties = parties_of(report)
    verdicts: list[dict[str, Any]] = report["verdicts"]
    if parties is None:
        return verdicts
    server = parties.get(SERVER, {})
    out = []
    for verdict in verdicts:
        clause = str(verdict["clause"])
        if clause in server:
            verdict = verdict | {"verdict": str(server[clause]["verdict"])}
        elif verdict.get("verdict") in _FOUND:
            coverage = verdict.get("coverage")
            judged = coverage.get("judged", 0) if isinstance(coverage, dict) else 0
            verdict = verdict | {"verdict": "PASS" if isinstance(judged, int) and judged > 0 else "SKIP"}
        out.append(verdict)
    return out


def client_findings(report: dict[str, Any]) -> list[PartyFinding]:
    """The clauses a traffic report blames on the client, in the report's order; [] without parties."""
    parties = parties_of(report)
    client = parties.get(CLIENT, {}) if parties is not None else {}
    out = []
    for verdict in report["verdicts"]:
        row = client.get(str(verdict["clause"]))
        if row is None:
            continue
        messages = [
            str(e.get("message", "")).removeprefix(f"[{CLIENT}] ")
            for e in evidence_of(verdict)
            if e.get("kind", "violation") == "violation" and str(e.get("message", "")).startswith(f"[{CLIENT}] ")
        ]
        violations = row.get("violations")
        out.append(
            PartyFinding(
                clause=str(verdict["clause"]),
                level=str(verdict.get("level", "")),
                title=str(verdict.get("title", "")),
                verdict=str(row["verdict"]),
                violations=violations if isinstance(violations, int) else 0,
                example=messages[0] if messages else "",
            )
        )
    return out
