"""Where a server's CPU goes under load: py-spy samples, turned into µs per request.

    .venv/bin/python bench/profile.py --server reference [--seconds 10] [--rate 250]

Starts the server as bench/run.py does, loads it with wrk and samples it with py-spy in
`--gil` mode: each sample is the stack of the thread holding the GIL, so a function's
samples / rate / requests is the Python time (µs) it holds per request. (Without `--gil`,
py-spy counts a thread waiting for the GIL or blocked in fsync as busy, which overstates
SQLite calls many times over.) C code that releases the GIL (SQLite's own work, fsync,
socket I/O in uvloop) is not in these samples: the server's total CPU per request,
measured from /proc over the same run, is printed beside them. The collapsed stacks are
kept for a flame graph.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import servers  # noqa: E402
from bench.load import LoadSettings, run_wrk  # noqa: E402
from billing_kit.conformance.contract import load_contract  # noqa: E402

OUT_DIR = Path(__file__).parent / "results" / "profiles"
# Leaf-frame file -> what the time is spent on (first match wins).
CATEGORIES = [
    ("handlers/storage", "storage (SQLite calls)"),
    ("sqlite3", "storage (SQLite calls)"),
    ("email_validator", "email-validator"),
    ("jsonschema_rs", "schema validation (jsonschema_rs)"),
    ("handlers/jsonbody", "strict JSON parse"),
    ("json/", "json (stdlib)"),
    ("logging/", "logging (access log)"),
    ("connexion/", "Connexion"),
    ("starlette/", "Starlette"),
    ("uvicorn/", "uvicorn / httptools protocol"),
    ("asyncio/", "asyncio / event loop"),
    ("concurrent/", "thread pool"),
    ("threading", "thread pool"),
    ("handlers/", "handlers (own code)"),
    ("bench/", "bench server (own code)"),
]


def parse_raw(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks.append((frames.split(";"), int(count)))
    return stacks


def category(frame: str) -> str:
    for needle, name in CATEGORIES:
        if needle in frame:
            return name
    return "other (interpreter, builtins)"


def summarise(stacks: list[tuple[list[str], int]], us_per_sample: float, top: int) -> str:
    total = sum(count for _, count in stacks) or 1
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    for frames, count in stacks:
        for frame in set(frames):
            inclusive[frame] += count
        leaf[frames[-1]] += count
        kinds[category(frames[-1])] += count

    def row(name: str, count: int) -> str:
        return f"| {name} | {100 * count / total:.1f}% | {us_per_sample * count:.1f} µs |"

    head = "| {} | share of GIL samples | µs per request |\n|---|---|---|"
    parts = [f"{total} samples: {us_per_sample * total:.0f} µs with the GIL per request", ""]
    parts += [head.format("self time by package")]
    parts += [row(name, count) for name, count in kinds.most_common()]
    parts += ["", head.format("inclusive (function and its callees)")]
    parts += [row(name, count) for name, count in inclusive.most_common(top)]
    parts += ["", head.format("self (leaf function)")]
    parts += [row(name, count) for name, count in leaf.most_common(top)]
    return "\n".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench/profile.py", description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="reference", choices=[k.name for k in servers.KINDS])
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    contract = load_contract()
    body = servers.request_body(contract)
    kind = next(k for k in servers.KINDS if k.name == args.server)
    OUT_DIR.mkdir(parents=True, exist_ok=True)
    raw = OUT_DIR / f"{kind.name}.collapsed.txt"
    with tempfile.TemporaryDirectory(prefix="billing-profile-") as tmp, servers.start(kind, Path(tmp), contract) as run:
        servers.check_answer(run, body, contract)
        pid = run.server.proc.pid
        run_wrk(run.url, run.key, body, LoadSettings(2), pid)
        spy = subprocess.Popen(
            [py_spy, "record", "--pid", str(pid), "--subprocesses", "--function", "--gil", "--format", "raw",
             "--rate", str(args.rate), "--duration", str(args.seconds), "--output", str(raw)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        sample = run_wrk(run.url, run.key, body, LoadSettings(args.seconds + 1), pid)
        _, err = spy.communicate(timeout=60)
        if spy.returncode != 0:
            raise SystemExit(f"Error: py-spy failed: {err.decode(errors='replace').strip()[-500:]}")
    print(
        f"{kind.label}: {sample.rps:.0f} req/s under py-spy; server CPU {sample.cpu_us_per_request:.0f} µs per request"
        f" (event-loop thread {sample.loop_cpu_us_per_request:.0f} µs)"
    )
    print()
    requests_sampled = sample.rps * args.seconds
    print(summarise(parse_raw(raw), 1e6 / args.rate / requests_sampled, args.top))
    print(f"\nCollapsed stacks: {raw} (flamegraph.pl or speedscope.app)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
