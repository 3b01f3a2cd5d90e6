"""The real-stack zoo servers (tests/stacks/<stack>/): their environments, installed by their own files, and a start.

Each stack folder holds the server, the files that install its environment (a
package-lock.json for `npm ci`, a pinned requirements.txt for a venv) and
`ground_truth.json`, the verdict each clause deserves, found by probing the server by
hand. An environment is installed once into the folder (git-ignored) and installed
again when its lock file changes (a stamp holds the lock's hash).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from billing_kit.conformance import clauses
from tests.servers.zoo_runner import CheckRun, Keys, Target, contract_json, new_keys, run_check
from tests.support.procs import ROOT, free_port, run_server
from tests.support.tools import require

STACKS = ROOT / "tests/stacks"
STAMP = ".installed"
# npm ci and pip install on a clean clone, on a busy machine: minutes, not seconds.
INSTALL_TIMEOUT = 900
# The default run takes about 10 s against a fast server; the budget is for a busy machine.
MAX_TIME = 300.0
AGREEMENT_FILE = STACKS / "agreement.json"


@dataclass(frozen=True)
class Stack:
    name: str
    lock: str  # the file whose content decides the environment
    install: Callable[[Path], list[list[str]]]  # the commands, run in the stack's folder
    env_dir: str  # where the environment goes (git-ignored), holding the stamp
    argv: Callable[[Path, int, str, Path, Path], list[str]]  # folder, port, keys, contract, scratch

    @property
    def folder(self) -> Path:
        return STACKS / self.name

    def ground_truth(self) -> dict[str, dict[str, str]]:
        clauses: dict[str, dict[str, str]] = json.loads((self.folder / "ground_truth.json").read_text())["clauses"]
        return clauses


def _npm_ci(folder: Path) -> list[list[str]]:
    npm = require("npm", "make sysdeps installs Node.js 20 and npm")
    return [[npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]]


def _venv(folder: Path) -> list[list[str]]:
    pip = str(folder / ".venv/bin/pip")
    return [[sys.executable, "-m", "venv", str(folder / ".venv")], [pip, "install", "-q", "-r", "requirements.txt"]]


def _fastify_argv(folder: Path, port: int, keys: str, contract: Path, scratch: Path) -> list[str]:
    node = require("node", "make sysdeps installs Node.js 20")
    return [node, str(folder / "server.mjs"), "--port", str(port), "--keys", keys, "--contract", str(contract)]


def _express_argv(folder: Path, port: int, keys: str, contract: Path, scratch: Path) -> list[str]:
    node = require("node", "make sysdeps installs Node.js 20")
    return [node, str(folder / "server.mjs"), "--port", str(port), "--keys", keys, "--contract", str(contract)]


def _fastapi_argv(folder: Path, port: int, keys: str, contract: Path, scratch: Path) -> list[str]:
    python = str(folder / ".venv/bin/python")
    db = scratch / "customers.sqlite3"
    server = str(folder / "server.py")
    return [python, server, "--port", str(port), "--keys", keys, "--contract", str(contract), "--db", str(db)]


FASTIFY = Stack("fastify", "package-lock.json", _npm_ci, "node_modules", _fastify_argv)
FASTAPI = Stack("fastapi", "requirements.txt", _venv, ".venv", _fastapi_argv)
EXPRESS = Stack("express", "package-lock.json", _npm_ci, "node_modules", _express_argv)
ALL = (FASTIFY, EXPRESS, FASTAPI)


def install(stack: Stack) -> None:
    """The stack's environment from its own lock file, unless the stamp says it is already that one."""
    if stack.install is _npm_ci:
        require("node", "make sysdeps installs Node.js 20")
    digest = hashlib.sha256((stack.folder / stack.lock).read_bytes()).hexdigest()
    stamp = stack.folder / stack.env_dir / STAMP
    if stamp.exists() and stamp.read_text() == digest:
        return
    for argv in stack.install(stack.folder):
        done = subprocess.run(
            argv, cwd=stack.folder, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
        )
        if done.returncode != 0:
            output = done.stdout[-2000:] + done.stderr[-3000:]
            raise RuntimeError(f"{' '.join(argv[:3])} failed in {stack.folder}:\n{output}")
    stamp.write_text(digest)


@contextmanager
def stack_server(stack: Stack, scratch: Path) -> Iterator[Target]:
    """The stack's server on a free port with fresh keys of one organisation; yields the target to check."""
    install(stack)
    keys: Keys = new_keys()
    key_list = f"{keys.sandbox}={keys.org},{keys.live}={keys.org}"
    port = free_port()
    argv = stack.argv(stack.folder, port, key_list, contract_json(scratch), scratch)
    with run_server(argv, port, ready_path="/", timeout=60.0) as server:
        yield Target(f"{server.origin}/v1", keys, stack.name, "default", None)


def verdict_reasons(report: dict[str, Any]) -> dict[str, str]:
    """Each clause's one-line reason in a report, for a readable diff."""
    reasons = {}
    for entry in report.get("verdicts", []):
        messages = [str(e.get("message", "")) for e in entry.get("evidence") or [] if e.get("kind") == "violation"]
        summary = str((entry.get("coverage") or {}).get("summary", ""))
        reasons[str(entry["clause"])] = f"{summary}; " + " || ".join(messages[:2])[:240]
    return reasons


# (stack, clause) -> (the verdict the suite gives today, why it is wrong). The true verdict is
# the ground truth's. Remove an entry once the suite gives the true verdict.
SUITE_VERDICTS_KNOWN_WRONG: dict[tuple[str, str], tuple[str, str]] = {}


def expected(stack: Stack) -> dict[str, str]:
    """Per clause, the verdict the run must give: the ground truth, or the listed known-wrong one."""
    truth = {clause: entry["verdict"] for clause, entry in stack.ground_truth().items()}
    for (name, clause), (today, _why) in SUITE_VERDICTS_KNOWN_WRONG.items():
        if name == stack.name:
            truth[clause] = today
    return truth


def diff_table(stack: Stack, run: CheckRun) -> list[str]:
    """One entry per clause whose verdict is not the expected one: suite, expected, truth, and both reasons."""
    truth = stack.ground_truth()
    want = expected(stack)
    reasons = verdict_reasons(run.report)
    rows = []
    for clause in (c.id for c in clauses.CLAUSES):
        got = run.verdict(clause)
        if got == want.get(clause):
            continue
        known = SUITE_VERDICTS_KNOWN_WRONG.get((stack.name, clause))
        note = f" (listed as known wrong: {known[1]})" if known else ""
        rows.append(
            f"{clause:14} suite {got:6} expected {want.get(clause, '?'):6} truth {truth[clause]['verdict']:5}{note}\n"
            f"{'':14} suite says: {reasons.get(clause, '-')}\n"
            f"{'':14} truth: {truth[clause]['why'][:300]}"
        )
    return rows


def check_stack(stack: Stack, seed: int) -> CheckRun:
    """The default run of `billing-kit check` (both keys) on a fresh server of the stack."""
    with tempfile.TemporaryDirectory() as scratch, stack_server(stack, Path(scratch)) as target:
        return run_check(target, seed=seed, examples=None, live=True, max_time=MAX_TIME)


def measure(seeds: list[int]) -> dict[str, Any]:
    """Per stack and seed: how many clause verdicts equal the ground truth, and which do not."""
    rows = []
    for stack in ALL:
        truth = stack.ground_truth()
        for seed in seeds:
            run = check_stack(stack, seed)
            wrong = {c: run.verdict(c) for c in truth if run.verdict(c) != truth[c]["verdict"]}
            rows.append({
                "stack": stack.name, "seed": seed, "clauses": len(truth),
                "equal_to_truth": len(truth) - len(wrong),
                "differ": {c: {"suite": v, "truth": truth[c]["verdict"],
                               "known_wrong": (stack.name, c) in SUITE_VERDICTS_KNOWN_WRONG} for c, v in wrong.items()},
                "unlisted_differences": len(diff_table(stack, run)),
                "requests_sent": run.report.get("requests_sent"),
                "duration_seconds": run.report.get("duration_seconds"),
            })  # fmt: skip
            print(
                f"{stack.name:8} seed {seed}: {rows[-1]['equal_to_truth']}/{len(truth)} equal to the truth", flush=True
            )
    command = "python -m tests.support.stacks --seeds " + " ".join(map(str, seeds)) + " --write"
    return {"date": datetime.now(UTC).date().isoformat(), "command": command, "runs": rows}


def main() -> None:
    parser = argparse.ArgumentParser(description="The suite's verdicts on the real stacks against their ground truth")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--write", action="store_true", help=f"write {AGREEMENT_FILE.relative_to(ROOT)}")
    args = parser.parse_args()
    result = measure(args.seeds)
    if args.write:
        AGREEMENT_FILE.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
