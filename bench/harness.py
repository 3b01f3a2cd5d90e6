"""The benchmark, end to end: start the servers, load them in turn, time the CLI and the suite.

Servers are loaded interleaved (A, B, C, A, B, C, …) so that a slow drift of the machine
(another process, thermal, the page cache) spreads over all of them instead of landing
on one. Each wrk run measures the server's own CPU time (process tree, /proc), because
wrk shares the two cores: CPU per request is the primary figure, req/s is beside it.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import cli_timing, report, servers
from bench.load import LoadSettings, Sample, run_wrk, wrk_path
from bench.procstat import load_average, machine
from billing_kit.conformance.contract import Contract, load_contract
from tests.support.reference import start_reference_server


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    names = [kind.name for kind in servers.KINDS]
    parser = argparse.ArgumentParser(prog="bench/run.py", description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="wrk runs per server (default 3)")
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run (default 5)")
    parser.add_argument("--warmup", type=int, default=2, help="wrk warm-up per server, not measured (default 2)")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--threads", type=int, default=2)
    defaults = ",".join(kind.name for kind in servers.KINDS if kind.default)
    parser.add_argument("--servers", default=defaults, help=f"comma-separated, from: {', '.join(names)}")
    parser.add_argument("--cli-runs", type=int, default=11, help="runs per CLI start-up timing (median)")
    parser.add_argument("--skip-cli", action="store_true", help="skip the CLI and docs timings")
    parser.add_argument("--skip-suite", action="store_true", help="skip the conformance suite and st run timings")
    parser.add_argument("--quick", action="store_true", help="smoke mode: 1 round of 1 s, 3 CLI runs, no suite")
    parser.add_argument("--results-dir", type=Path, default=None, help="where the JSON goes (default bench/results)")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.seconds, args.warmup, args.cli_runs, args.skip_suite = 1, 1, 1, 3, True
    unknown = set(args.servers.split(",")) - set(names)
    if unknown:
        parser.error(f"unknown server(s): {', '.join(sorted(unknown))}")
    if args.results_dir is None:
        args.results_dir = report.RESULTS_DIR / ("quick" if args.quick else "")
    return args


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def run_load(args: argparse.Namespace, contract: Contract, work_dir: Path) -> tuple[list[dict[str, Any]], int]:
    """Start every selected server, warm each up, then run the rounds; one entry per server."""
    wanted = set(args.servers.split(","))
    kinds = [kind for kind in servers.KINDS if kind.name in wanted]
    body = servers.request_body(contract)
    settings = LoadSettings(args.seconds, args.connections, args.threads)
    entries: dict[str, dict[str, Any]] = {k.name: {"name": k.name, "label": k.label} for k in kinds}
    samples: dict[str, list[Sample]] = {}
    with ExitStack() as stack:
        running: list[servers.Running] = []
        for kind in kinds:
            reason = servers.unavailable_reason(kind)
            if reason:
                entries[kind.name]["status"] = reason
                continue
            try:
                started = stack.enter_context(servers.start(kind, work_dir, contract))
                servers.check_answer(started, body, contract)
            except Exception as exc:  # report the server as failed and go on with the others
                entries[kind.name]["status"] = f"failed: {str(exc).splitlines()[0][:200]}"
                _say(f"{kind.name}: {exc}")
                continue
            running.append(started)
            samples[kind.name] = []
        for server in running:
            warmup = LoadSettings(args.warmup, args.connections, args.threads)
            run_wrk(server.url, server.key, body, warmup, server.server.proc.pid)
        for round_number in range(1, args.rounds + 1):
            for server in running:
                sample = run_wrk(server.url, server.key, body, settings, server.server.proc.pid)
                samples[server.kind.name].append(sample)
                _say(
                    f"round {round_number}/{args.rounds} {server.kind.name:16} {sample.rps:8.0f} req/s "
                    f"{sample.cpu_us_per_request:6.0f} µs CPU/req  p99 {sample.p99_us / 1000:.1f} ms"
                    + (f"  {sample.errors} errors" if sample.errors else "")
                )
    for name, found in samples.items():
        entries[name]["samples"] = [s.as_dict() for s in found]
        entries[name]["median"] = report.summarise(found)
        entries[name]["status"] = "ok"
    result = list(entries.values())
    report.add_ratios(result, servers.FLOOR)
    return result, len(body.encode("utf-8"))


def run_cli(args: argparse.Namespace) -> dict[str, Any]:
    _say("timing the CLI …")
    return {
        "billing-kit --help": cli_timing.startup(["--help"], args.cli_runs),
        "billing-kit check --help": cli_timing.startup(["check", "--help"], args.cli_runs),
        "billing-kit docs": cli_timing.docs(max(1, args.cli_runs // 3)),
    }


def run_suite(work_dir: Path) -> dict[str, Any]:
    _say("timing the conformance suite and a plain st run against a fresh reference …")
    with start_reference_server(work_dir / "suite") as reference:
        return cli_timing.suite_vs_st_run(reference, work_dir)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk_path()
    contract = load_contract()
    previous = None if args.quick else report.load_previous(args.results_dir)
    results: dict[str, Any] = {"date": datetime.now(UTC).isoformat(timespec="seconds"), "machine": machine()}
    with tempfile.TemporaryDirectory(prefix="billing-bench-") as tmp:
        work_dir = Path(tmp)
        results["servers"], body_bytes = run_load(args, contract, work_dir)
        results["settings"] = {
            "rounds": args.rounds,
            "seconds": args.seconds,
            "warmup": args.warmup,
            "connections": args.connections,
            "threads": args.threads,
            "body_bytes": body_bytes,
            "quick": args.quick,
        }
        if not args.skip_cli:
            results["cli"] = run_cli(args)
        if not args.skip_suite:
            results["suite"] = run_suite(work_dir)
    results["loadavg_at_end"] = load_average()
    print(report.render(results, previous))
    written = report.write(results, args.results_dir)
    print(f"\nResults: {args.results_dir / report.LATEST} (and {written.name})")
    return 0
