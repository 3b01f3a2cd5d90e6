"""One load run: wrk against one server, with the server tree's CPU time measured around it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.procstat import tree_cpu_split

LUA_SCRIPT = Path(__file__).parent / "post.lua"
MARKER = "BENCH_JSON "


@dataclass(frozen=True)
class LoadSettings:
    seconds: int  # wrk takes whole seconds
    connections: int = 32
    threads: int = 2


@dataclass(frozen=True)
class Sample:
    """One wrk run: counts, latencies (µs) and the server's CPU over the run."""

    requests: int
    seconds: float
    errors: int  # non-2xx answers and socket errors
    p50_us: int
    p99_us: int
    server_cpu_s: float
    main_thread_cpu_s: float  # the event loop's share of server_cpu_s

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_us_per_request(self) -> float:
        return self.server_cpu_s / self.requests * 1e6 if self.requests else float("nan")

    @property
    def loop_cpu_us_per_request(self) -> float:
        return self.main_thread_cpu_s / self.requests * 1e6 if self.requests else float("nan")

    def as_dict(self) -> dict[str, float]:
        return {
            **asdict(self),
            "rps": self.rps,
            "cpu_us_per_request": self.cpu_us_per_request,
            "loop_cpu_us_per_request": self.loop_cpu_us_per_request,
        }


def wrk_path() -> str:
    found = shutil.which("wrk")
    if found is None:
        raise SystemExit("Error: wrk is not installed (Debian: apt-get install wrk, or `make sysdeps`)")
    return found


def run_wrk(url: str, key: str, body: str, settings: LoadSettings, server_pid: int) -> Sample:
    argv = [
        wrk_path(),
        f"-t{settings.threads}",
        f"-c{settings.connections}",
        f"-d{settings.seconds}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA_SCRIPT),
        url,
    ]
    env = {**os.environ, "BENCH_KEY": key, "BENCH_BODY": body}
    cpu_before, main_before = tree_cpu_split(server_pid)
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=settings.seconds + 60)
    cpu_after, main_after = tree_cpu_split(server_pid)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith(MARKER)), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    data = json.loads(line.removeprefix(MARKER))
    errors = sum(int(data[k]) for k in ("non_2xx", "connect", "read", "write", "timeout"))
    return Sample(
        requests=int(data["requests"]),
        seconds=int(data["duration_us"]) / 1e6,
        errors=errors,
        p50_us=int(data["p50_us"]),
        p99_us=int(data["p99_us"]),
        server_cpu_s=cpu_after - cpu_before,
        main_thread_cpu_s=main_after - main_before,
    )
