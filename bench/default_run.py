"""The figures the README and the guide quote for everyday commands, measured in one run.

    .venv/bin/python -m bench.default_run [--runs 3] [--cli-runs 11] [--out FILE]

- `billing-kit --help`, `billing-kit check --help`: median wall time (after a warm-up run);
- `billing-kit docs --out DIR`: median wall time;
- `billing-kit check` (the default run) against a fresh reference server (`billing-kit serve`,
  its own throwaway data directory and keys), `--runs` times, each on a new server, then a
  plain `st run` on the same spec against the last one. Requests are counted from the
  server's access log, so both clients are counted the same way.

The load average is recorded with the figures because the machine is shared. Results go to
`bench/results/default_run-<UTC time>.json` (or `--out`); the docs quote that file.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import cli_timing
from bench.report import RESULTS_DIR
from tests.support.reference import start_reference_server


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="default runs of `billing-kit check` (default 3)")
    parser.add_argument("--cli-runs", type=int, default=11, help="runs of each `--help` (default 11)")
    parser.add_argument("--out", type=Path, default=None, help="the results file")
    return parser.parse_args(argv)


def measure(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "loadavg_at_start": os.getloadavg()[0],
        "cores": os.cpu_count(),
        "python": sys.version.split()[0],
        "cli": {
            "billing-kit --help": cli_timing.startup(["--help"], args.cli_runs),
            "billing-kit check --help": cli_timing.startup(["check", "--help"], args.cli_runs),
            "billing-kit docs": cli_timing.docs(max(1, args.cli_runs // 3)),
        },
    }
    checks: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-default-run-") as tmp:
        work_dir = Path(tmp)
        for run in range(args.runs):
            with start_reference_server(work_dir / f"run{run}") as reference:
                both = cli_timing.suite_vs_st_run(reference, work_dir)
                checks.append(both["check"])
                if run == args.runs - 1:
                    results["st_run"] = both["st_run"]
    requests = [c["requests"] for c in checks]
    seconds = [c["seconds"] for c in checks]
    results["check"] = {
        "runs": checks,
        "requests_min": min(requests),
        "requests_max": max(requests),
        "seconds_min": round(min(seconds), 1),
        "seconds_max": round(max(seconds), 1),
        "exit_codes": sorted({c["exit_code"] for c in checks}),
    }
    results["loadavg_at_end"] = os.getloadavg()[0]
    return results


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    results = measure(args)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or RESULTS_DIR / f"default_run-{stamp}.json"
    out.write_text(json.dumps(results, indent=2) + "\n")
    check = results["check"]
    print(
        f"billing-kit check (default run, {len(check['runs'])} runs): {check['requests_min']}–{check['requests_max']}"
        f" requests, {check['seconds_min']}–{check['seconds_max']} s, exit {check['exit_codes']}"
    )
    for name, timing in results["cli"].items():
        print(f"{name}: {timing.get('median_s', timing.get('na'))}")
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
