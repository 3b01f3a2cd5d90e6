"""`check --baseline FILE`: findings accepted for now, so only new ones fail the run.

A finding is known by its clause and a fingerprint: a hash of the clause, the
check, the corpus case and the message with everything run-specific taken out
(quoted values, ids, hex runs such as the run nonce, numbers, counts in parentheses). The same defect
found with another seed, in another run, at another time has the same
fingerprint. The file is reviewable text, sorted, one entry per finding:

    # billing-kit baseline: accepted findings …
    version = 1

    [[accepted]]
    clause = "REQ-EMAIL-1"
    fingerprint = "8c1f0e9a2b7d4c13"
    summary = "email-missing: no email at all: not rejected"

(a `.json` path is written as JSON instead). Accepted findings still print,
marked ACCEPTED; entries whose clause was judged in this run and that no longer
occur print FIXED, so the baseline can shrink (`--baseline-update` rewrites it).
"""

from __future__ import annotations

import hashlib
import json
import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from billing_kit.conformance.errors import InputError
from billing_kit.conformance.model import Finding, RunResult, Verdict

VERSION = 1
SUMMARY_LENGTH = 140
_QUOTED = re.compile(r"""(?<![\w])(?:'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*")(?![\w])""")
_ID = re.compile(r"\b[A-Za-z]{2,8}_(?:[A-Za-z]{2,8}_)?[A-Za-z0-9…]{6,}\b|…[A-Za-z0-9]{4}\b")
_HEX = re.compile(r"\b(?=[0-9a-fA-F-]*[0-9])[0-9a-fA-F][0-9a-fA-F-]{5,}\b")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_COUNT = re.compile(r"\s*\(N\b[^()]*\)")  # "(2 requests)", "(3 of 40 error answers)": how often, not what
_SPACE = re.compile(r"\s+")
HEADER = (
    "# billing-kit baseline: findings accepted for now. `billing-kit check --baseline FILE` fails only on\n"
    "# findings not listed here; `--baseline-update` rewrites the file. Review it like code.\n"
)


class BaselineError(InputError):
    pass


def normalise(message: str) -> str:
    """The message without what changes from run to run: quoted values, ids, hex, numbers."""
    text = _QUOTED.sub("<value>", message)
    text = _ID.sub("<id>", text)
    text = _HEX.sub("<hex>", text)
    text = _NUMBER.sub("N", text)
    text = _COUNT.sub("", text)
    return _SPACE.sub(" ", text).strip()


def fingerprint(clause: str, check: str | None, case: str | None, message: str) -> str:
    text = "\x1f".join((clause, check or "", case or "", normalise(message)))
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def summary(message: str) -> str:
    text = "".join(ch if ch.isprintable() else "?" for ch in _SPACE.sub(" ", message).strip())
    return text if len(text) <= SUMMARY_LENGTH else text[: SUMMARY_LENGTH - 1] + "…"


@dataclass(frozen=True, order=True)
class Entry:
    clause: str
    summary: str
    fingerprint: str
    level: str = field(default="", compare=False)


def finding_entry(finding: Finding, level: str = "") -> Entry:
    return Entry(
        finding.clause,
        summary(finding.message),
        fingerprint(finding.clause, finding.check, finding.case, finding.message),
        level,
    )


def evidence_entry(clause: str, evidence: dict[str, Any], level: str = "") -> Entry:
    """The same entry from a JSON report's evidence item (kind violation)."""
    message = str(evidence.get("message", ""))
    return Entry(
        clause,
        summary(message),
        fingerprint(clause, evidence.get("check"), evidence.get("case"), message),
        level,
    )


def run_entries(result: RunResult) -> list[Entry]:
    """One entry per distinct MUST/SHOULD violation of the run (what decides its exit code)."""
    seen: dict[str, Entry] = {}
    for verdict in result.verdicts:
        if verdict.level not in ("MUST", "SHOULD"):
            continue
        for finding in verdict.violations:
            entry = finding_entry(finding, verdict.level)
            seen.setdefault(entry.fingerprint, entry)
    return sorted(seen.values())


def judged_clauses(result: RunResult) -> set[str]:
    return {v.clause for v in result.verdicts if v.verdict is not Verdict.SKIP}


# -- the file ------------------------------------------------------------------
def load(path: Path) -> list[Entry]:
    """The accepted entries; an absent file is an empty baseline (the first --baseline-update writes it)."""
    if not path.exists():
        return []
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BaselineError(f"cannot read {path}: {exc.strerror}") from None
    try:
        document = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{path}: not a baseline file: {exc}") from None
    if not isinstance(document, dict) or not isinstance(document.get("accepted", []), list):
        raise BaselineError(f"{path}: not a baseline file: no list `accepted`")
    entries = []
    for number, item in enumerate(document.get("accepted", []), 1):
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("clause", "fingerprint")):
            raise BaselineError(f"{path}: entry {number} needs the strings `clause` and `fingerprint`")
        entries.append(Entry(item["clause"], str(item.get("summary", "")), item["fingerprint"]))
    return entries


def _toml_string(value: str) -> str:
    # JSON's escapes (ASCII only) are a subset of TOML's basic-string escapes.
    return json.dumps(value, ensure_ascii=True)


def render(entries: Iterable[Entry], as_json: bool = False) -> str:
    ordered = sorted(set(Entry(e.clause, e.summary, e.fingerprint) for e in entries))
    if as_json:
        items = [{"clause": e.clause, "fingerprint": e.fingerprint, "summary": e.summary} for e in ordered]
        return json.dumps({"version": VERSION, "accepted": items}, indent=2, ensure_ascii=False) + "\n"
    blocks = [HEADER + f"version = {VERSION}\n"]
    for e in ordered:
        blocks.append(
            "[[accepted]]\n"
            f"clause = {_toml_string(e.clause)}\n"
            f"fingerprint = {_toml_string(e.fingerprint)}\n"
            f"summary = {_toml_string(e.summary)}\n"
        )
    return "\n".join(blocks)


def write(path: Path, entries: Iterable[Entry]) -> None:
    try:
        path.write_text(render(entries, as_json=path.suffix == ".json"), encoding="utf-8")
    except OSError as exc:
        raise BaselineError(f"cannot write {path}: {exc.strerror}") from None


# -- applying it ---------------------------------------------------------------
@dataclass
class Outcome:
    accepted: list[Entry]
    new: list[Entry]
    fixed: list[Entry]
    unchecked: list[Entry]

    def exit_code(self, result: RunResult) -> int:
        """The run's exit code with accepted findings left out."""
        if getattr(result, "internal_errors", None):
            return 2
        if getattr(result, "stopped", None):
            return 1
        if result.budget_exhausted:
            return 2
        failing = [e for e in self.new if e.level == "MUST" or (result.strict and e.level == "SHOULD")]
        return 1 if failing else 0


def compare(result: RunResult, accepted: list[Entry]) -> Outcome:
    current = run_entries(result)
    known = {e.fingerprint for e in accepted}
    now = {e.fingerprint for e in current}
    judged = judged_clauses(result)
    return Outcome(
        accepted=[e for e in current if e.fingerprint in known],
        new=[e for e in current if e.fingerprint not in known],
        fixed=sorted(e for e in accepted if e.fingerprint not in now and e.clause in judged),
        unchecked=sorted(e for e in accepted if e.fingerprint not in now and e.clause not in judged),
    )


def updated(result: RunResult, accepted: list[Entry]) -> list[Entry]:
    """The new baseline: this run's findings, plus the old entries of clauses this run did not judge."""
    judged = judged_clauses(result)
    kept = [e for e in accepted if e.clause not in judged]
    return sorted({e.fingerprint: e for e in [*kept, *run_entries(result)]}.values())


def print_outcome(outcome: Outcome, path: Path, out: TextIO, wrote: bool = False) -> None:
    head = f"Baseline {path}: {len(outcome.accepted)} accepted, {len(outcome.new)} new, {len(outcome.fixed)} fixed" + (
        f", {len(outcome.unchecked)} not checked in this run" if outcome.unchecked else ""
    )
    print(head + (" (written)" if wrote else ""), file=out)
    rows = (
        [("NEW", e) for e in outcome.new]
        + [("ACCEPTED", e) for e in outcome.accepted]
        + [("FIXED", e) for e in outcome.fixed]
    )
    for mark, entry in rows:
        print(f"  {mark:8}  {entry.clause:13}  {entry.fingerprint}  {entry.summary}", file=out)
    if outcome.fixed and not wrote:
        print("  (fixed entries leave the file with --baseline-update)", file=out)


def accepted_clauses(result: RunResult, accepted: list[Entry]) -> set[str]:
    """The FAIL/WARN clauses whose every violation is accepted: the reports print them ACCEPTED."""
    known = {e.fingerprint for e in accepted}
    return {
        verdict.clause
        for verdict in result.verdicts
        if verdict.verdict in (Verdict.FAIL, Verdict.WARN)
        and verdict.violations
        and all(finding_entry(f).fingerprint in known for f in verdict.violations)
    }
