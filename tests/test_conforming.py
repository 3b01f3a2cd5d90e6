"""Conforming servers get no false positive; every clause is caught by the zoo or shown as a MAY choice.

Three conforming implementations, full default runs of `billing-kit check` with
the live key: the Python zoo server in its strict and lenient flavours (opposite
MAY choices: quoted, non-ASCII, IP-literal and single-label emails, duplicate
keys, a BOM, huge numbers, U+0000, metadata caps, media-type parameters) and the
Node.js server (lenient, JavaScript's natural choices). The same runs again with
two CPU busy loops beside them (a shared, busy machine): timing must not turn
into findings. This module runs seed 1; seeds 1-3, quiet and busy, are measured
by `python -m tests.servers.conforming_runs --write` into conforming_runs.json,
which the guide quotes and a test here checks.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from billing_kit.conformance import clauses
from tests.servers import conforming_runs, zoo_runner
from tests.support import procs
from tests.support.tools import require

ROOT = Path(__file__).resolve().parents[1]
TESTED_PAGE = ROOT / "docs" / "guide" / "how-it-is-tested.md"  # quotes the measured counts
# The default test run covers seed 1 (quiet and busy); conforming_runs.json holds seeds 1-3.
SEEDS = (1,)
BUSY_SEEDS = (1,)
BUSY_LOOPS = conforming_runs.BUSY_LOOPS
CONFORMING = conforming_runs.CONFORMING
MAY_CLAUSES = sorted(c.id for c in clauses.CLAUSES if c.level is clauses.Level.MAY)
# One xdist worker runs this module, so each full run happens once and is shared.
pytestmark = pytest.mark.xdist_group("conforming")


@pytest.fixture
def busy_loops() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Two processes spinning on the CPU for the length of the test (on a 2-core machine: all of it)."""
    with procs.busy_loops(BUSY_LOOPS) as loops:
        yield loops


@cache
def full_run(kind: str, flavour: str, seed: int, busy: bool = False) -> zoo_runner.CheckRun:
    """`busy` only keys the cache: the caller holds the busy loops while the run happens."""
    if kind == zoo_runner.NODE:
        require("node", "Node.js 20 runs tests/servers/zoo.mjs")
    return conforming_runs.full_run(kind, flavour, seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize(("kind", "flavour"), CONFORMING, ids=[f"{k}-{f}" for k, f in CONFORMING])
def test_conforming_server_passes(kind: str, flavour: str, seed: int) -> None:
    """Zero FAIL, zero WARN, nothing skipped: every clause judged, no false positive."""
    run = full_run(kind, flavour, seed)
    assert conforming_runs.not_clean(run) == [], run.stderr[-1000:]
    assert run.returncode == 0
    assert {v["clause"] for v in run.report["verdicts"]} == set(clauses.BY_ID)
    assert sorted(run.verdicts("INFO")) == MAY_CLAUSES


@pytest.mark.slow
@pytest.mark.parametrize("seed", BUSY_SEEDS)
@pytest.mark.parametrize(("kind", "flavour"), CONFORMING, ids=[f"{k}-{f}" for k, f in CONFORMING])
def test_conforming_server_passes_with_the_cpu_busy(
    kind: str, flavour: str, seed: int, busy_loops: list[subprocess.Popen[bytes]]
) -> None:
    """The same full run with two busy loops competing for the CPU: still zero FAIL, zero WARN, zero SKIP."""
    run = full_run(kind, flavour, seed, busy=True)
    assert [loop.poll() for loop in busy_loops] == [None] * BUSY_LOOPS, "a busy loop stopped before the run ended"
    assert conforming_runs.not_clean(run) == [], run.stderr[-1000:]
    assert run.returncode == 0


@pytest.mark.slow
def test_polite_overload_is_waited_out_not_failed() -> None:
    """Every 37th request answered 429 with `Retry-After: 1`: the suite waits, retries, and passes the server."""
    with zoo_runner.zoo_server(zoo_runner.PYTHON, extra=["--throttle", "37"]) as target:
        run = zoo_runner.run_check(target, seed=SEEDS[0], examples=None, live=True, timeout=5, max_time=300)
    assert conforming_runs.not_clean(run) == [], run.stderr[-1000:]
    assert run.returncode == 0


def may_outcomes(run: zoo_runner.CheckRun, clause: str) -> dict[str, str]:
    """case -> "accepted" or "rejected", from the clause's INFO notes."""
    entry = next(v for v in run.report["verdicts"] if v["clause"] == clause)
    outcomes = {}
    for evidence in entry["evidence"]:
        status = ((evidence.get("exchange") or {}).get("response") or {}).get("status")
        if evidence.get("kind") == "note" and isinstance(status, int):
            case = evidence.get("case") or evidence["message"].rsplit(": ", 1)[0]
            outcomes[case] = "accepted" if status < 300 else "rejected"
    return outcomes


@pytest.mark.slow
@pytest.mark.parametrize("clause", MAY_CLAUSES)
def test_opposite_may_choices_are_recorded_not_judged(clause: str) -> None:
    """Each MAY clause: INFO for both flavours, and a case one accepted and the other rejected."""
    lenient = full_run(zoo_runner.PYTHON, zoo_runner.LENIENT, SEEDS[0])
    strict = full_run(zoo_runner.PYTHON, zoo_runner.STRICT, SEEDS[0])
    assert lenient.verdict(clause) == strict.verdict(clause) == "INFO"
    chosen, refused = may_outcomes(lenient, clause), may_outcomes(strict, clause)
    opposite = [case for case in chosen if chosen[case] == "accepted" and refused.get(case) == "rejected"]
    assert opposite, f"no case of {clause} shows the opposite choices: {chosen} / {refused}"


def test_every_clause_is_caught_by_a_defect() -> None:
    """Mutation coverage: every MUST and SHOULD clause is the expected catch of some defect in the zoo.

    (test_zoo proves each defect is caught; the MAY clauses are covered by the opposite
    choices above, since no defect can break a MAY.)
    """
    caught = {d["clause"] for d in zoo_runner.defects()}
    judged = {c.id for c in clauses.CLAUSES if c.level is not clauses.Level.MAY}
    assert sorted(judged - caught) == []
    assert caught <= judged


def test_seeds_one_to_three_quiet_and_busy_were_measured_clean() -> None:
    """conforming_runs.json (python -m tests.servers.conforming_runs --write): every server, seed and
    condition ran clean (no FAIL, WARN or SKIP; exit 0), and the guide (how-it-is-tested.md) quotes the count."""
    measured = json.loads(conforming_runs.RUNS_FILE.read_text())
    wanted = {
        (f"{kind}-{flavour}", seed, condition)
        for kind, flavour in conforming_runs.CONFORMING
        for seed in conforming_runs.SEEDS
        for condition in conforming_runs.CONDITIONS
    }
    rows = measured["results"]
    assert {(r["server"], r["seed"], r["condition"]) for r in rows} == wanted
    assert [r for r in rows if not (r["clean"] and r["exit_code"] == 0 and r["not_clean"] == [])] == []
    assert measured["clean"] == measured["runs"] == len(wanted)
    assert f"{measured['clean']}/{measured['runs']} runs clean" in TESTED_PAGE.read_text()


def test_mutation_score_is_measured_for_the_current_zoo() -> None:
    """mutation_score.json (written by `python -m tests.servers.zoo_runner --write`) matches the table."""
    score = json.loads(zoo_runner.SCORE_FILE.read_text())
    measured = {(r["server"], r["name"]) for r in score["results"]}
    assert measured == {(d["server"], d["name"]) for d in zoo_runner.defects()}
    assert score["caught"] == sum(r["caught"] for r in score["results"])
    assert score["defects"] == len(score["results"])
    assert f"{score['caught']}/{score['defects']}" in TESTED_PAGE.read_text()


def test_a_double_in_integer_notation_echoes_equal() -> None:
    """JavaScript echoes the double 2.966404195032817e16 as 29664041950328170: the same value (FINDINGS F1)."""
    from billing_kit.conformance.strategies import json_equal

    assert float(29664041950328170) == 2.966404195032817e16
    assert json_equal({"n": 2.966404195032817e16}, {"n": 29664041950328170})
