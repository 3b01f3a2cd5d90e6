"""The same deep run with the locked dependencies and with the newest ones a plain `pip install` picks.

    .venv/bin/python -m bench.dependency_versions [--seconds 30] [--rounds 2] [--out FILE]

Builds one throwaway venv from `requirements.lock` with the kit installed editable, then
alternates, `--rounds` times: the lock's versions, and the lock with the packages that a
plain `pip install .` resolves newer (NEWER below) upgraded. Each turn runs
`python -m bench.deep_run --seconds S --rss-seconds 0` with that venv's interpreter
(a fresh reference server, `check --duration`, then `st run`). Then one turn per package
alone on top of the lock, to see which one moves the figure. Results:
`bench/results/dependency_versions-<UTC time>.json`.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.report import RESULTS_DIR

ROOT = Path(__file__).resolve().parents[1]
# What `pip install --dry-run .` resolved beyond the lock when this was measured.
NEWER = ("httpx==0.29.0", "hypothesis==6.170.27", "uvicorn==0.55.0")


def pip(venv: Path, *args: str) -> None:
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *args], check=True, timeout=900)


def locked(venv: Path) -> None:
    pip(venv, "-r", str(ROOT / "requirements.lock"))


def deep_run(venv: Path, seconds: int, out: Path) -> dict[str, Any]:
    argv = [str(venv / "bin" / "python"), "-m", "bench.deep_run", "--seconds", str(seconds), "--rss-seconds", "0"]
    subprocess.run([*argv, "--out", str(out)], check=True, cwd=ROOT, timeout=seconds * 6 + 300)
    figures: dict[str, Any] = json.loads(out.read_text())
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    turns: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-deps-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        locked(venv)
        pip(venv, "--no-deps", "-e", str(ROOT))
        plan: list[tuple[str, tuple[str, ...]]] = []
        for _ in range(args.rounds):
            plan += [("lock", ()), ("newest", NEWER)]
        plan += [(f"lock + {package}", (package,)) for package in NEWER]
        for number, (name, upgrades) in enumerate(plan):
            locked(venv)
            if upgrades:
                pip(venv, "--no-deps", *upgrades)
            figures = deep_run(venv, args.seconds, Path(tmp) / f"turn{number}.json")
            check = figures["runs"][0]
            turns.append(
                {"name": name, "upgrades": list(upgrades), "check": check, "load_average": figures.get("load_average")}
            )
            print(
                f"{name:28} {check['per_second']:7.1f} requests/s  {check['cpu_ms_per_request']:.2f} ms CPU/request",
                flush=True,
            )
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = args.out or RESULTS_DIR / f"dependency_versions-{stamp}.json"
    out.write_text(
        json.dumps({"date": stamp, "seconds": args.seconds, "newer": list(NEWER), "turns": turns}, indent=2) + "\n"
    )
    print(f"written: {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
