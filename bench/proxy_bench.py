"""What `billing-kit proxy` costs: direct vs through the proxy, in one run, against the reference.

    .venv/bin/python -m bench.proxy_bench [--seconds 10] [--connections 32] [--exchanges 100000]

One `billing-kit serve` and one `billing-kit proxy` in front of it; wrk POSTs the
spec's request example (bench/post.lua) with a sandbox key.

- throughput: wrk at --connections, direct then proxied then direct then proxied
  (the best of each pair), and the ratio proxied / direct (goal >= 0.5);
- added latency (goal < 1 ms at p50): requests alternating direct/proxied on one
  keep-alive connection each, the median of the per-pair differences (a busy
  moment hits both alike); also wrk with one connection, p50 proxied - p50 direct;
- CPU per exchange of the proxy's event loop and of its judge (process and feeder
  thread), beside the upstream's CPU per request: what the proxy costs, whatever
  else the machine is doing;
- memory: the proxy's RSS (with its judge process) after 1,000 exchanges and after --exchanges (goal: within 20 MiB).

The machine may be shared and busy: the figures are ratios and differences taken
minutes apart, and the load average is printed with them.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from bench.load import LoadSettings, Sample, run_wrk
from bench.procstat import descendants, load_average
from bench.servers import request_body
from billing_kit.conformance.contract import CUSTOMERS_PATH, load_contract
from tests.support.procs import BILLING_KIT, free_port
from tests.support.reference import start_reference_server
from tests.support.traffic import wait_listening

MIB = 1 << 20
WARM_EXCHANGES = 1_000


def rss_bytes(pid: int) -> int:
    """Resident memory of `pid` and its children (the proxy and its judge process)."""
    total = 0
    for member in descendants(pid):
        try:
            lines = Path(f"/proc/{member}/status").read_text().splitlines()
        except OSError:
            continue
        total += next((int(ln.split()[1]) * 1024 for ln in lines if ln.startswith("VmRSS:")), 0)
    return total


def cpu_seconds(path: str) -> float:
    """utime + stime of one /proc stat file (a process, or one thread: /proc/P/task/T/stat)."""
    try:
        raw = Path(path).read_text()
    except OSError:
        return 0.0
    fields = raw[raw.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proxy_cpu(pid: int) -> tuple[float, float]:
    """(the proxy's event loop thread, everything else: its feeder thread and the judge process) in CPU s."""
    loop = cpu_seconds(f"/proc/{pid}/task/{pid}/stat")
    total = sum(cpu_seconds(f"/proc/{member}/stat") for member in descendants(pid))
    return loop, total - loop


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seconds", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections for throughput")
    parser.add_argument("--exchanges", type=int, default=100_000, help="exchanges before the second RSS reading")
    parser.add_argument("--pairs", type=int, default=1000, help="alternating direct/proxied requests for latency")
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    return parser.parse_args(argv)


def _until(url: str, key: str, body: str, total: int, pid: int, proxy_pid: int) -> int:
    """Send creates through `url` until `total` have been sent; the number sent."""
    sent = 0
    while sent < total:
        sample = run_wrk(url, key, body, LoadSettings(seconds=10, connections=32), pid)
        sent += sample.requests
        print(f"  {sent:>7} exchanges, proxy RSS {rss_bytes(proxy_pid) / MIB:.1f} MiB", flush=True)
    return sent


def paired_latency(direct: str, proxied: str, key: str, body: str, pairs: int) -> dict[str, float]:
    """One keep-alive connection to each; requests alternate, so a busy moment hits both alike.

    Returns the median latency of each side and the median of the per-pair differences (ms).
    """
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    raw = body.encode()
    conns = []
    for url in (direct, proxied):
        parsed = urlsplit(url)
        conns.append((http.client.HTTPConnection(parsed.hostname or "", parsed.port, timeout=30), parsed.path))
    times: list[tuple[float, float]] = []
    try:
        for _ in range(pairs):
            pair = []
            for conn, path in conns:
                started = time.perf_counter()
                conn.request("POST", path, body=raw, headers=headers)
                answer = conn.getresponse()
                answer.read()
                pair.append(time.perf_counter() - started)
            times.append((pair[0], pair[1]))
    finally:
        for conn, _ in conns:
            conn.close()
    return {
        "direct_p50_ms": round(statistics.median(t[0] for t in times) * 1000, 3),
        "proxied_p50_ms": round(statistics.median(t[1] for t in times) * 1000, 3),
        "added_p50_ms": round(statistics.median(t[1] - t[0] for t in times) * 1000, 3),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    contract = load_contract()
    body = request_body(contract)
    path = f"{contract.base_path}{CUSTOMERS_PATH}"
    figures: dict[str, Any] = {"load_average_before": load_average()}
    with tempfile.TemporaryDirectory() as scratch, start_reference_server(Path(scratch)) as ref:
        port = free_port()
        log = Path(scratch) / "proxy.log"
        report = Path(scratch) / "proxy.json"
        with log.open("wb") as out:
            proxy = subprocess.Popen(
                [BILLING_KIT, "proxy", "--upstream", ref.origin, "--port", str(port), "--report-json", str(report)],
                stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        try:
            wait_listening(port, proxy, log)
            direct_url, proxied_url = f"{ref.origin}{path}", f"http://127.0.0.1:{port}{path}"
            ref_pid = ref.server.proc.pid
            print("warming up (1,000 exchanges through the proxy)", flush=True)
            warm = _until(proxied_url, ref.sandbox_key, body, WARM_EXCHANGES, ref_pid, proxy.pid)
            rss_warm = rss_bytes(proxy.pid)
            load = LoadSettings(seconds=args.seconds, connections=args.connections)
            single = LoadSettings(seconds=args.seconds, connections=1, threads=1)
            runs: dict[str, list[Sample]] = {"direct": [], "proxied": [], "direct_c1": [], "proxied_c1": []}
            cpu: dict[str, list[float]] = {"loop": [], "judge": [], "upstream": []}
            sent = warm
            for _ in range(2):
                for name, url, settings in (
                    ("direct", direct_url, load), ("proxied", proxied_url, load),
                    ("direct_c1", direct_url, single), ("proxied_c1", proxied_url, single),
                ):  # fmt: skip
                    before = proxy_cpu(proxy.pid)
                    sample = run_wrk(url, ref.sandbox_key, body, settings, ref_pid)
                    after = proxy_cpu(proxy.pid)
                    runs[name].append(sample)
                    if name == "proxied" and sample.requests:
                        cpu["loop"].append((after[0] - before[0]) / sample.requests * 1e6)
                        cpu["judge"].append((after[1] - before[1]) / sample.requests * 1e6)
                        cpu["upstream"].append(sample.cpu_us_per_request)
                    sent += sample.requests if "proxied" in name else 0
                    print(f"  {name:11} {sample.rps:8.0f} req/s  p50 {sample.p50_us / 1000:6.2f} ms  "
                          f"p99 {sample.p99_us / 1000:6.2f} ms  errors {sample.errors}", flush=True)  # fmt: skip
            paired = paired_latency(direct_url, proxied_url, ref.sandbox_key, body, args.pairs)
            sent += args.pairs
            print(f"  paired, one connection each: {paired}", flush=True)
            print(f"filling to {args.exchanges:,} exchanges through the proxy", flush=True)
            sent += _until(proxied_url, ref.sandbox_key, body, args.exchanges - sent, ref_pid, proxy.pid)
            rss_full = rss_bytes(proxy.pid)
        finally:
            proxy.send_signal(signal.SIGINT)
            proxy.wait(120)
            findings = [ln for ln in log.read_text(errors="replace").splitlines() if ln.startswith("server ")]
            for line in findings[:5]:
                print(f"  proxy: {line[:200]}")
        best = {name: max(samples, key=lambda s: s.rps) for name, samples in runs.items()}
        low = {name: min(samples, key=lambda s: s.p50_us) for name, samples in runs.items()}
        proxy_report = json.loads(report.read_text()) if report.exists() else {}
    figures.update(
        {
            "direct_rps": round(best["direct"].rps),
            "proxied_rps": round(best["proxied"].rps),
            "throughput_ratio": round(best["proxied"].rps / best["direct"].rps, 3),
            "direct_p50_ms_c1": low["direct_c1"].p50_us / 1000,
            "proxied_p50_ms_c1": low["proxied_c1"].p50_us / 1000,
            "wrk_c1_added_p50_ms": round((low["proxied_c1"].p50_us - low["direct_c1"].p50_us) / 1000, 3),
            **{f"paired_{k}": v for k, v in paired.items()},
            "proxy_loop_cpu_us_per_exchange": round(statistics.median(cpu["loop"]), 1),
            "judge_cpu_us_per_exchange": round(statistics.median(cpu["judge"]), 1),
            "upstream_cpu_us_per_request": round(statistics.median(cpu["upstream"]), 1),
            "rss_mib_after_warmup": round(rss_warm / MIB, 1),
            "exchanges_at_warmup": warm,
            "rss_mib_after_all": round(rss_full / MIB, 1),
            "exchanges_at_end": sent,
            "rss_growth_mib": round((rss_full - rss_warm) / MIB, 1),
            "proxy_judged": proxy_report.get("options", {}).get("exchanges"),
            "proxy_dropped_by_judge": proxy_report.get("options", {}).get("dropped_by_judge"),
            "proxy_server_findings": proxy_report.get("options", {}).get("parties", {}).get("server"),
            "load_average_after": load_average(),
            "connections": args.connections,
            "seconds": args.seconds,
        }
    )
    print(json.dumps(figures, indent=2))
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
