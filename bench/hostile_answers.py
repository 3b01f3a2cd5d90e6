"""What a megabyte in every answer costs a whole `check` run: its time, its memory.

    .venv/bin/python -m bench.hostile_answers [--out FILE]

Each mode below of tests/servers/hostile_server.py answers the preflight's create as
the API would, then every request with about a megabyte: `escaped-quotes-1mb` (`\\"`
pairs in a string never closed: what the redactor reads) and `million-digit-number`
(a valid customer whose metadata holds a number of 1,000,000 digits: what the run keeps
of each answer); `ok` is the same run against valid answers. The default run is checked
once per mode with the hostile tests' options (tests/test_hostile_servers.py) and
`--max-time 120`; the report's requests sent, whether the budget ran out, the run's own
clock and the process's peak RSS (VmHWM) are printed with the load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path

from tests.support.hostile_server import hostile_server
from tests.support.procs import ROOT
from tests.test_hostile_servers import run_check

MODES = ["escaped-quotes-1mb", "million-digit-number", "ok"]
MAX_TIME = 120.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, help="write the figures as JSON")
    args = parser.parse_args()
    rows = []
    for mode in MODES:
        with hostile_server(mode, first_ok=True) as origin, tempfile.TemporaryDirectory() as tmp:
            run = run_check(f"{origin}/v1", Path(tmp), max_time=MAX_TIME)
        report = run.report or {}
        rows.append(
            {
                "mode": mode,
                "exit": run.proc.returncode,
                "requests_sent": report.get("requests_sent"),
                "budget_exhausted": report.get("budget_exhausted"),
                "internal_errors": len(report.get("internal_errors") or []),  # type: ignore[arg-type]
                "run_seconds": round(float(report.get("duration_seconds") or "inf"), 1),  # type: ignore[arg-type]
                "peak_mib": run.peak_kib >> 10,
            }
        )
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; --max-time {MAX_TIME:g}")
    print(
        "| mode | exit | requests | budget ran out | run's clock (s) | peak RSS (MiB) |\n|---|---:|---:|---|---:|---:|"
    )
    for r in rows:
        print(
            f"| {r['mode']} | {r['exit']} | {r['requests_sent']} | {r['budget_exhausted']} | {r['run_seconds']} "
            f"| {r['peak_mib']} |"
        )
    if args.out:
        date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        figures = {"date": date, "commit": commit.stdout.strip(), "load_average": load, "rows": rows}
        args.out.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
