"""Start a zoo server and run `billing-kit check` against it: shared by the tests and the score.

    python -m tests.servers.zoo_runner [--only-server python|node] [--write]

With `--write` it runs every defect of defects.json and writes the measured
mutation score (defects whose expected clause got the expected verdict, over
all defects) to mutation_score.json, which the guide quotes (docs/guide/how-it-is-tested.md),
and the defect classes the kit is proven to catch, each with its clause and the checks
whose violations caught it, to conformance/proven.json, which ships with the kit and is
listed beside each PASS (conformance/proven.py).
"""

from __future__ import annotations

import argparse
import json
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from billing_kit.conformance.contract import load_contract
from tests.support import forkcli
from tests.support.procs import free_port, run_server

HERE = Path(__file__).resolve().parent
DEFECTS_FILE = HERE / "defects.json"
SCORE_FILE = HERE / "mutation_score.json"
PROVEN_FILE = HERE.parents[1] / "conformance" / "proven.json"
ZOO_PY = HERE / "zoo.py"
ZOO_MJS = HERE / "zoo.mjs"
ZOO_CONTRACT = HERE / "zoo_contract.py"
PYTHON, NODE = "python", "node"
LENIENT, STRICT = "lenient", "strict"
# Few examples: the zoo runs each defect against its own clause only. The request timeout is the
# CLI's default, so a busy machine's slow answer is not judged a hang (ERR-2); the run budget and
# the process timeout (budget + 60 s) are far above a run's usual 5-10 s, for the same reason.
ZOO_EXAMPLES = 5
ZOO_TIMEOUT = 5.0
ZOO_MAX_TIME = 120.0


@dataclass(frozen=True)
class Keys:
    sandbox: str
    live: str
    org: str = "org_zoo1"


@dataclass(frozen=True)
class Target:
    base_url: str
    keys: Keys
    kind: str
    flavour: str
    defect: str | None


@dataclass(frozen=True)
class CheckRun:
    returncode: int
    report: dict[str, Any]
    stdout: str
    stderr: str

    def verdict(self, clause: str) -> str:
        for entry in self.report.get("verdicts", []):
            if entry["clause"] == clause:
                return str(entry["verdict"])
        return "ABSENT"

    def catching_checks(self, clause: str) -> list[str]:
        """The checks whose violations gave the clause its verdict."""
        for entry in self.report.get("verdicts", []):
            if entry["clause"] == clause:
                found = {str(e.get("check") or "") for e in entry.get("evidence", []) if e.get("kind") == "violation"}
                return sorted(found - {""})
        return []

    def verdicts(self, kind: str) -> list[str]:
        return [str(v["clause"]) for v in self.report.get("verdicts", []) if v["verdict"] == kind]


def defects(server: str | None = None) -> list[dict[str, Any]]:
    table = json.loads(DEFECTS_FILE.read_text())
    return [d for d in table["defects"] if server is None or d["server"] == server]


def new_keys() -> Keys:
    contract = load_contract()
    token = secrets.token_hex(10)
    return Keys(
        sandbox=contract.prefix_of_environment(contract.sandbox_environment) + token,
        live=contract.prefix_of_environment(contract.live_environment) + secrets.token_hex(10),
    )


def contract_json(directory: Path) -> Path:
    """The spec's values as JSON, for the Node.js server (printed by zoo_contract.py)."""
    path = directory / "contract.json"
    if not path.exists():
        done = subprocess.run([sys.executable, str(ZOO_CONTRACT)], capture_output=True, text=True, check=True)
        path.write_text(done.stdout)
    return path


def server_argv(
    kind: str, port: int, keys: Keys, flavour: str, defect: str | None, workdir: Path, extra: Sequence[str] = ()
) -> list[str]:
    key_list = f"{keys.sandbox}={keys.org},{keys.live}={keys.org}"
    common = ["--port", str(port), "--keys", key_list, *(["--defect", defect] if defect else [])]
    if kind == PYTHON:
        return [sys.executable, str(ZOO_PY), "--may", flavour, *common, *extra]
    node = shutil.which("node")
    if node is None:
        raise RuntimeError("node is not installed")
    return [node, str(ZOO_MJS), "--contract", str(contract_json(workdir)), *common]


@contextmanager
def zoo_server(
    kind: str,
    defect: str | None = None,
    flavour: str = STRICT,
    workdir: Path | None = None,
    extra: Sequence[str] = (),
) -> Iterator[Target]:
    """A zoo server on a free port; `extra` adds options of the Python server (e.g. --throttle)."""
    keys = new_keys()
    port = free_port()
    with tempfile.TemporaryDirectory() as scratch:
        argv = server_argv(kind, port, keys, flavour, defect, workdir or Path(scratch), extra)
        with run_server(argv, port, ready_path="/") as server:
            yield Target(f"{server.origin}/v1", keys, kind, flavour if kind == PYTHON else LENIENT, defect)


def run_check(
    target: Target,
    *,
    only: Sequence[str] = (),
    seed: int = 1,
    examples: int | None = ZOO_EXAMPLES,
    strict: bool = False,
    live: bool = False,
    timeout: float = ZOO_TIMEOUT,
    max_time: float = ZOO_MAX_TIME,
) -> CheckRun:
    with tempfile.TemporaryDirectory() as scratch:
        report_path = Path(scratch) / "report.json"
        argv = [
            "check", "--base-url", target.base_url, "--api-key", target.keys.sandbox,
            "--seed", str(seed), "--timeout", str(timeout), "--max-time", str(max_time),
            "--report-json", str(report_path),
        ]  # fmt: skip
        if examples is not None:
            argv += ["--examples", str(examples)]
        if only:
            argv += ["--only", ",".join(only)]
        if strict:
            argv.append("--strict")
        if live:
            argv += ["--live-key", target.keys.live, "--allow-live"]
        # Forked from a process that has imported the kit (tests/support/forkcli.py): the same CLI, exit
        # code and outputs as `billing-kit check`, without a second of imports for each of the zoo's runs.
        done = forkcli.run(argv, cwd=scratch, timeout=max_time + 60)
        report = json.loads(report_path.read_text()) if report_path.exists() else {}
        return CheckRun(done.returncode, report, done.stdout, done.stderr)


def check_defect(target: Target, defect: dict[str, Any], strict: bool = False) -> CheckRun:
    """`billing-kit check --only` the defect's clauses, with the live key where it needs one."""
    return run_check(
        target,
        only=defect.get("only", [defect["clause"]]),
        strict=strict,
        live=defect.get("live", False),
        examples=defect.get("examples", ZOO_EXAMPLES),
    )


def judge_defect(defect: dict[str, Any], strict: bool = False) -> CheckRun:
    """One defect: its own server, checked on its clause."""
    with zoo_server(defect["server"], defect["name"]) as target:
        return check_defect(target, defect, strict)


def measure(server: str | None = None) -> dict[str, Any]:
    started = time.monotonic()
    rows = []
    for defect in defects(server):
        run = judge_defect(defect)
        got = run.verdict(defect["clause"])
        rows.append({
            "server": defect["server"], "name": defect["name"], "clause": defect["clause"],
            "expected": defect["verdict"], "got": got, "caught": got == defect["verdict"],
            "checks": run.catching_checks(defect["clause"]),
        })  # fmt: skip
        print(
            f"{defect['server']:6} {defect['name']:28} {defect['clause']:13} {defect['verdict']:4} -> {got}", flush=True
        )
    caught = sum(row["caught"] for row in rows)
    return {
        "caught": caught,
        "defects": len(rows),
        "score": round(caught / len(rows), 3) if rows else 0.0,
        "seconds": round(time.monotonic() - started, 1),
        "missed": [f"{r['server']}:{r['name']} ({r['clause']}: {r['got']})" for r in rows if not r["caught"]],
        "results": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--only-server", choices=(PYTHON, NODE), default=None)
    parser.add_argument("--write", action="store_true", help=f"write {SCORE_FILE.name}")
    args = parser.parse_args()
    score = measure(args.only_server)
    print(f"mutation score: {score['caught']}/{score['defects']} = {score['score']:.1%} in {score['seconds']} s")
    if args.write:
        SCORE_FILE.write_text(json.dumps(score, indent=1, ensure_ascii=False) + "\n")
        if args.only_server is None:
            PROVEN_FILE.write_text(json.dumps(proven_table(score), indent=1, ensure_ascii=False) + "\n")


def proven_table(score: dict[str, Any]) -> dict[str, Any]:
    """The caught defects as the kit ships them: name, clause, what it does, the checks that caught it."""
    described = {(d["server"], d["name"]): d for d in defects()}
    rows = [
        {
            "name": row["name"],
            "server": row["server"],
            "clause": row["clause"],
            "verdict": row["got"],
            "description": described[(row["server"], row["name"])]["description"],
            "checks": row["checks"],
        }
        for row in score["results"]
        if row["caught"] and row["checks"]
    ]
    return {
        "description": (
            "Defect classes the suite is proven to catch: each was planted in a zoo server (tests/servers/), "
            "checked on its clause, and caught by the checks named. Written by "
            "`python -m tests.servers.zoo_runner --write`."
        ),
        "defects": rows,
    }


if __name__ == "__main__":
    main()
