"""A deep run (`check --duration --workers`) against plain Schemathesis, on one fresh reference server.

    .venv/bin/python -m bench.deep_run [--seconds 30] [--workers 2] [--rss-seconds 180] [--out FILE]

One reference server (`billing-kit serve`, a throwaway data directory and key)
serves, one after the other:

1. `billing-kit check --duration {seconds}s --workers {workers}`;
2. `st run openapi.yaml -u URL -H 'Authorization: Bearer …' -c not_a_server_error
   --max-examples 2000 --workers {workers} --max-time {seconds}`;
3. (with --rss-seconds > 0) a longer deep run whose resident memory (the check
   process and its workers) is sampled every few seconds: the value after one
   minute against the last one.

Requests are counted from the server's access log (one JSON line per request),
CPU by sampling the process tree in /proc every 0.2 s (each process's
own user + system time, last value seen; the deep run's workers are forked by a
forkserver that no one reaps, so rusage would miss them); the load average is printed
with the figures because the machine is shared: compare the ratios, not the
absolute numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.procstat import TICKS_PER_SECOND, _stat_fields, descendants
from billing_kit.conformance.demo import _create_key, _free_port, _wait_until_up

ROOT = Path(__file__).resolve().parents[1]
VENV_BIN = Path(sys.executable).parent
RSS_EVERY = 5.0


@dataclass
class Measured:
    name: str
    requests: int
    seconds: float
    cpu_seconds: float
    exit_code: int

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def cpu_ms_per_request(self) -> float:
        return 1000 * self.cpu_seconds / self.requests if self.requests else 0.0


def access_lines(log: Path) -> int:
    with log.open("rb") as handle:
        return sum(1 for line in handle if line.startswith(b'{"ts"'))


class TreeCpu:
    """CPU seconds of a process tree: every process's own utime + stime, as last seen."""

    def __init__(self) -> None:
        self.ticks: dict[tuple[int, str], int] = {}

    def sample(self, root: int) -> None:
        for pid in descendants(root):
            fields = _stat_fields(pid)
            if fields is not None:  # keyed by pid and start time, so a reused pid is a new process
                self.ticks[(pid, fields[19])] = int(fields[11]) + int(fields[12])

    @property
    def seconds(self) -> float:
        return sum(self.ticks.values()) / TICKS_PER_SECOND


def rss_kib(root: int) -> tuple[int, int]:
    """(resident KiB, processes) of the tree."""
    total = 0
    pids = descendants(root)
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total, len(pids)


def measure(name: str, argv: list[str], log: Path, rss: list[tuple[float, int, int]] | None = None) -> Measured:
    before_lines, cpu = access_lines(log), TreeCpu()
    started = last_rss = time.monotonic()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=log.parent)
    while proc.poll() is None:
        cpu.sample(proc.pid)
        time.sleep(0.2)
        if rss is not None and time.monotonic() - last_rss >= RSS_EVERY and proc.poll() is None:
            last_rss = time.monotonic()
            rss.append((last_rss - started, *rss_kib(proc.pid)))
    seconds = time.monotonic() - started
    cpu_seconds = cpu.seconds  # each process's last 0.2 s at most is missed
    if proc.stderr is not None:
        tail = proc.stderr.read().decode(errors="replace").strip().splitlines()[-1:]
        proc.stderr.close()
        if proc.returncode not in (0, 1) and tail:
            print(f"{name}: exit {proc.returncode}: {tail[0][:200]}", file=sys.stderr)
    return Measured(name, access_lines(log) - before_lines, seconds, cpu_seconds, proc.returncode)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rss-seconds", type=int, default=180)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="write the figures as JSON")
    args = parser.parse_args(argv)

    from billing_kit.conformance.contract import load_contract

    contract = load_contract()
    with tempfile.TemporaryDirectory(prefix="bench-deep-") as tmp:
        data_dir = Path(tmp)
        key = _create_key(data_dir, contract.sandbox_environment)
        port = _free_port()
        log = data_dir / "server.log"
        with log.open("wb") as out:
            server = subprocess.Popen(
                [str(VENV_BIN / "billing-kit"), "serve", "--port", str(port), "--data-dir", str(data_dir)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            origin = f"http://127.0.0.1:{port}"
            _wait_until_up(origin, server, log)
            base_url = origin + contract.base_path
            check = [
                str(VENV_BIN / "billing-kit"), "check", "--base-url", base_url, "--api-key", key,
                "--seed", str(args.seed), "--workers", str(args.workers),
            ]  # fmt: skip
            deep = measure("check --duration", [*check, "--duration", f"{args.seconds}s"], log)
            st = measure(
                "st run",
                [
                    str(VENV_BIN / "st"), "run", str(ROOT / "openapi.yaml"), "-u", base_url,
                    "-H", f"Authorization: Bearer {key}", "-c", "not_a_server_error",
                    "--max-examples", "2000", "--workers", str(args.workers), "--max-time", str(args.seconds),
                ],
                log,
            )  # fmt: skip
            rss: list[tuple[float, int, int]] = []
            long = None
            if args.rss_seconds > 0:
                long = measure(
                    f"check --duration {args.rss_seconds}s", [*check, "--duration", f"{args.rss_seconds}s"], log, rss
                )
        finally:
            server.terminate()
            server.wait(30)
    load = os.getloadavg()
    # Resident memory of the check process and its workers: after one minute, and the last sample
    # taken while as many processes were alive (the deep phase still running).
    at_minute = next(((kib, n) for t, kib, n in rss if t >= 60), None)
    last = next(((t, kib) for t, kib, n in reversed(rss) if at_minute and n == at_minute[1]), None)
    runs = [m for m in (deep, st, long) if m is not None]
    figures = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpus": os.cpu_count(),
        "load_average": [round(x, 2) for x in load],
        "runs": [asdict(m) | {"per_second": m.per_second, "cpu_ms_per_request": m.cpu_ms_per_request} for m in runs],
        "speedup": deep.per_second / st.per_second if st.per_second else None,
        "rss_kib": rss,
        "rss_after_1_min_mib": round(at_minute[0] / 1024, 1) if at_minute else None,
        "rss_last_mib": round(last[1] / 1024, 1) if last else None,
        "rss_last_at_seconds": round(last[0]) if last else None,
    }
    print(f"load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
    print("| run | requests | seconds | requests/s | CPU ms/request | exit |")
    print("|---|---:|---:|---:|---:|---:|")
    for m in runs:
        print(
            f"| {m.name} | {m.requests} | {m.seconds:.1f} | {m.per_second:.1f} | "
            f"{m.cpu_ms_per_request:.2f} | {m.exit_code} |"
        )
    if figures["speedup"]:
        print(f"deep run / st run, requests per second: {figures['speedup']:.1f}x")
    if last is not None:
        print(
            f"RSS (check + workers) after 1 min: {figures['rss_after_1_min_mib']} MiB; "
            f"at {last[0]:.0f} s: {figures['rss_last_mib']} MiB"
        )
    if args.out:
        args.out.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
