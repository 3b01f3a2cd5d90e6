"""The suite's verdicts on servers built with real frameworks at their defaults, against a hand-probed truth.

Each stack of tests/stacks/ (Fastify 5 with its default Ajv; Express 5 with express.json();
FastAPI + pydantic 2 on SQLite) is installed from its own lock file, started on a free port and checked by
`billing-kit check --report-json` (the default run, both keys). Every clause's verdict
must equal the one in the stack's `ground_truth.json`, which was established by probing
the server by hand before the suite ever ran on it; a mismatch prints the whole diff.

    .venv/bin/python -m pytest tests/test_real_stacks.py -n 0 -q

Where the suite is known to be wrong today, the clause is listed in
`SUITE_VERDICTS_KNOWN_WRONG` with what the suite says and why: the test expects that
wrong verdict, so a fix of the suite makes the test fail until the entry is removed.
"""

from __future__ import annotations

import pytest

from billing_kit.conformance import clauses
from tests.support.stacks import (
    ALL,
    INSTALL_TIMEOUT,
    MAX_TIME,
    SUITE_VERDICTS_KNOWN_WRONG,
    Stack,
    check_stack,
    diff_table,
    expected,
)

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("real_stacks")]

SEED = 1


@pytest.mark.parametrize("stack", ALL, ids=[s.name for s in ALL])
def test_ground_truth_names_every_clause(stack: Stack) -> None:
    truth = stack.ground_truth()
    assert sorted(truth) == sorted(c.id for c in clauses.CLAUSES)
    for clause, entry in truth.items():
        assert entry["verdict"] in {"PASS", "FAIL", "WARN", "INFO", "SKIP"}, clause
        assert entry["why"].strip(), clause
    for name, clause in SUITE_VERDICTS_KNOWN_WRONG:
        assert clause in truth, f"{name}: {clause}"


@pytest.mark.timeout(MAX_TIME + INSTALL_TIMEOUT + 120)  # + installing the environment on a clean clone
@pytest.mark.parametrize("stack", ALL, ids=[s.name for s in ALL])
def test_suite_verdicts_equal_the_hand_probed_truth(stack: Stack) -> None:
    run = check_stack(stack, SEED)
    assert run.report, f"no report (exit {run.returncode}):\n{run.stdout[-3000:]}\n{run.stderr[-3000:]}"
    rows = diff_table(stack, run)
    assert not rows, f"{stack.name}: {len(rows)} clause verdicts differ from the expected ones\n" + "\n".join(rows)
    # FAIL verdicts exit 1: the report above is what is compared, the exit code only has to agree with it.
    assert run.returncode == (1 if "FAIL" in expected(stack).values() else 0), run.stdout[-2000:]
