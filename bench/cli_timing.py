"""Timings outside the load test: CLI start-up, `billing-kit docs`, and the conformance
suite's default run beside a plain `st run` on the same spec against the same server.

A subcommand another engineer has not built yet shows as "n/a (not built yet)".
Requests per second are counted on the server side, from the reference's access log
(one line per request), so both clients are measured the same way.
"""

from __future__ import annotations

import resource
import statistics
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support.procs import BILLING_KIT, ROOT, VENV_BIN
from tests.support.reference import ReferenceServer

NOT_BUILT = "n/a (not built yet)"
SPEC = ROOT / "openapi.yaml"


@dataclass
class Timed:
    seconds: float
    returncode: int
    client_cpu_s: float
    stderr_tail: str


def timed(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 900) -> Timed:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(argv, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, check=False)
    seconds = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-3:])
    return Timed(seconds, done.returncode, cpu, tail)


def available(subcommand: str) -> bool:
    """Whether `billing-kit SUBCOMMAND --help` works (the module behind it exists)."""
    return timed([BILLING_KIT, subcommand, "--help"], timeout=60).returncode == 0


def startup(args: list[str], runs: int) -> dict[str, Any]:
    """Median wall time of `billing-kit ARGS` over `runs` runs (after one warm-up run)."""
    if args[:1] and args[0] != "--help" and not available(args[0]):
        return {"na": NOT_BUILT}
    timed([BILLING_KIT, *args], timeout=60)
    times, cpu = [], []
    for _ in range(runs):
        result = timed([BILLING_KIT, *args], timeout=60)
        if result.returncode != 0:
            return {"na": f"n/a (exit {result.returncode}: {result.stderr_tail})"}
        times.append(result.seconds)
        cpu.append(result.client_cpu_s)
    # CPU time too: on a shared machine it moves far less with the load than wall time does
    # (the tests assert no time at all: these figures were their old limits, 0.5 s and 0.15 s).
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "cpu_median_s": statistics.median(cpu),
        "runs": runs,
    }


def docs(runs: int) -> dict[str, Any]:
    if not available("docs"):
        return {"na": NOT_BUILT}
    times = []
    with tempfile.TemporaryDirectory(prefix="bench-docs-") as tmp:
        for run in range(runs):
            result = timed([BILLING_KIT, "docs", "--out", str(Path(tmp) / f"run{run}")], timeout=120)
            if result.returncode != 0:
                return {"na": f"n/a (exit {result.returncode}: {result.stderr_tail})"}
            times.append(result.seconds)
    return {"median_s": statistics.median(times), "min_s": min(times), "runs": runs}


def _served_requests(reference: ReferenceServer) -> int:
    return sum(1 for line in reference.server.output().splitlines() if line.startswith("{") and '"method"' in line)


def _client_run(argv: list[str], reference: ReferenceServer, work_dir: Path) -> dict[str, Any]:
    before = _served_requests(reference)
    result = timed(argv, cwd=work_dir)
    served = _served_requests(reference) - before
    return {
        "seconds": result.seconds,
        "exit_code": result.returncode,
        "requests": served,
        "rps": served / result.seconds if result.seconds else 0.0,
        "client_cpu_s": result.client_cpu_s,
        "client_cpu_ms_per_request": result.client_cpu_s / served * 1000 if served else None,
    }


def suite_vs_st_run(reference: ReferenceServer, work_dir: Path) -> dict[str, Any]:
    """`billing-kit check`'s default run, then a plain `st run`, on one fresh reference."""
    out: dict[str, Any] = {}
    if available("check"):
        argv = [BILLING_KIT, "check", "--base-url", reference.base_url, "--api-key", reference.sandbox_key]
        out["check"] = _client_run(argv, reference, work_dir)
    else:
        out["check"] = {"na": NOT_BUILT}
    auth = f"Authorization: Bearer {reference.sandbox_key}"
    st_argv = [str(VENV_BIN / "st"), "run", str(SPEC), "--url", reference.base_url, "-H", auth, "--no-color"]
    out["st_run"] = _client_run(st_argv, reference, work_dir)
    return out
