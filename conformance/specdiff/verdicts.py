"""`diff --check URL`: the suite run with both contracts against one server, verdicts side by side.

Both runs use the same seed, so they send the same generated cases wherever the two
contracts agree; a clause whose verdict differs is where the server keeps one contract
and not the other.
"""

from __future__ import annotations

import dataclasses
import io
import sys
from dataclasses import dataclass
from typing import Any

from billing_kit.conformance.config import RunConfig
from billing_kit.conformance.contract import Contract
from billing_kit.conformance.errors import CliError
from billing_kit.conformance.model import RunResult, Verdict

ABSENT_VERDICT = "-"


@dataclass(frozen=True)
class Row:
    clause: str
    level: str
    title: str
    old: str
    new: str

    @property
    def differs(self) -> bool:
        return self.old != self.new


@dataclass(frozen=True)
class SideBySide:
    old_name: str
    new_name: str
    old: RunResult
    new: RunResult
    rows: tuple[Row, ...]

    @property
    def differing(self) -> list[str]:
        return [row.clause for row in self.rows if row.differs]

    @property
    def exit_code(self) -> int:
        """1 when the server fails either contract (it does not keep both), else 0."""
        return max(self.old.exit_code, self.new.exit_code)

    def as_json(self) -> dict[str, Any]:
        return {
            "base_url": self.old.base_url,
            "seed": self.old.seed,
            "old": {"spec": self.old_name, "must": must_tally(self.old)},
            "new": {"spec": self.new_name, "must": must_tally(self.new)},
            "differing": self.differing,
            "clauses": [dataclasses.asdict(row) for row in self.rows],
        }


def must_tally(result: RunResult) -> dict[str, int]:
    musts = [v for v in result.verdicts if v.level == "MUST"]
    return {"passed": sum(1 for v in musts if v.verdict is Verdict.PASS), "judged": len(musts)}


def _passes(name: str, result: RunResult) -> str:
    tally = must_tally(result)
    return f"{name}: {tally['passed']}/{tally['judged']} MUST"


def summary(side: SideBySide) -> str:
    return f"The server passes {_passes('OLD', side.old)}; {_passes('NEW', side.new)}."


def rows_of(old: RunResult, new: RunResult) -> tuple[Row, ...]:
    before = {v.clause: v for v in old.verdicts}
    after = {v.clause: v for v in new.verdicts}
    order = [v.clause for v in old.verdicts] + [c for c in after if c not in before]
    rows = []
    for clause in order:
        either = before.get(clause) or after[clause]
        rows.append(
            Row(
                clause,
                either.level,
                either.title,
                before[clause].verdict.value if clause in before else ABSENT_VERDICT,
                after[clause].verdict.value if clause in after else ABSENT_VERDICT,
            )
        )
    return tuple(rows)


def _run_one(config: RunConfig, contract: Contract, label: str) -> RunResult:
    from billing_kit.conformance.http import Unreachable
    from billing_kit.conformance.options import check_keys
    from billing_kit.conformance.preflight import PreflightFailed
    from billing_kit.conformance.progress import PlainProgress
    from billing_kit.conformance.runner import run

    check_keys(config, contract)
    print(f"Checking {config.base_url} against {label} {contract.origin} (seed {config.seed})", file=sys.stderr)
    try:
        result = run(dataclasses.replace(config, spec=contract.origin), contract, PlainProgress(io.StringIO()))
    except PreflightFailed as exc:
        raise CliError(f"{label}: {exc}") from None
    except Unreachable as exc:
        raise CliError(f"cannot reach {config.base_url}: {exc}") from None
    if result.internal_errors:
        raise CliError(f"{label}: internal error in check {result.internal_errors[0]}")
    if result.budget_exhausted:
        raise CliError(f"{label}: the run budget of {config.max_time:g} s ran out")
    return result


def run_both(config: RunConfig, old: Contract, new: Contract) -> SideBySide:
    """Run the suite with `old`, then with `new`, on the same seed against the same server."""
    old_result = _run_one(config, old, "OLD")
    new_result = _run_one(config, new, "NEW")
    return SideBySide(old.origin, new.origin, old_result, new_result, rows_of(old_result, new_result))


def text(side: SideBySide, changed_clauses: set[str]) -> str:
    lines = [summary(side), f"  {'Clause':<14}{'Level':<8}{'OLD':<6}{'NEW':<6}"]
    for row in side.rows:
        mark = ""
        if row.differs:
            mark = "  differs" + (" (the diff names this clause)" if row.clause in changed_clauses else "")
        lines.append(f"  {row.clause:<14}{row.level:<8}{row.old:<6}{row.new:<6}{mark}")
    return "\n".join(lines) + "\n"


def markdown(side: SideBySide, changed_clauses: set[str]) -> str:
    lines = ["### Both contracts against one server", "", summary(side)]
    differing = [row for row in side.rows if row.differs]
    if differing:
        lines += ["", "| Clause | Level | OLD | NEW |", "|---|---|---|---|"]
        for row in differing:
            named = " (changed)" if row.clause in changed_clauses else ""
            lines.append(f"| {row.clause}{named} | {row.level} | {row.old} | {row.new} |")
    else:
        lines += ["", f"Every one of the {len(side.rows)} clauses has the same verdict under both."]
    return "\n".join(lines) + "\n"
