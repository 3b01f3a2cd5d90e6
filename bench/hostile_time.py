"""How long `check --max-time` (the hostile tests' budget) takes per hostile server: "within --max-time + 10 s".

    .venv/bin/python -m bench.hostile_time [--out FILE]

Each mode of tests/servers/hostile_server.py that the suite must judge (the list
and the run's options are tests/test_hostile_servers.py's) is checked once; the
run's own clock (the report's `duration_seconds`) and the process's wall time
(interpreter start and imports included) are printed against --max-time + 10 s.
Wall time depends on the machine's load, so it is measured here, not asserted in
a test; the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from tests.support.hostile_server import hostile_server
from tests.test_hostile_servers import FAILING_MODES, MAX_TIME, run_check

BOUND = MAX_TIME + 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, help="write the figures as JSON")
    args = parser.parse_args()
    rows = []
    for mode in [*FAILING_MODES, "crash-mid-run"]:
        with hostile_server(mode) as origin, tempfile.TemporaryDirectory() as tmp:
            began = time.monotonic()
            run = run_check(f"{origin}/v1", Path(tmp))
            wall = time.monotonic() - began
        clock = float(run.report["duration_seconds"]) if run.report else float("inf")  # type: ignore[arg-type]
        rows.append({"mode": mode, "exit": run.proc.returncode, "run_seconds": round(clock, 1),
                     "process_seconds": round(wall, 1), "peak_mib": run.peak_kib >> 10})  # fmt: skip
    load = os.getloadavg()
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}; bound --max-time + 10 = {BOUND:g} s")
    print("| mode | exit | run's clock (s) | process wall (s) | peak RSS (MiB) |\n|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['mode']} | {r['exit']} | {r['run_seconds']} | {r['process_seconds']} | {r['peak_mib']} |")
    within = sum(1 for r in rows if r["process_seconds"] <= BOUND)
    print(f"{within}/{len(rows)} within {BOUND:g} s of process wall time")
    if args.out:
        date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
        figures = {"date": date, "load_average": load, "bound": BOUND, "rows": rows}
        args.out.write_text(json.dumps(figures, indent=1) + "\n")


if __name__ == "__main__":
    main()
