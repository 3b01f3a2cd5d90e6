"""Every conforming server, every seed, quiet and with the CPU busy: the runs the guide quotes.

    python -m tests.servers.conforming_runs [--write]

Full default runs of `billing-kit check` (with the live key) against the three
conforming servers (Python strict, Python lenient, Node.js) on seeds 1-3, each
once on an otherwise quiet machine and once with two busy loops spinning beside
it. A run is clean when it has no FAIL, no WARN, no SKIP and exits 0. With
`--write` the measured table goes to conforming_runs.json;
tests/test_conforming.py checks it covers every server, seed and condition, and
runs seed 1 itself (the default test run would take too long with all of them).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from tests.servers import zoo_runner
from tests.support.procs import busy_loops

HERE = Path(__file__).resolve().parent
RUNS_FILE = HERE / "conforming_runs.json"
SEEDS = (1, 2, 3)
BUSY_LOOPS = 2
CONFORMING = (
    (zoo_runner.PYTHON, zoo_runner.STRICT),
    (zoo_runner.PYTHON, zoo_runner.LENIENT),
    (zoo_runner.NODE, zoo_runner.LENIENT),
)
CONDITIONS = ("quiet", "busy")
FULL_RUN_TIMEOUT = 5.0
FULL_RUN_MAX_TIME = 300.0


def full_run(kind: str, flavour: str, seed: int) -> zoo_runner.CheckRun:
    """The default run, with the live key, against a fresh conforming server."""
    with zoo_runner.zoo_server(kind, None, flavour) as target:
        return zoo_runner.run_check(
            target, seed=seed, examples=None, live=True, timeout=FULL_RUN_TIMEOUT, max_time=FULL_RUN_MAX_TIME
        )


def not_clean(run: zoo_runner.CheckRun) -> list[str]:
    """The FAIL, WARN and SKIP verdicts of a run, with their first messages."""
    out = []
    for entry in run.report.get("verdicts", []):
        if entry["verdict"] in ("FAIL", "WARN", "SKIP"):
            messages = [e.get("message") for e in entry.get("evidence", [])[:3]]
            out.append(f"{entry['clause']} {entry['verdict']}: {entry.get('note') or ''} {messages}")
    return out


def measure() -> dict[str, Any]:
    rows = []
    started = time.monotonic()
    for kind, flavour in CONFORMING:
        for seed in SEEDS:
            for condition in CONDITIONS:
                began = time.monotonic()
                if condition == "busy":
                    with busy_loops(BUSY_LOOPS):
                        run = full_run(kind, flavour, seed)
                else:
                    run = full_run(kind, flavour, seed)
                found = not_clean(run)
                row = {
                    "server": f"{kind}-{flavour}", "seed": seed, "condition": condition,
                    "exit_code": run.returncode, "not_clean": found, "clean": not found and run.returncode == 0,
                    "requests": run.report.get("requests_sent"), "seconds": round(time.monotonic() - began, 1),
                    "flaky": run.report.get("flaky"),
                }  # fmt: skip
                rows.append(row)
                print(f"{row['server']:16} seed {seed} {condition:5} exit {run.returncode} "
                      f"{'clean' if row['clean'] else found} ({row['seconds']} s)", flush=True)  # fmt: skip
    return {
        "clean": sum(r["clean"] for r in rows),
        "runs": len(rows),
        "busy_loops": BUSY_LOOPS,
        "seconds": round(time.monotonic() - started, 1),
        "results": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {RUNS_FILE.name}")
    args = parser.parse_args()
    result = measure()
    print(f"{result['clean']}/{result['runs']} runs clean in {result['seconds']} s")
    if args.write:
        RUNS_FILE.write_text(json.dumps(result, indent=1) + "\n")
    sys.exit(0 if result["clean"] == result["runs"] else 1)


if __name__ == "__main__":
    main()
