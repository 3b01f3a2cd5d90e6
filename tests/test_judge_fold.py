"""The verdict fold and the evidence ledger on canned findings and exchanges (no server).

`runner.fold` turns findings and the ledger into one verdict per clause: a
violation by the clause's level, SKIP (with the reason) without judged answers,
INFO for a MAY, PASS otherwise. The ledger counts what each check planned, sent,
got answered and judged.
"""

from __future__ import annotations

import pytest

from billing_kit.conformance import clauses, execute, runner
from billing_kit.conformance.clauses import Level
from billing_kit.conformance.http import TargetStopped
from billing_kit.conformance.ledger import CASES_KEPT, UNSENDABLE, Entry, Ledger, coverage_of, unsendable, was_sent
from billing_kit.conformance.model import ClauseVerdict, Coverage, Finding, Verdict
from tests.support.canned import CONTRACT, check_spec, exchange_with_status, unanswered

MUST = next(c for c in clauses.CLAUSES if c.level is Level.MUST)
SHOULD = next(c for c in clauses.CLAUSES if c.level is Level.SHOULD)
MAY = next(c for c in clauses.CLAUSES if c.level is Level.MAY)
NOT_SENT = unanswered(f"{UNSENDABLE} refused the header")


def only_verdict(verdicts: list[ClauseVerdict], clause: str) -> ClauseVerdict:
    (verdict,) = [v for v in verdicts if v.clause == clause]
    return verdict


def judged_run(check: str, clause: str, statuses: list[int | None]) -> runner.Outcome:
    ledger = Ledger()
    for status in statuses:
        ledger.auto(check, (clause,), exchange_with_status(status))
    return runner.Outcome(completed={(check, clause)}, ledger=ledger)


def violation(clause: str, check: str = "c.one", kind: str = "violation", message: str = "broken") -> Finding:
    return Finding(clause, kind, message, check=check)  # type: ignore[arg-type]


# -- verdicts --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("clause", "verdict"), [(MUST, Verdict.FAIL), (SHOULD, Verdict.WARN), (MAY, Verdict.INFO)], ids=str
)
def test_a_violation_takes_the_level_of_its_clause(clause: clauses.Clause, verdict: Verdict) -> None:
    outcome = judged_run("c.one", clause.id, [400])
    found = violation(clause.id)
    note = violation(clause.id, kind="note", message="chose")
    result = only_verdict(
        runner.fold([found, note, violation("ERR-2")], [check_spec("c.one", clause.id)], outcome, ()), clause.id
    )
    assert result.verdict is verdict
    assert result.findings == [found, note] and result.violations == [found]
    assert (result.level, result.title, result.checks) == (clause.level.value, clause.title, ["c.one"])
    assert result.note == ""


def test_pass_on_every_probe_judged_and_info_for_a_may() -> None:
    specs = [check_spec("c.one", MUST.id, MAY.id)]
    ledger = Ledger()
    for status in (201, 400):
        ledger.auto("c.one", (MUST.id, MAY.id), exchange_with_status(status))
    outcome = runner.Outcome(completed={("c.one", MUST.id), ("c.one", MAY.id)}, ledger=ledger)
    verdicts = runner.fold([], specs, outcome, ())
    assert [v.clause for v in verdicts] == [c.id for c in clauses.CLAUSES]
    must = only_verdict(verdicts, MUST.id)
    assert (must.verdict, must.note, must.findings) == (Verdict.PASS, "", [])
    assert must.coverage == Coverage(planned=2, sent=2, answered=2, judged=2, required=2, cases=["c.one"])
    assert only_verdict(verdicts, MAY.id).verdict is Verdict.INFO


def test_a_set_of_completed_pairs_still_folds() -> None:
    """The older call shape: `ran` a set of (check, clause) pairs, no ledger."""
    specs = [check_spec("c.one", MUST.id, minimum=0)]
    result = only_verdict(runner.fold([violation(MUST.id)], specs, {("c.one", MUST.id)}, ()), MUST.id)
    assert result.verdict is Verdict.FAIL


def test_requirements_are_rendered_from_the_contract_when_given() -> None:
    rendered = {c.id: c.requirement for c in clauses.for_contract(CONTRACT)}
    templated = [c for c in clauses.CLAUSES if c.requirement != rendered[c.id]]
    assert templated, "some requirement names a spec value"
    clause = templated[0]
    specs = [check_spec("c.one", clause.id)]
    outcome = judged_run("c.one", clause.id, [400])
    assert only_verdict(runner.fold([], specs, outcome, (), CONTRACT), clause.id).requirement == rendered[clause.id]
    assert only_verdict(runner.fold([], specs, outcome, ()), clause.id).requirement == clause.requirement


def test_only_keeps_its_clauses_and_violations_of_checks_that_always_run() -> None:
    specs = [check_spec("c.one", MUST.id), check_spec("c.all", "ERR-2", always=True), check_spec("c.two", SHOULD.id)]
    outcome = judged_run("c.one", MUST.id, [400])
    assert [v.clause for v in runner.fold([], specs, outcome, (MUST.id,))] == [MUST.id]
    found = [violation("ERR-2", check="c.all"), violation(SHOULD.id, check="c.two")]
    verdicts = runner.fold(found, specs, outcome, (MUST.id,))
    assert [v.clause for v in verdicts] == sorted([MUST.id, "ERR-2"], key=[c.id for c in clauses.CLAUSES].index)
    assert only_verdict(verdicts, "ERR-2").verdict is Verdict.FAIL


# -- SKIP and why ----------------------------------------------------------------------------------


def test_unanswered_probes_leave_skip_with_the_count() -> None:
    outcome = judged_run("c.one", MUST.id, [None, None, 400])
    result = only_verdict(runner.fold([], [check_spec("c.one", MUST.id)], outcome, ()), MUST.id)
    assert result.verdict is Verdict.SKIP
    assert result.note == "2 of 3 cases unanswered (c.one: 1 of 3 required answers judged)"
    assert result.coverage.note == "c.one: 1 of 3 required answers judged"
    assert (result.coverage.planned, result.coverage.sent, result.coverage.answered) == (3, 3, 1)


def test_a_minimum_lowers_what_a_pass_needs_and_an_explicit_requirement_overrides_it() -> None:
    outcome = judged_run("c.one", MUST.id, [None, None, 400])
    specs = [check_spec("c.one", MUST.id, minimum=1)]
    result = only_verdict(runner.fold([], specs, outcome, ()), MUST.id)
    assert (result.verdict, result.coverage.required) == (Verdict.PASS, 1)
    outcome.ledger.evidence("c.one", MUST.id, 2, required=3)  # explicit evidence replaces the automatic count
    result = only_verdict(runner.fold([], specs, outcome, ()), MUST.id)
    assert (result.verdict, result.coverage.judged, result.coverage.required) == (Verdict.SKIP, 2, 3)
    assert result.note == "1 of 3 cases unanswered (c.one: 2 of 3 required answers judged)"


def test_nothing_judged_is_skip_even_when_nothing_was_required() -> None:
    specs = [check_spec("c.one", MUST.id, minimum=0)]
    outcome = judged_run("c.one", MUST.id, [None, None])
    result = only_verdict(runner.fold([], specs, outcome, ()), MUST.id)
    assert (result.verdict, result.note) == (Verdict.SKIP, "2 of 2 cases unanswered: no judged answer")
    assert result.coverage.note == ""
    empty = runner.Outcome(completed={("c.one", MUST.id)})
    result = only_verdict(runner.fold([], specs, empty, ()), MUST.id)
    assert (result.verdict, result.note) == (Verdict.SKIP, "not judged: the run ended before its checks ran")


def test_a_clause_without_a_check_says_so() -> None:
    result = only_verdict(runner.fold([], [], runner.Outcome(), ()), MUST.id)
    assert (result.verdict, result.note, result.checks) == (
        Verdict.SKIP,
        "no check of this clause is registered yet",
        [],
    )


def test_a_check_that_gave_up_gives_its_reason_unless_another_judged() -> None:
    specs = [check_spec("c.one", MUST.id), check_spec("c.two", MUST.id)]
    outcome = judged_run("c.two", MUST.id, [400])
    outcome.completed.add(("c.one", MUST.id))
    gave_up = [
        violation(MUST.id, check="c.one", kind="inconclusive", message="no key"),
        violation(MUST.id, check="c.one", kind="inconclusive", message="second reason"),
    ]
    assert only_verdict(runner.fold(gave_up, specs, outcome, ()), MUST.id).verdict is Verdict.PASS
    alone = runner.Outcome(completed={("c.one", MUST.id)})
    result = only_verdict(runner.fold(gave_up, specs[:1], alone, ()), MUST.id)
    assert (result.verdict, result.note) == (Verdict.SKIP, "no key")
    other = [violation(MUST.id, check="c.two", kind="inconclusive", message="not mine")]
    result = only_verdict(runner.fold(other, specs[:1], judged_run("c.one", MUST.id, [400]), ()), MUST.id)
    assert result.verdict is Verdict.PASS


def test_a_crash_is_never_a_pass_and_its_error_is_the_note() -> None:
    specs = [check_spec("c.one", MUST.id), check_spec("c.two", MUST.id)]
    outcome = judged_run("c.one", MUST.id, [400])
    outcome.completed.add(("c.two", MUST.id))
    outcome.crashed["c.two"] = "KeyError: 'id'"
    result = only_verdict(runner.fold([], specs, outcome, ()), MUST.id)
    assert (result.verdict, result.note) == (Verdict.SKIP, "internal error in c.two: KeyError: 'id'")
    assert result.coverage.note == "internal error in c.two: KeyError: 'id'"
    assert outcome.internal_errors == ["c.two: KeyError: 'id'"]


def test_an_unfinished_check_blocks_a_pass_and_says_why() -> None:
    specs = [check_spec("c.one", MUST.id), check_spec("c.two", MUST.id)]
    outcome = judged_run("c.one", MUST.id, [400])
    outcome.ledger.auto("c.two", (MUST.id,), exchange_with_status(400))
    outcome.ledger.auto("c.two", (MUST.id,), exchange_with_status(400))
    result = only_verdict(runner.fold([], specs, outcome, ()), MUST.id)
    assert (result.verdict, result.note) == (
        Verdict.SKIP,
        "not judged: c.two did not finish: the run ended before its checks ran",
    )
    assert (result.coverage.planned, result.coverage.judged, result.coverage.required) == (3, 3, 3)
    outcome.exhausted = True
    result = only_verdict(runner.fold([], specs, outcome, ()), MUST.id)
    budget = "the run budget (--max-time) ran out before its checks finished"
    assert result.note == f"not judged: c.two did not finish: {budget}"
    unstarted = runner.Outcome(completed=set(outcome.completed), ledger=outcome.ledger, exhausted=True)
    result = only_verdict(runner.fold([], [check_spec("c.three", MUST.id)], unstarted, ()), MUST.id)
    assert (result.note, result.coverage.required) == (f"1 of 1 cases unanswered (c.three did not finish: {budget})", 1)


def test_a_stopped_target_is_the_reason_of_every_unfinished_clause() -> None:
    specs = [check_spec("c.one", MUST.id), check_spec("c.two", MUST.id)]
    outcome = judged_run("c.one", MUST.id, [400])
    outcome.stopped = execute.stop_reason(TargetStopped("connection refused", 371, 12.43))
    assert outcome.stopped == "the server stopped answering at request 371, 12.4 s into the run"
    result = only_verdict(runner.fold([], specs, outcome, ()), MUST.id)
    assert (result.verdict, result.note) == (Verdict.SKIP, f"1 of 2 cases unanswered: {outcome.stopped}")
    assert result.coverage.note == f"c.two did not finish: {outcome.stopped}"
    found = violation(MUST.id)
    assert only_verdict(runner.fold([found], specs, outcome, ()), MUST.id).verdict is Verdict.FAIL


def test_skip_notes_in_every_order_of_precedence() -> None:
    stopped = runner.Outcome(stopped="stopped at 3")
    internal = ["c.one did not finish: x", "internal error in c.two: boom"]
    assert runner._skip_note(4, 1, internal, ["r"], True, stopped) == "internal error in c.two: boom"
    assert runner._skip_note(4, 1, ["b"], ["r"], True, stopped) == "3 of 4 cases unanswered: stopped at 3"
    assert runner._skip_note(0, 0, ["b"], [], True, stopped) == "not judged: stopped at 3"
    assert runner._skip_note(1, 1, [], ["r"], True, stopped) == "r"
    plain = runner.Outcome()
    assert runner._skip_note(4, 1, ["b1", "b2"], ["r"], True, plain) == "3 of 4 cases unanswered (b1)"
    assert runner._skip_note(1, 1, ["b1", "b2"], ["r"], True, plain) == "not judged: b1"
    assert runner._skip_note(2, 0, [], ["r1", "r2"], False, plain) == "r1"
    assert runner._skip_note(2, 0, [], [], False, plain) == "no check of this clause is registered yet"
    assert runner._skip_note(2, 1, [], [], True, plain) == "1 of 2 cases unanswered: no judged answer"
    assert runner._skip_note(0, 0, [], [], True, plain) == "not judged: the run ended before its checks ran"


def test_required_answers_come_from_the_ledger_then_the_minimum_then_the_probes() -> None:
    entry = Entry(planned=4)
    assert runner._required(check_spec("c", MUST.id), entry) == 4
    assert runner._required(check_spec("c", MUST.id, minimum=0), entry) == 0
    assert runner._required(check_spec("c", MUST.id, minimum=2), Entry(planned=4, required=1)) == 1
    assert runner._required(check_spec("c", MUST.id), Entry(planned=4, required=0)) == 0


# -- the ledger ------------------------------------------------------------------------------------


def test_what_counts_as_sent_and_as_sendable() -> None:
    assert unsendable(NOT_SENT) and not was_sent(NOT_SENT)
    refused = unanswered()
    assert not unsendable(refused) and was_sent(refused)
    budget = unanswered("not sent: the run budget ran out")
    assert not unsendable(budget) and not was_sent(budget)
    no_error = unanswered("")
    no_error.error = None
    assert not unsendable(no_error) and was_sent(no_error)
    answered = exchange_with_status(400)
    answered.error = UNSENDABLE
    assert not unsendable(answered) and was_sent(answered)


def test_entries_count_planned_sent_answered_judged() -> None:
    entry = Entry()
    entry.count(None, None, "planned-only")
    entry.count(unanswered("not sent: the run budget ran out"), None, "budget")
    entry.count(unanswered(), None, "refused")
    entry.count(exchange_with_status(500), None, "five")
    entry.count(exchange_with_status(400), None, "four")
    entry.count(exchange_with_status(400), False, "unjudged")
    entry.count(exchange_with_status(500), True, "judged-anyway")
    # a 5xx is an answer (counted answered) but judged only where a check says it judged it
    assert (entry.planned, entry.sent, entry.answered, entry.judged) == (7, 5, 4, 2)
    assert entry.cases == ["four", "judged-anyway"]


def test_an_entry_keeps_each_case_once_up_to_its_cap() -> None:
    entry = Entry()
    for index in range(CASES_KEPT + 5):
        entry.add_case(f"c{index}")
        entry.add_case(f"c{index}")
    entry.add_case("")
    assert entry.cases == [f"c{index}" for index in range(CASES_KEPT)]


def test_auto_counts_every_clause_of_the_check_and_skips_the_unsendable() -> None:
    ledger = Ledger()
    ledger.auto("c.one", (MUST.id, SHOULD.id), exchange_with_status(400))
    ledger.auto("c.one", (MUST.id, SHOULD.id), NOT_SENT)
    for clause in (MUST.id, SHOULD.id):
        entry = ledger.get("c.one", clause)
        assert (entry.planned, entry.judged, entry.cases) == (1, 1, ["c.one"])
    assert ledger.get("c.two", MUST.id) == Entry()


def test_explicit_probes_replace_the_automatic_count_of_their_check() -> None:
    ledger = Ledger()
    ledger.auto("c.one", (MUST.id, SHOULD.id), exchange_with_status(400))
    ledger.note("c.one", MUST.id, "auto note")
    ledger.probe("c.one", MUST.id, exchange_with_status(400), case="case-1")
    ledger.probe("c.one", MUST.id, exchange_with_status(201), case="case-2", judged=False)
    ledger.probe("c.one", MUST.id, None, case="case-3")
    ledger.probe("c.one", MUST.id, NOT_SENT, case="case-4")
    ledger.probe("c.one", MUST.id, exchange_with_status(400))
    ledger.note("c.one", MUST.id, "explicit note")
    entry = ledger.get("c.one", MUST.id)
    assert (entry.planned, entry.sent, entry.answered, entry.judged) == (4, 3, 3, 2)
    assert entry.cases == ["case-1", "c.one"]
    assert entry.notes == ["auto note", "explicit note"]
    assert ledger.get("c.one", SHOULD.id) == Entry(), "only explicit probes count once there is one"


def test_reading_an_entry_twice_gives_the_same_notes() -> None:
    ledger = Ledger()
    ledger.note("c.one", MUST.id, "auto note")
    ledger.probe("c.one", MUST.id, exchange_with_status(400))
    first = list(ledger.get("c.one", MUST.id).notes)
    assert ledger.get("c.one", MUST.id).notes == first == ["auto note"]


def test_evidence_counts_answers_of_the_run_and_may_set_the_requirement() -> None:
    ledger = Ledger()
    ledger.evidence("c.run", MUST.id, 0, case="every 4xx")
    entry = ledger.get("c.run", MUST.id)
    assert (entry.planned, entry.judged, entry.required, entry.cases) == (0, 0, None, [])
    ledger.evidence("c.run", MUST.id, 3, required=1, case="every 4xx")
    ledger.evidence("c.run", MUST.id, 2)
    entry = ledger.get("c.run", MUST.id)
    assert (entry.planned, entry.sent, entry.answered, entry.judged) == (5, 5, 5, 5)
    assert (entry.required, entry.cases) == (1, ["every 4xx", "c.run"])
    ledger.evidence("c.run", MUST.id, 1, required=0)
    assert ledger.get("c.run", MUST.id).required == 0


def test_notes_go_where_the_check_counts() -> None:
    ledger = Ledger()
    ledger.note("c.auto", MUST.id, "n1")
    assert ledger.get("c.auto", MUST.id).notes == ["n1"]
    ledger.evidence("c.explicit", MUST.id, 1)
    ledger.note("c.explicit", MUST.id, "n2")
    assert ledger.get("c.explicit", MUST.id).notes == ["n2"]


def test_coverage_sums_the_entries_of_a_clause() -> None:
    first = Entry(planned=3, sent=2, answered=2, judged=1, cases=["a", "b"], notes=["n1"])
    second = Entry(planned=5, sent=5, answered=4, judged=4, cases=["b", "c"], notes=["n2"])
    coverage = coverage_of([(first, 3), (second, 1)], note="lead")
    assert coverage == Coverage(8, 7, 6, 5, 4, ["a", "b", "c"], "lead; n1; n2")
    assert coverage_of([(first, 3)]).note == "n1"
    many = Entry(cases=[f"x{i}" for i in range(CASES_KEPT)])
    more = Entry(cases=["y"])
    assert coverage_of([(many, 0), (more, 0)]).cases == many.cases
    assert coverage_of([]) == Coverage()
