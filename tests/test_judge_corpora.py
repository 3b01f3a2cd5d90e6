"""`corpora.judge_case` on canned answers: accept, reject (any 4xx or the clause's statuses), may.

A broken `reject` on a MUST of REQ-*/AUTH-* is also ERR-1's; a 5xx breaks an `accept` or
`reject` case (ERR-2 beside it) and is ERR-2's alone under `may`; no answer at all is left
to ERR-2 (False: nothing judged).
"""

from __future__ import annotations

import pytest

from billing_kit.conformance import clauses, corpora
from billing_kit.conformance.clauses import Level
from billing_kit.conformance.context import CheckContext
from billing_kit.conformance.model import Finding
from tests.support.canned import answer, check_context, customer, unanswered

MUST_REQ = next(c.id for c in clauses.CLAUSES if c.level is Level.MUST and c.family == "REQ")
MUST_AUTH = next(c.id for c in clauses.CLAUSES if c.level is Level.MUST and c.family == "AUTH")
MUST_RES = next(c.id for c in clauses.CLAUSES if c.level is Level.MUST and c.family == "RES")
SHOULD_REQ = next(c.id for c in clauses.CLAUSES if c.level is Level.SHOULD and c.family == "REQ")


@pytest.fixture
def ctx() -> CheckContext:
    return check_context()


def case(expect: str, clause: str = MUST_REQ, status: tuple[int, ...] = ()) -> corpora.Case:
    return corpora.Case(id="c-1", clause=clause, description="the case", expect=expect, status=status)


def evidence(finding: Finding) -> tuple[str, str, str | None, str | None, str | None]:
    return (finding.clause, finding.message, finding.expected, finding.actual, finding.case)


@pytest.mark.parametrize("expect", ["accept", "reject", "may"])
def test_no_answer_at_all_is_not_judged(ctx: CheckContext, expect: str) -> None:
    assert corpora.judge_case(ctx, case(expect), unanswered()) is False
    assert ctx.findings == []


@pytest.mark.parametrize("expect", ["accept", "reject"])
@pytest.mark.parametrize("status", [500, 503])
def test_a_5xx_breaks_a_case_whose_outcome_is_fixed(ctx: CheckContext, expect: str, status: int) -> None:
    exchange = answer(status, {})
    assert corpora.judge_case(ctx, case(expect), exchange) is True
    (finding,) = ctx.findings
    assert finding.clause == MUST_REQ and finding.kind == "violation" and finding.exchange is exchange
    assert finding.message == f"c-1: the case: answered {status}, a 5xx (ERR-2 beside it)"
    assert finding.expected == ("201" if expect == "accept" else "a 4xx")


@pytest.mark.parametrize("status", [500, 503])
def test_a_5xx_under_a_may_is_err_2_alone(ctx: CheckContext, status: int) -> None:
    assert corpora.judge_case(ctx, case("may"), answer(status, {})) is True  # answered, not unanswered
    (note,) = ctx.findings
    assert note.kind == "note" and note.message == f"c-1: the case: answered {status}, ERR-2's alone"


def test_accept_wants_a_2xx(ctx: CheckContext) -> None:
    for status in (200, 201, 299):
        assert corpora.judge_case(ctx, case("accept"), answer(status, customer())) is True
    assert ctx.findings == []
    refused = answer(422, {})
    assert corpora.judge_case(ctx, case("accept"), refused) is True
    (finding,) = ctx.findings
    assert evidence(finding) == (MUST_REQ, "c-1: the case: not accepted", "201", "HTTP 422", "c-1")
    assert finding.kind == "violation" and finding.exchange is refused
    assert corpora.judge_case(ctx, case("accept"), answer(301, {})) is True
    assert [f.actual for f in ctx.findings] == ["HTTP 422", "HTTP 301"]


@pytest.mark.parametrize("status", [400, 401, 413, 415, 422, 499])
def test_reject_takes_any_4xx_when_the_clause_names_none(ctx: CheckContext, status: int) -> None:
    assert corpora.judge_case(ctx, case("reject"), answer(status, {})) is True
    assert ctx.findings == []


@pytest.mark.parametrize("status", [100, 199, 302, 399])
def test_reject_with_an_answer_neither_2xx_nor_4xx_is_a_wrong_status(ctx: CheckContext, status: int) -> None:
    exchange = answer(status, {})
    assert corpora.judge_case(ctx, case("reject"), exchange) is True
    (finding,) = ctx.findings
    assert evidence(finding) == (MUST_REQ, "c-1: the case: wrong status", "a 4xx", f"HTTP {status}", "c-1")
    assert finding.exchange is exchange


def test_reject_with_statuses_wants_one_of_them(ctx: CheckContext) -> None:
    strict = case("reject", SHOULD_REQ, status=(415, 400))
    assert corpora.judge_case(ctx, strict, answer(415, {})) is True
    assert corpora.judge_case(ctx, strict, answer(400, {})) is True
    assert ctx.findings == []
    assert corpora.judge_case(ctx, strict, answer(422, {})) is True
    assert [evidence(f) for f in ctx.findings] == [
        (SHOULD_REQ, "c-1: the case: wrong status", "415 or 400", "HTTP 422", "c-1")
    ]
    ctx.findings.clear()
    assert corpora.judge_case(ctx, strict, answer(201, customer())) is True
    assert [evidence(f) for f in ctx.findings] == [
        (SHOULD_REQ, "c-1: the case: not rejected", "415 or 400", "HTTP 201", "c-1")
    ], "a SHOULD accepted is no ERR-1"


@pytest.mark.parametrize("clause", [MUST_REQ, MUST_AUTH])
def test_a_must_of_req_or_auth_accepted_is_also_err_1(ctx: CheckContext, clause: str) -> None:
    exchange = answer(201, customer())
    assert corpora.judge_case(ctx, case("reject", clause), exchange) is True
    own, err1 = ctx.findings
    assert evidence(own) == (clause, "c-1: the case: not rejected", "a 4xx", "HTTP 201", "c-1")
    assert evidence(err1) == ("ERR-1", f"{clause}: c-1: the case: not rejected", "a 4xx", "HTTP 201", "c-1")
    assert own.exchange is exchange and err1.exchange is exchange


def test_a_must_of_another_family_accepted_is_not_err_1(ctx: CheckContext) -> None:
    assert corpora.judge_case(ctx, case("reject", MUST_RES), answer(200, customer())) is True
    assert [f.clause for f in ctx.findings] == [MUST_RES]


def test_may_records_what_the_server_chose(ctx: CheckContext) -> None:
    accepted = answer(201, customer())
    assert corpora.judge_case(ctx, case("may", "REQ-EMAIL-4"), accepted) is True
    assert corpora.judge_case(ctx, case("may", "REQ-EMAIL-4"), answer(400, {})) is True
    assert corpora.judge_case(ctx, case("may", "REQ-EMAIL-4"), answer(302, {})) is True
    assert [(f.kind, f.clause, f.message, f.case) for f in ctx.findings] == [
        ("note", "REQ-EMAIL-4", "c-1: the case: accepted (HTTP 201)", "c-1"),
        ("note", "REQ-EMAIL-4", "c-1: the case: rejected (HTTP 400)", "c-1"),
        ("note", "REQ-EMAIL-4", "c-1: the case: rejected (HTTP 302)", "c-1"),
    ]
    assert ctx.findings[0].exchange is accepted
