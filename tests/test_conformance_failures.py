"""One failure type and the judges that yield it, fed canned exchanges (no server).

Every judging function here returns or raises `Failure`; the layers point one
way (the registry imports neither the context nor a check).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_kit.conformance import corpora
from billing_kit.conformance.checks import check as reexported_check
from billing_kit.conformance.checks.problems import problem_failures
from billing_kit.conformance.checks.response import every_success, judge_created, judge_success, whole_run
from billing_kit.conformance.context import CheckContext
from billing_kit.conformance.contract import load_contract
from billing_kit.conformance.failures import Failure
from billing_kit.conformance.registry import REGISTRY, check
from tests.support.canned import answer, check_context, customer, unanswered

CONTRACT = load_contract()
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def ctx() -> Iterator[CheckContext]:
    yield check_context()


def clauses_of(failures: list[Failure]) -> list[str]:
    return [f.clause for f in failures]


# -- one type, one registry ---------------------------------------------------------------------


def _imports(path: Path) -> set[str]:
    """Modules imported at run time (annotations under `if TYPE_CHECKING:` are not imports)."""
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            node.body = []
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


def test_the_registry_imports_neither_the_context_nor_the_checks() -> None:
    registry = _imports(ROOT / "conformance/registry.py")
    assert not {m for m in registry if m.endswith((".context", ".checks")) or ".checks." in m}
    context = _imports(ROOT / "conformance/context.py")
    assert not {m for m in context if ".checks" in m}, "the context imports no check"
    assert not {m for m in context if m.startswith("hypothesis")}, "the property runner lives in properties.py"
    assert reexported_check is check


def test_ctx_violation_builds_the_failure_that_ctx_report_records(ctx: CheckContext) -> None:
    exchange = answer(201, customer())
    ctx.violation("RES-1", "a title", expected="201", actual="HTTP 200", exchange=exchange, case="c1")
    ctx.report(Failure("RES-1", "a title", expected="201", actual="HTTP 200", exchange=exchange, case="c1"))
    first, second = ctx.findings
    assert (first.clause, first.message, first.expected, first.actual, first.case) == (
        "RES-1",
        "a title",
        "201",
        "HTTP 200",
        "c1",
    )
    assert first == second


def test_a_check_reports_only_on_its_own_clauses(ctx: CheckContext) -> None:
    ctx.current = REGISTRY["response.every_success"]
    with pytest.raises(ValueError, match="does not name"):
        ctx.report(Failure("ERR-3", "not mine"))


# -- one judge for every 2xx ----------------------------------------------------------------------


def test_a_live_key_that_got_a_sandbox_customer_breaks_res_env_1(ctx: CheckContext) -> None:
    failures = judge_success(ctx, answer(201, customer(), key_ref="live"))
    assert clauses_of(failures) == ["RES-ENV-1"]
    live, sandbox = CONTRACT.live_environment, CONTRACT.sandbox_environment
    assert failures[0].title == f"a {live} key got a {sandbox} customer"
    assert judge_success(ctx, answer(201, customer(environment=live), key_ref="live")) == []
    assert judge_success(ctx, answer(201, customer())) == []


def test_each_rule_of_the_body_names_its_own_clause(ctx: CheckContext) -> None:
    broken = customer(id="cus_\n", environment="prod", org_id="", created_at="yesterday")
    del broken["updated_at"]
    assert clauses_of(judge_success(ctx, answer(201, broken))) == [
        "RES-1",
        "RES-ID-1",
        "RES-ENV-1",
        "RES-ORG-1",
        "RES-TIME-1",
    ]
    assert clauses_of(judge_success(ctx, answer(201, [customer()]))) == ["RES-1"]
    assert clauses_of(judge_success(ctx, answer(201, customer(), media="text/plain"))) == ["RES-1"]
    differ = customer(updated_at="2026-01-15T12:00:01Z")
    assert [f.title for f in judge_success(ctx, answer(201, differ))] == ["created_at and updated_at differ on create"]


def test_a_valid_create_is_also_judged_for_status_echo_and_clock(ctx: CheckContext) -> None:
    sent = {"email": "A@example.com", "name": "x"}
    old = "2000-01-01T00:00:00Z"
    got = customer(email="a@example.com", name="x", created_at=old, updated_at=old)
    failures = list(judge_created(ctx, answer(200, got), sent, CONTRACT.sandbox_environment))
    assert clauses_of(failures) == ["RES-1", "RES-ECHO-1", "RES-TIME-2"]
    refused = list(judge_created(ctx, answer(400, {"type": "x"}), sent, None))
    assert [f.title for f in refused] == ["a valid create did not get 201"]


def test_every_success_judges_the_2xx_no_targeted_check_judged(ctx: CheckContext) -> None:
    ctx.current = REGISTRY["response.every_success"]
    judged = answer(201, customer(id="bad"))
    ctx.judged_success.add(id(judged))
    ctx.log += [
        judged,
        answer(201, customer(id="bad2"), key_ref="raw"),
        answer(400, {"type": "x"}),
        answer(200, [], method="GET"),
    ]
    every_success(ctx)
    assert [(f.clause, f.exchange is ctx.log[1]) for f in ctx.findings if f.kind == "violation"] == [("RES-ID-1", True)]
    coverage = ctx.ledger.get("response.every_success", "RES-ID-1")
    assert (coverage.judged, coverage.required) == (1, 0)


def test_a_replay_under_another_api_key_is_not_a_second_create(ctx: CheckContext) -> None:
    ctx.current = REGISTRY["response.whole_run"]
    same = customer()
    ctx.log += [answer(201, same, idem="k1"), answer(201, same, key_ref="live", idem="k1")]
    whole_run(ctx)
    assert [f for f in ctx.findings if f.kind == "violation"] == []
    ctx.log.append(answer(201, same, idem="k2"))  # another key, the same id: a second create
    whole_run(ctx)
    assert [f.message for f in ctx.findings if f.kind == "violation"] == ["two creates got the same id"]


# -- error answers and corpus cases ------------------------------------------------------------


def test_problem_failures_name_err_3_with_one_title_per_rule() -> None:
    good = {"type": "about:blank", "title": "Bad", "status": 400, "detail": "d", "errors": [{"pointer": "/email"}]}
    problem = "application/problem+json"
    assert list(problem_failures(answer(400, good, media=problem))) == []
    titles = [f.title for f in problem_failures(answer(400, {**good, "status": 422}, media=problem))]
    assert titles == ["problem `status` differs from the HTTP status"]
    failures = list(problem_failures(answer(401, {"error": "no"})))
    assert [(f.clause, f.title) for f in failures] == [("ERR-3", "not problem+json")]


def test_judge_case_reports_on_the_case_clause_and_err_1(ctx: CheckContext) -> None:
    reject = corpora.Case(id="r1", clause="REQ-META-1", description="metadata an array", expect="reject")
    assert corpora.judge_case(ctx, reject, answer(201, customer()))
    assert [(f.clause, f.case) for f in ctx.findings] == [("REQ-META-1", "r1"), ("ERR-1", "r1")]
    ctx.findings.clear()
    strict = corpora.Case(id="r2", clause="REQ-BODY-2", description="xml", expect="reject", status=(415,))
    assert corpora.judge_case(ctx, strict, answer(400, {}))
    assert [(f.message, f.expected) for f in ctx.findings] == [("r2: xml: wrong status", "415")]
    ctx.findings.clear()
    accept = corpora.Case(id="a1", clause="REQ-EMAIL-2", description="plain", expect="accept")
    assert corpora.judge_case(ctx, accept, answer(400, {}))
    assert [f.message for f in ctx.findings] == ["a1: plain: not accepted"]
    ctx.findings.clear()
    may = corpora.Case(id="m1", clause="REQ-EMAIL-4", description="quoted", expect="may")
    assert corpora.judge_case(ctx, may, answer(201, customer()))
    assert [(f.kind, f.message) for f in ctx.findings] == [("note", "m1: quoted: accepted (HTTP 201)")]
    ctx.findings.clear()
    assert corpora.judge_case(ctx, accept, answer(503, {}))  # a 5xx is an answer: it breaks the case, ERR-2 beside
    assert [f.message for f in ctx.findings] == ["a1: plain: answered 503, a 5xx (ERR-2 beside it)"]
    ctx.findings.clear()
    assert not corpora.judge_case(ctx, accept, unanswered())  # no answer at all: ERR-2's alone
    assert ctx.findings == []


def test_a_property_raises_failure_and_the_smallest_is_reported(ctx: CheckContext) -> None:
    from hypothesis import strategies as st

    ctx.current = REGISTRY["request.generated_valid_emails"]

    def test(value: int) -> None:
        if value >= 10:
            raise Failure("REQ-EMAIL-2", f"{value} too big", expected="< 10", actual=str(value))

    ctx.for_all(st.integers(min_value=0, max_value=1000), test, examples=30)
    (finding,) = [f for f in ctx.findings if f.kind == "violation"]
    assert finding.message == "10 too big"  # shrunk to the boundary
    (note,) = ctx.ledger.get("request.generated_valid_emails", "REQ-EMAIL-2").notes
    assert note.startswith("property request.generated_valid_emails: ")
