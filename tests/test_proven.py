"""The defect classes shipped with the kit (conformance/proven.json), and how a PASS lists them.

The table is the zoo's measurement (`python -m tests.servers.zoo_runner --write`): every
row is a defect of tests/servers/defects.json that was caught, by the checks named. Beside
a PASS, a report lists the defects of that clause that a check which ran to its end is
proven to catch, so an `--only` run that leaves a check out lists fewer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from billing_kit.conformance import proven
from billing_kit.conformance.registry import REGISTRY, load_all
from tests.servers import zoo_runner
from tests.support import forkcli
from tests.support.reference import ReferenceServer


def test_the_table_is_the_zoos_measurement() -> None:
    score = json.loads(zoo_runner.SCORE_FILE.read_text())
    caught = {(r["server"], r["name"]): r for r in score["results"] if r["caught"]}
    table = json.loads(proven.PROVEN_FILE.read_text())
    assert table == zoo_runner.proven_table(score)
    assert {(d["server"], d["name"]) for d in table["defects"]} <= set(caught)
    for row in table["defects"]:
        assert row["checks"] == caught[(row["server"], row["name"])]["checks"]


def test_every_check_named_is_registered_on_the_defects_clause() -> None:
    load_all()
    for defect in proven.known_defects():
        assert defect.checks, defect.name
        for name in defect.checks:
            assert defect.clause in REGISTRY[name].clauses, (defect.name, name)


def test_only_the_checks_that_ran_prove_anything() -> None:
    defect = next(d for d in proven.known_defects() if d.clause == "REQ-LEN-1")
    everything = {(spec.name, clause) for spec in load_all() for clause in spec.clauses}
    listed = proven.caught_by("REQ-LEN-1", everything)
    assert defect in listed and all(d.clause == "REQ-LEN-1" for d in listed)
    assert proven.caught_by("REQ-LEN-1", set()) == []
    one = defect.checks[0]
    alone = proven.caught_by("REQ-LEN-1", {(one, "REQ-LEN-1")})
    assert defect in alone and all(one in d.checks for d in alone)
    assert proven.caught_by("REQ-LEN-1", {(one, "REQ-LEN-2")}) == []  # the check ran, on another clause


def check_report(server: ReferenceServer, tmp_path: Path, *only: str) -> tuple[dict[str, dict[str, Any]], str]:
    path = tmp_path / f"{'-'.join(only)}.json"
    done = forkcli.run(
        ["check", "--base-url", server.base_url, "--api-key", server.sandbox_key,
         "--only", ",".join(only), "--seed", "1", "--examples", "5", "--report-json", str(path)],
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(path.read_text())
    return {str(v["clause"]): v for v in report["verdicts"]}, done.stdout


def test_a_pass_lists_the_known_defects_its_checks_catch(reference_server: ReferenceServer, tmp_path: Path) -> None:
    verdicts, stdout = check_report(reference_server, tmp_path, "REQ-LEN-1")
    entry = verdicts["REQ-LEN-1"]
    assert entry["verdict"] == "PASS"
    names = [d["name"] for d in entry["proven_to_catch"]]
    ran = {(name, "REQ-LEN-1") for name in entry["checks"]}
    assert names == [d.name for d in proven.caught_by("REQ-LEN-1", ran)] and names
    line = next(row for row in stdout.splitlines() if " REQ-LEN-1 " in row)
    assert line.rstrip().endswith(f"catches {len(names)} known defects")
