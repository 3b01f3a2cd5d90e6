"""How long `make test` takes on a fresh clone, quiet or beside busy loops, recorded for the guide.

    .venv/bin/python -m bench.test_times [--busy 2] [--commit HEAD] [--log FILE]

Clones the repository (the given commit) into a temporary directory, starts `--busy`
CPU-burning loops (`python3 -c 'while 1: pass'`) beside it, and times `CI=true bash .ci/run`
(which is `make test`: venv, system packages, npm, lint, every test). The pytest time is
read from pytest's last line ("… passed in 921.34s"). The run is appended to
`bench/results/test_times.json`, which docs/guide/how-it-is-tested.md quotes.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.report import RESULTS_DIR

ROOT = Path(__file__).resolve().parents[1]
TIMES = RESULTS_DIR / "test_times.json"
PYTEST_LINE = re.compile(r"=+ (?P<summary>.*) in (?P<seconds>[\d.]+)s")


def minutes(seconds: float) -> str:
    return f"{int(seconds) // 60} min {int(seconds) % 60} s"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--busy", type=int, default=0, help="CPU-burning loops beside the run (default 0)")
    parser.add_argument("--commit", default="HEAD")
    parser.add_argument(
        "--log", type=Path, help="also write the run's output here as it goes (default: a temporary file)"
    )
    args = parser.parse_args(argv)
    commit = subprocess.check_output(["git", "-C", str(ROOT), "rev-parse", "--short", args.commit], text=True).strip()
    with tempfile.TemporaryDirectory(prefix="bench-test-times-") as tmp:
        clone = Path(tmp) / "fresh"
        subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
        subprocess.run(["git", "-C", str(clone), "checkout", "-q", commit], check=True)
        loops = [subprocess.Popen([sys.executable, "-c", "while 1: pass"]) for _ in range(args.busy)]
        try:
            log = args.log or Path(tmp) / "ci.log"
            started = time.monotonic()
            with log.open("w", encoding="utf-8") as out:
                done = subprocess.run(
                    ["bash", ".ci/run"],
                    cwd=clone,
                    env={**os.environ, "CI": "true"},
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            ci_seconds = time.monotonic() - started
            output = log.read_text(encoding="utf-8", errors="replace")
        finally:
            for loop in loops:
                loop.kill()
                loop.wait()
    found = [m for m in PYTEST_LINE.finditer(output)]
    pytest_seconds = float(found[-1].group("seconds")) if found else None
    run = {
        "date": datetime.now(UTC).date().isoformat(),
        "commit": commit,
        "busy_loops": args.busy,
        "passed": done.returncode == 0,
        "summary": found[-1].group("summary") if found else None,
        "pytest": minutes(pytest_seconds) if pytest_seconds is not None else None,
        "pytest_seconds": round(pytest_seconds) if pytest_seconds is not None else None,
        "ci_run": minutes(ci_seconds),
        "ci_run_seconds": round(ci_seconds),
    }
    recorded = json.loads(TIMES.read_text())
    recorded["runs"].append(run)
    TIMES.write_text(json.dumps(recorded, indent=2) + "\n")
    print(json.dumps(run, indent=2))
    return 0 if done.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
