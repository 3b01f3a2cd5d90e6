"""`check --until RATE` against one fresh reference server: how long, and which clause holds it.

    .venv/bin/python -m bench.until [--rate 1e-3] [--workers 2] [--seed 1] [--duration 25m] [--out FILE]

The figures are written to --out, by default `bench/results/until-<UTC time>.json`.

One reference server (`billing-kit serve`, a throwaway data directory and key) is
checked once with `billing-kit check --until RATE --workers N --report-json …` (with
--duration, that ceiling instead of the default 600 s of rounds). The
report's `options.deep.until` says when each clause reached the rate (seconds into the
run); its `series` gives each clause's cases over time. Printed and written (--out): the
wall time of the command, the exit code, the deep phase's requests and rounds, and per
clause the second it got there and its share of the time the rounds took to bring every
clause there (the last one is what a faster --until must speed up), or its cases when the
rounds ended short of it. The load average is
printed with the figures because the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench import servers
from bench.report import RESULTS_DIR

VENV_BIN = Path(sys.executable).parent


def measure(rate: str, workers: int, seed: int, duration: str | None = None) -> dict[str, Any]:
    from billing_kit.conformance.contract import load_contract

    contract = load_contract()
    reference = next(kind for kind in servers.KINDS if kind.name == "reference")
    with (
        tempfile.TemporaryDirectory(prefix="bench-until-") as tmp,
        servers.start(reference, Path(tmp), contract) as running,
    ):
        report = Path(tmp) / "report.json"
        argv = [
            str(VENV_BIN / "billing-kit"), "check", "--base-url", running.server.origin + contract.base_path,
            "--api-key", running.key, "--seed", str(seed), "--workers", str(workers), "--until", rate,
            "--report-json", str(report), *(["--duration", duration] if duration else []),
        ]  # fmt: skip
        started = time.monotonic()
        done = subprocess.run(argv, capture_output=True, text=True, check=False)
        seconds = time.monotonic() - started
        document = json.loads(report.read_text(encoding="utf-8"))
    deep = document["options"]["deep"]
    until = deep["until"]
    last = max(until["reached"].values(), default=0.0)
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "command": f"billing-kit check --until {rate} --workers {workers} --seed {seed}"
        + (f" --duration {duration}" if duration else ""),
        "exit_code": done.returncode,
        "seconds": round(seconds, 1),
        "deep_requests": deep.get("requests"),
        "deep_rounds": deep.get("rounds"),
        "cases": until["cases"],
        "all_reached": until["all_reached"],
        "reached": until["reached"],
        "share_of_time": {c: round(t / last, 3) if last else None for c, t in until["reached"].items()},
        "short": until["short"],
        "outside_deep_rounds": until["outside_deep_rounds"],
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rate", default="1e-3")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--duration", help="the rounds' ceiling (default: --until's own, 600 s)")
    parser.add_argument(
        "--out", type=Path, help="write the figures as JSON (default: bench/results/until-<UTC time>.json)"
    )
    args = parser.parse_args(argv)
    figures = measure(args.rate, args.workers, args.seed, args.duration)
    print(f"{figures['command']}: exit {figures['exit_code']}, {figures['seconds']} s wall")
    print(f"  deep phase: {figures['deep_requests']} requests in {figures['deep_rounds']} rounds")
    for clause, at in figures["reached"].items():
        print(f"  {clause:<14} at the rate after {at:>7.1f} s ({figures['share_of_time'][clause]:.0%} of the time)")
    for clause, cases in figures["short"].items():
        print(f"  {clause:<14} short of it: {cases} of {figures['cases']} cases")
    if figures["outside_deep_rounds"]:
        print(f"  not judged by deep rounds: {', '.join(figures['outside_deep_rounds'])}")
    print(f"  load average {figures['load_average']}")
    out = args.out or RESULTS_DIR / f"until-{time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())}.json"
    out.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(f"  written to {out}")


if __name__ == "__main__":
    main()
