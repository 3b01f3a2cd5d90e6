"""The generic phase: Schemathesis's coverage and fuzzing phases on the spec in use.

Schemathesis generates the requests (coverage-phase boundaries and examples,
then seeded positive and negative fuzzing) and runs its own checks on every
answer; the suite sends them through its own client (so ERR-2 and ERR-3 see
them) and maps each finding to the contract's clause and level. In pieces:

    generic_plan.py          the cases, planned once per run (kept in the run's `PlanCache`, `ctx.plans`)
    generic_send.py          fresh idempotency keys, the `--only` filter, the send
    generic_judge.py         what a request breaks, read from the request as sent
    generic_answer.py        each answer judged against that (`AnswerJudge`)
    generic_schemathesis.py  Schemathesis's own checks, mapped by the member they name

Its `email` format draws from the REQ-EMAIL-2 generator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from billing_kit.conformance.checks import check, generic_plan
from billing_kit.conformance.checks.generic_answer import AnswerJudge, clauses_of
from billing_kit.conformance.checks.generic_judge import Expectation
from billing_kit.conformance.checks.generic_plan import Planned
from billing_kit.conformance.checks.generic_schemathesis import run_checks
from billing_kit.conformance.checks.generic_send import KeyMinter, generic_judge_key, send
from billing_kit.conformance.context import CheckContext
from billing_kit.conformance.model import Exchange
from billing_kit.conformance.rules import exercised

__all__ = ["GENERIC_CLAUSES", "GenericRun", "Planned", "generic_judge_key", "plan", "schemathesis_phases"]

GENERIC_CLAUSES = (
    "AUTH-1",
    "AUTH-2",
    "REQ-EMAIL-1",
    "REQ-EMAIL-2",
    "REQ-EMAIL-3",
    "REQ-LEN-1",
    "REQ-LEN-2",
    "REQ-META-1",
    "REQ-UNKNOWN-1",
    "REQ-TEXT-1",
    "REQ-BODY-1",
    "REQ-BODY-2",
    "RES-1",
    "RES-ID-1",
    "RES-ENV-1",
    "RES-TIME-1",
    "RES-ORG-1",
    "RES-ECHO-1",
    "ERR-1",
    "ERR-4",
    "IDEM-3",
)


@dataclass
class Tally:
    """How Schemathesis's own verdicts compare with the contract's, for the progress line."""

    sent: int = 0
    flagged: dict[str, int] = field(default_factory=dict)
    kept: int = 0
    dismissed: int = 0
    beyond: int = 0


def plan(ctx: CheckContext) -> list[Planned]:
    """The run's planned cases, from the plan cache the runner handed the context (planned on first use)."""
    contract, seed, examples = ctx.contract, ctx.config.seed, ctx.config.examples
    budget = ctx.client.budget
    return ctx.plans.get(
        (contract.sha256, seed, examples), lambda: generic_plan.plan(contract, seed, examples, budget.check)
    )


class GenericRun(AnswerJudge):
    """One generic phase: send each planned case, judge its answer, tally Schemathesis's verdicts."""

    def __init__(self, ctx: CheckContext) -> None:
        super().__init__(ctx)
        self.tally = Tally()
        self.keys = KeyMinter(ctx.nonce)

    def send(self, item: Planned) -> tuple[Exchange, Expectation, Any] | None:
        """Send one planned case (a deep round overrides it to count what it judged)."""
        return send(self.ctx, item, self.keys)

    def run_checks(self, item: Planned, exchange: Exchange) -> list[tuple[str, Any]]:
        """Schemathesis's own checks of the answer (a deep round keeps only its response checks)."""
        return run_checks(item, exchange)

    def one(self, item: Planned) -> None:
        sent = self.send(item)
        if sent is None:
            return
        exchange, expectation, value = sent
        self.tally.sent += 1
        self.schemathesis_failures = self.run_checks(item, exchange) if exchange.ok else []
        found = self.judge(item, exchange, expectation, value)
        for clause in sorted(clauses_of(item, expectation) & set(GENERIC_CLAUSES)):
            judged = exercised.judged_on(exchange, clause, self.judged_5xx)
            self.ctx.probe(clause, exchange, case="generic phase", judged=judged)
        names = {name for name, _ in self.schemathesis_failures} - {"not_a_server_error"}
        for name in names:
            self.tally.flagged[name] = self.tally.flagged.get(name, 0) + 1
        if names and found:
            self.tally.kept += 1
        elif names:
            self.tally.dismissed += 1
        elif found:
            self.tally.beyond += 1


@check(*GENERIC_CLAUSES, order=40, generated=True, deep="fuzz")
def schemathesis_phases(ctx: CheckContext) -> None:
    """Schemathesis's coverage and fuzzing phases, each finding mapped to its clause and level."""
    run = GenericRun(ctx)
    for item in plan(ctx):
        run.one(item)
    run.flush()
    if ctx.progress:
        t = run.tally
        flagged = ", ".join(f"{k} {v}" for k, v in sorted(t.flagged.items())) or "none"
        ctx.progress(
            f"generic: {t.sent} requests; Schemathesis flagged {flagged}; "
            f"kept {t.kept}, dismissed as contract-legal {t.dismissed}, found beyond Schemathesis {t.beyond}"
        )
