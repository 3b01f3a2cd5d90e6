"""What confirmation (--confirm N) costs: the default run with --confirm 2 against --confirm 0.

    python -m bench.confirm_cost [--runs 3] [--defect id-wrong-prefix --defect validation-off] [--seed 1]

Against the reference nothing fails, so nothing is sent again; against a zoo
server with one defect every FAIL/WARN is sent twice more (scenarios once).
Printed as ratios of wall time and of requests sent (from the JSON report), the
median of `--runs` runs each, so a busy machine shows in both sides alike.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers import zoo_runner
from tests.support.procs import BILLING_KIT
from tests.support.reference import start_reference_server


@dataclass(frozen=True)
class Target:
    name: str
    base_url: str
    api_key: str
    live_key: str


@dataclass(frozen=True)
class Measured:
    seconds: float
    requests: int
    flaky: int
    confirmed: int


@contextmanager
def reference() -> Iterator[Target]:
    with tempfile.TemporaryDirectory() as scratch, start_reference_server(Path(scratch)) as server:
        yield Target("reference", server.base_url, server.sandbox_key, server.live_key)


@contextmanager
def zoo(defect: str) -> Iterator[Target]:
    with zoo_runner.zoo_server(zoo_runner.PYTHON, defect) as server:
        yield Target(f"zoo --defect {defect}", server.base_url, server.keys.sandbox, server.keys.live)


def run_once(target: Target, confirm: int, seed: int) -> Measured:
    with tempfile.TemporaryDirectory() as scratch:
        report = Path(scratch) / "report.json"
        argv = [
            BILLING_KIT, "check", "--base-url", target.base_url, "--api-key", target.api_key,
            "--live-key", target.live_key, "--allow-live", "--seed", str(seed),
            "--confirm", str(confirm), "--report-json", str(report),
        ]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(argv, capture_output=True, text=True, check=False, timeout=900)
        seconds = time.perf_counter() - started
        if not report.exists():
            raise RuntimeError(f"no report (exit {done.returncode}): {done.stderr[-500:]}")
        document = json.loads(report.read_text())
    flaky = confirmed = 0
    for verdict in document["verdicts"]:
        for evidence in verdict["evidence"]:
            confirmed += evidence.get("confirmations") is not None
            flaky += bool(evidence.get("flaky"))
    return Measured(seconds, int(document["requests_sent"]), flaky, confirmed)


def compare(target: Target, runs: int, seed: int) -> dict[str, float]:
    on: list[Measured] = []
    off: list[Measured] = []
    for index in range(runs):  # alternated, so a machine getting busier weighs on both sides
        pair = [(on, 2), (off, 0)] if index % 2 == 0 else [(off, 0), (on, 2)]
        for into, confirm in pair:
            into.append(run_once(target, confirm, seed))
    time_on, time_off = statistics.median(m.seconds for m in on), statistics.median(m.seconds for m in off)
    req_on, req_off = statistics.median(m.requests for m in on), statistics.median(m.requests for m in off)
    return {
        "seconds_confirm_2": round(time_on, 2),
        "seconds_confirm_0": round(time_off, 2),
        "time_ratio": round(time_on / time_off, 3),
        "requests_confirm_2": req_on,
        "requests_confirm_0": req_off,
        "request_ratio": round(req_on / req_off, 3),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--defect", action="append", help="a Python zoo defect that fails (repeatable)")
    args = parser.parse_args(argv)
    targets: list[tuple[str, Any]] = [("reference", reference)]
    for defect in args.defect or ["id-wrong-prefix", "validation-off"]:
        targets.append((f"zoo:{defect}", lambda defect=defect: zoo(defect)))
    results = {}
    for name, factory in targets:
        with factory() as target:
            results[name] = compare(target, args.runs, args.seed)
        row = results[name]
        print(
            f"{name:28} --confirm 2 / --confirm 0: time x{row['time_ratio']} "
            f"({row['seconds_confirm_2']} s / {row['seconds_confirm_0']} s), "
            f"requests x{row['request_ratio']} ({row['requests_confirm_2']} / {row['requests_confirm_0']})",
            flush=True,
        )
    print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
