"""The generic phase's judge of answers: each answer against what its request broke.

What a request breaks is read from the request as sent (`generic_judge`), so a
negative case that is still legal, or a legal answer (422 for 400, a refused
MAY case), is never a finding. Findings are kept one per (clause, title): the
one with the smallest request, with a count. Schemathesis's own verdicts on a
2xx come in as `schemathesis_failures` and are mapped by `generic_schemathesis`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from billing_kit.conformance.checks import generic_judge
from billing_kit.conformance.checks import response as response_checks
from billing_kit.conformance.checks.answers import method_refused
from billing_kit.conformance.checks.generic_judge import Expectation
from billing_kit.conformance.checks.generic_schemathesis import schema_findings
from billing_kit.conformance.context import CheckContext, describe
from billing_kit.conformance.failures import Failure
from billing_kit.conformance.model import Exchange
from billing_kit.conformance.rules import exercised, shows
from billing_kit.conformance.rules.errors import ERR_2

# A refused valid request, by the field its problem points at.
POINTER_CLAUSES = shows.MEMBER_CLAUSES


class Sent(Protocol):
    """What the judge reads of a planned request: its method."""

    @property
    def method(self) -> str: ...


def clauses_of(item: Sent, expectation: Expectation) -> set[str]:
    """The clauses a case can show something about (what it is judged for, in the ledger too): the traffic
    judge's `rules.shows`, but ERR-2, which the whole-run judge counts over every request of the run."""
    if item.method != "POST":
        return shows.other_method() - {ERR_2}
    clauses = shows.of_request((b.clause, b.strength) for b in expectation.breaks) - {ERR_2}
    if expectation.must_accept:
        clauses |= shows.accepted_create(expectation.value)
    if expectation.nul_fields:
        clauses.add(shows.REQ_TEXT_1)
    return clauses


@dataclass
class Collected:
    """The smallest request that broke a rule this way, and how many did."""

    count: int
    failure: Failure
    must: bool


class AnswerJudge:
    """Judges answers of the generic phase and collects what it finds; `flush` reports it."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.collected: dict[tuple[str, str], Collected] = {}
        self.schemathesis_failures: list[tuple[str, Any]] = []  # of the answer being judged
        self.judged_5xx: set[str] = set()  # the clauses the last answer, a 5xx, was judged on

    def fail(
        self,
        clause: str,
        title: str,
        exchange: Exchange,
        *,
        must: bool = False,
        expected: str | None = None,
        actual: str | None = None,
    ) -> None:
        self.finding(Failure(clause, title, expected=expected, actual=actual, exchange=exchange), must)

    def finding(self, failure: Failure, must: bool = False) -> None:
        """Keep one finding per (clause, title): the one with the smallest request, and a count."""
        assert failure.exchange is not None
        known = self.collected.get((failure.clause, failure.title))
        if known is None:
            self.collected[(failure.clause, failure.title)] = Collected(1, failure, must)
            return
        known.count += 1
        assert known.failure.exchange is not None
        if failure.exchange.request.body_size < known.failure.exchange.request.body_size:
            known.failure, known.must = failure, must

    def flush(self) -> None:
        for found in self.collected.values():
            failure = found.failure
            failure.title = f"generic phase: {failure.title}" + (
                f" ({found.count} requests)" if found.count > 1 else ""
            )
            if found.must:
                self.ctx.report_not_rejected(failure)
            else:
                self.ctx.report(failure)

    def judge(self, item: Sent, exchange: Exchange, expectation: Expectation, sent: Any) -> bool:
        """Report what the contract says of this answer; True when something was found."""
        self.judged_5xx = set()
        if not exercised.answered(exchange) or exercised.told_to_wait(exchange):
            return False  # ERR-2's, judged once over the whole run (told to wait: its exception)
        response = exchange.response
        assert response is not None
        if exercised.server_error(exchange):
            return self.judge_5xx(item, exchange, expectation)
        if item.method != "POST":
            return self.judge_method(item, exchange)
        status = response.status
        if 400 <= status < 500:
            if expectation.must_accept:
                self.refused_valid(exchange)
                return True
            if len({b.clause for b in expectation.breaks}) == 1:
                brk = expectation.breaks[0]
                if brk.statuses and status not in brk.statuses:
                    self.fail(
                        brk.clause,
                        f"{brk.label}: answered {status}",
                        exchange,
                        expected=" or ".join(map(str, brk.statuses)),
                        actual=f"{describe(exchange)} to {brk.reason}",
                    )
                    return True
            return False
        for brk in expectation.breaks:
            self.fail(
                brk.clause,
                f"{brk.label}: not rejected",
                exchange,
                must=brk.strength == "must",
                expected=" or ".join(map(str, brk.statuses)) if brk.statuses else "a 4xx",
                actual=f"{describe(exchange)} to {brk.reason}",
            )
        if expectation.breaks:
            return True
        if not exchange.succeeded:
            self.fail("RES-1", "a valid create not answered 2xx", exchange, expected="201", actual=describe(exchange))
            return True
        return self.judge_created(exchange, expectation, sent)

    def judge_5xx(self, item: Sent, exchange: Exchange, expectation: Expectation) -> bool:
        """A 5xx breaks every clause whose outcome the request fixes (ERR-2 beside it); `judged_5xx` names them."""
        status = exchange.status
        if item.method != "POST":
            failures = [("ERR-4", "a method other than POST", "405")]
        elif expectation.breaks:
            failures = [
                (b.clause, b.label, " or ".join(map(str, b.statuses)) if b.statuses else "a 4xx")
                for b in expectation.breaks
            ]
        elif expectation.must_accept:
            failures = [("RES-1", "a valid create", "201")]
            failures += [("REQ-TEXT-1", f"{name} with U+0000", "201") for name in expectation.nul_fields]
        else:
            return False  # a MAY zone: ERR-2 alone
        for clause, label, expected in failures:
            self.fail(
                clause,
                f"{label}: answered {status}, {exercised.BESIDE_ERR_2}",
                exchange,
                expected=expected,
                actual=describe(exchange),
            )
            self.judged_5xx.add(clause)
        return True

    def judge_method(self, item: Sent, exchange: Exchange) -> bool:
        failure = method_refused(exchange, item.method)
        if failure is not None:
            self.finding(failure)
        return failure is not None

    def judge_created(self, exchange: Exchange, expectation: Expectation, sent: Any) -> bool:
        """A created customer, judged by the rules every front door calls (`rules.created`, through
        `response.judge_created`), then REQ-TEXT-1 and Schemathesis's verdicts."""
        response = exchange.response
        assert response is not None
        found = False
        created = response_checks.judge_created(
            self.ctx,
            exchange,
            sent if isinstance(sent, dict) and expectation.echo_judged else {},
            response_checks.key_environment(self.ctx, exchange),
            numbers_free=expectation.numbers_free,
            echo=expectation.echo_judged,
            judged_elsewhere=expectation.nul_fields,
        )
        for failure in created:
            self.finding(failure)
            found = True
        if not isinstance(response.json, dict):
            return found  # not an object (judged above) or deeper than the suite reads
        body = response.json
        for name in expectation.nul_fields:
            # Only the strings decide: numbers past I-JSON may come back rounded (RES-ECHO-1's MAY).
            echoed = set(generic_judge.strings_of(body.get(name)))
            nul_strings = [
                t for t in generic_judge.strings_of(sent.get(name) if isinstance(sent, dict) else None) if "\x00" in t
            ]
            if any(t not in echoed for t in nul_strings):
                self.fail(
                    "REQ-TEXT-1",
                    f"{name} with U+0000 stored mangled",
                    exchange,
                    expected=ascii(sent.get(name))[:100],
                    actual=ascii(body.get(name))[:100],
                )
                found = True
        for failure in schema_findings(exchange, self.schemathesis_failures):
            self.finding(failure)
            found = True
        return found

    def refused_valid(self, exchange: Exchange) -> None:
        """A request every server must accept was refused: blame the field its problem points at, if any."""
        response = exchange.response
        assert response is not None
        clause = {401: "AUTH-1", 415: "REQ-BODY-2"}.get(response.status, "RES-1")
        body = response.json
        if clause == "RES-1" and isinstance(body, dict) and isinstance(body.get("errors"), list):
            for error in body["errors"]:
                pointer = error.get("pointer") if isinstance(error, dict) else None
                member = pointer.strip("/").split("/")[0] if isinstance(pointer, str) else ""
                if member in POINTER_CLAUSES:
                    clause = POINTER_CLAUSES[member]
                    break
        self.fail(clause, "a valid request refused", exchange, expected="201", actual=describe(exchange))
