"""The zoo: every defect of tests/servers/defects.json is caught on its clause.

Each defect runs its own zoo server (Python, or Node.js for the `node` ones) on a
free port, checked by the real `billing-kit check --only <clause>` with few
examples. A MUST defect must get FAIL and exit 1; a SHOULD defect WARN with exit 0
(and, checked once, exit 1 under `--strict`).
"""

from __future__ import annotations

import socket
import subprocess
import sys
from typing import Any
from urllib.parse import urlsplit

import pytest

from billing_kit.conformance import clauses
from tests.servers import zoo_runner
from tests.support.tools import require

DEFECTS = zoo_runner.defects()
VERDICT_OF_LEVEL = {clauses.Level.MUST: "FAIL", clauses.Level.SHOULD: "WARN"}


def defect_id(defect: dict[str, Any]) -> str:
    return f"{defect['server']}:{defect['name']}"


def explain(run: zoo_runner.CheckRun, clause: str) -> str:
    """What the run said, for an assertion message."""
    entry: dict[str, Any] = next((v for v in run.report.get("verdicts", []) if v["clause"] == clause), {})
    evidence = [e.get("message") for e in entry.get("evidence", [])[:3]]
    return (
        f"exit {run.returncode}; {clause}: {entry.get('verdict', 'absent')} {evidence}; "
        f"FAIL on {run.verdicts('FAIL')}, WARN on {run.verdicts('WARN')}; stderr: {run.stderr[-500:]}"
    )


def zoo_params() -> list[Any]:
    params = []
    for defect in DEFECTS:
        marks = []
        if defect.get("suite_gap"):
            reason = f"a known miss ({defect['suite_gap']}); once caught, delete its `suite_gap` in defects.json"
            marks.append(pytest.mark.xfail(strict=True, reason=reason))
        params.append(pytest.param(defect, id=defect_id(defect), marks=marks))
    return params


@pytest.mark.parametrize("defect", zoo_params())
def test_defect_is_caught(defect: dict[str, Any]) -> None:
    if defect["server"] == zoo_runner.NODE:
        require("node", "Node.js 20 runs tests/servers/zoo.mjs")
    clause = defect["clause"]
    with zoo_runner.zoo_server(defect["server"], defect["name"]) as target:
        run = zoo_runner.check_defect(target, defect)
        assert run.verdict(clause) == defect["verdict"], explain(run, clause)
        unproven = [
            v["clause"] for v in run.report["verdicts"] if v["verdict"] in ("FAIL", "WARN") and not v["reproduced"]
        ]
        assert unproven == [], f"FAIL/WARN without `reproduced` (k/N or why not): {unproven}"
        if defect["verdict"] == "FAIL":
            assert run.returncode == defect.get("exit", 1), explain(run, clause)
            return
        assert run.returncode == 0, explain(run, clause)


def test_strict_makes_a_warn_exit_1() -> None:
    """`--strict` on a SHOULD defect: the same WARN, now exit 1 (one defect: the exit code is the CLI's)."""
    defect = next(d for d in DEFECTS if d["verdict"] == "WARN" and d["server"] == zoo_runner.PYTHON)
    clause = defect["clause"]
    with zoo_runner.zoo_server(defect["server"], defect["name"]) as target:
        strict = zoo_runner.check_defect(target, defect, strict=True)
    assert strict.verdict(clause) == "WARN", explain(strict, clause)
    assert strict.returncode == 1, explain(strict, clause)


def test_defect_table_is_consistent() -> None:
    """Unique names per server, clauses from the registry, verdicts that match the clause's level."""
    seen = set()
    for defect in DEFECTS:
        key = defect_id(defect)
        assert key not in seen, f"{key} listed twice"
        seen.add(key)
        assert defect["server"] in (zoo_runner.PYTHON, zoo_runner.NODE), key
        clause = clauses.get(defect["clause"])
        assert defect["verdict"] == VERDICT_OF_LEVEL[clause.level], f"{key}: {clause.id} is {clause.level.value}"
        for only in defect.get("only", []):
            assert only in clauses.BY_ID, f"{key}: unknown clause {only} in `only`"
        assert defect["description"].strip(), key


def test_every_defect_is_wired_into_its_server() -> None:
    """Each name of the table is tested somewhere in its server's code (no defect is a no-op switch)."""
    sources = {
        zoo_runner.PYTHON: "".join(p.read_text() for p in zoo_runner.HERE.glob("zoo*.py")),
        zoo_runner.NODE: zoo_runner.ZOO_MJS.read_text(),
    }
    unwired = [defect_id(d) for d in DEFECTS if f'"{d["name"]}"' not in sources[d["server"]]]
    assert unwired == []
    assert len(zoo_runner.defects(zoo_runner.PYTHON)) >= 25


def accepts_connections(base_url: str) -> bool:
    parts = urlsplit(base_url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 80), timeout=2).close()
    except OSError:
        return False
    return True


def test_a_server_that_dies_after_three_creates_fails_the_run() -> None:
    """`zoo.py --die-after 3` exits after its third 201: the run says when it died, exits 1,
    and no clause is PASS (or FAIL, ERR-2 aside) on requests that got no answer."""
    with zoo_runner.zoo_server(zoo_runner.PYTHON, extra=["--die-after", "3"]) as target:
        assert accepts_connections(target.base_url)
        run = zoo_runner.run_check(target, examples=zoo_runner.ZOO_EXAMPLES, max_time=120)
        alive = accepts_connections(target.base_url)
    assert not alive, "the zoo server still listens after its third create"
    assert run.returncode == 1, explain(run, "ERR-2")
    assert run.verdict("ERR-2") == "FAIL", explain(run, "ERR-2")
    assert len(run.report["created"]) == 3, explain(run, "ERR-2")
    assert "stopped answering at request" in str(run.report["stopped"])
    for verdict in run.report["verdicts"]:
        coverage = verdict["coverage"]
        if verdict["verdict"] == "PASS":
            assert coverage["judged"] >= coverage["required"] > 0, verdict
        if verdict["verdict"] == "FAIL" and verdict["clause"] != "ERR-2":  # a FAIL rests on answers
            assert all(str(e.get("answer")).startswith("HTTP ") for e in verdict["evidence"]), verdict


def test_zoo_refuses_an_unknown_defect() -> None:
    """zoo.py's --defect choices are read from the table."""
    done = subprocess.run(
        [sys.executable, str(zoo_runner.ZOO_PY), "--port", "1", "--keys", "x", "--defect", "no-such-defect"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "invalid choice" in done.stderr
