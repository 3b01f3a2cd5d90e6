"""The results: medians over rounds, ratios to the floor, the printed tables and the JSON files."""

from __future__ import annotations

import json
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.load import Sample

RESULTS_DIR = Path(__file__).parent / "results"
LATEST = "latest.json"


def summarise(samples: list[Sample]) -> dict[str, float]:
    """Medians over the rounds (each round is one wrk run)."""
    return {
        "rps": statistics.median(s.rps for s in samples),
        "p50_us": statistics.median(s.p50_us for s in samples),
        "p99_us": statistics.median(s.p99_us for s in samples),
        "cpu_us_per_request": statistics.median(s.cpu_us_per_request for s in samples),
        "loop_cpu_us_per_request": statistics.median(s.loop_cpu_us_per_request for s in samples),
        "errors": sum(s.errors for s in samples),
        "requests": sum(s.requests for s in samples),
    }


def add_ratios(servers: list[dict[str, Any]], floor_name: str) -> None:
    floor = next((s for s in servers if s["name"] == floor_name and "median" in s), None)
    for server in servers:
        if floor is None or "median" not in server:
            continue
        server["x_floor_rps"] = server["median"]["rps"] / floor["median"]["rps"]
        server["x_floor_cpu"] = server["median"]["cpu_us_per_request"] / floor["median"]["cpu_us_per_request"]


def _ms(us: float) -> str:
    return f"{us / 1000:.2f} ms"


def _seconds(entry: dict[str, Any]) -> str:
    if "na" in entry:
        return str(entry["na"])
    cpu = f", {entry['cpu_median_s']:.3f} s CPU" if "cpu_median_s" in entry else ""
    return f"{entry['median_s']:.3f} s{cpu} (median of {entry['runs']})"


def server_table(servers: list[dict[str, Any]], previous: dict[str, Any] | None) -> list[str]:
    before = {s["name"]: s for s in (previous or {}).get("servers", []) if "median" in s}
    lines = [
        "| server | req/s | × floor | p50 | p99 | server CPU / request | × floor CPU | of which event loop | errors |"
        + (" req/s last run |" if before else ""),
        "|---|---|---|---|---|---|---|---|---|" + ("---|" if before else ""),
    ]
    for s in servers:
        if "median" not in s:
            lines.append(f"| {s['label']} | {s['status']} | | | | | | | |" + (" |" if before else ""))
            continue
        m = s["median"]
        row = (
            f"| {s['label']} | {m['rps']:.0f} | {s.get('x_floor_rps', float('nan')):.2f} | {_ms(m['p50_us'])} "
            f"| {_ms(m['p99_us'])} | {m['cpu_us_per_request']:.0f} µs | {s.get('x_floor_cpu', float('nan')):.2f} "
            f"| {m['loop_cpu_us_per_request']:.0f} µs | {m['errors']} |"
        )
        if before:
            old = before.get(s["name"])
            row += f" {old['median']['rps']:.0f} |" if old else " |"
        lines.append(row)
    return lines


def timing_lines(results: dict[str, Any]) -> list[str]:
    lines = []
    for name, entry in results.get("cli", {}).items():
        lines.append(f"- `{name}`: {_seconds(entry)}")
    suite = results.get("suite", {})
    for name, title in (("check", "billing-kit check (default run)"), ("st_run", "plain st run (same spec)")):
        entry = suite.get(name)
        if entry is None:
            continue
        if "na" in entry:
            lines.append(f"- {title}: {entry['na']}")
            continue
        per_request = entry["client_cpu_ms_per_request"]
        lines.append(
            f"- {title}: {entry['seconds']:.1f} s, {entry['requests']} requests, {entry['rps']:.0f} req/s, "
            f"client CPU {entry['client_cpu_s']:.1f} s"
            + (f" ({per_request:.1f} ms per request)" if per_request is not None else "")
            + f", exit {entry['exit_code']}"
        )
    return lines


def render(results: dict[str, Any], previous: dict[str, Any] | None) -> str:
    m, s = results["machine"], results["settings"]
    head = [
        f"Machine: {m['cpu_model']}, {m['cores']} cores, Python {m['python']}, Linux {m['kernel']}; {results['date']}; "
        f"load average {m['loadavg_at_start']:.2f} at start, {results.get('loadavg_at_end', float('nan')):.2f} at end; "
        f"checkout {m.get('checkout', '?')}",
        f"Load: wrk {s['threads']} threads, {s['connections']} connections, POST {s['body_bytes']} bytes; "
        f"{s['rounds']} rounds × {s['seconds']:g} s per server, interleaved; medians over rounds.",
        "",
    ]
    if previous:
        head.append(f"Last run compared: {previous.get('date', '?')}")
        head.append("")
    body = server_table(results["servers"], previous)
    timings = timing_lines(results)
    return "\n".join(head + body + (["", *timings] if timings else []))


def load_previous(results_dir: Path) -> dict[str, Any] | None:
    try:
        data: dict[str, Any] = json.loads((results_dir / LATEST).read_text())
    except (OSError, ValueError):
        return None
    return data


def write(results: dict[str, Any], results_dir: Path) -> Path:
    """`latest.json` plus a timestamped copy; returns the copy's path."""
    results_dir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(results, indent=2, ensure_ascii=False) + "\n"
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    copy = results_dir / f"{stamp}.json"
    copy.write_text(text)
    (results_dir / LATEST).write_text(text)
    return copy
