"""How many customers each check creates, measured: the table `check` announces its estimate from.

    .venv/bin/python -m bench.creates [--seeds 1 2] [--examples 10 50] [--only-clauses C ...]

Runs the suite in-process against a fresh reference server (`billing-kit serve`'s app, its
own throwaway data directory, a sandbox and a live key): the default run and `--only C` for
every clause C, at two `--examples` counts and on each seed, then one 15 s deep run. Each created customer records
the check that made it, so every (selection, check) gets a fixed part and a part per
Hypothesis example (a straight line through the two counts, averaged over the seeds).

Writes conformance/creates.json, which `preflight.estimated_creates` reads; the test
tests/test_creates_estimate.py compares the estimate with what real runs create.
`--only-clauses C ...` measures the deep run and `--only C` of those clauses again and keeps
every other row of the file (for a change to what those selections send).
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections import Counter
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from billing_kit.conformance import clauses
from billing_kit.conformance.config import from_options
from billing_kit.conformance.preflight import CREATES_FILE
from billing_kit.conformance.runner import run
from tests.support.reference import start_reference_server

DEEP_SECONDS = 15.0  # one deep run, for its customers per request


def per_check(base_url: str, keys: tuple[str, str], only: str | None, examples: int, seed: int) -> Counter[str]:
    config = from_options(
        base_url=base_url, api_key=keys[0], live_key=keys[1], allow_live=True, only=only, examples=examples, seed=seed
    )
    result = run(config)
    return Counter(record.check for record in result.created)


def line(low: Counter[str], high: Counter[str], examples: tuple[int, int]) -> dict[str, list[float]]:
    """Per check, [fixed, per example] through the counts at the two example counts."""
    span = examples[1] - examples[0]
    out = {}
    for check in sorted(set(low) | set(high)):
        per = max(0.0, (high[check] - low[check]) / span)
        fixed = max(0.0, low[check] - per * examples[0])
        out[check] = [round(fixed, 2), round(per, 3)]
    return out


def mean(tables: list[dict[str, list[float]]]) -> dict[str, list[float]]:
    checks = sorted({check for table in tables for check in table})
    return {
        check: [round(sum(t.get(check, [0, 0])[i] for t in tables) / len(tables), 3) for i in (0, 1)]
        for check in checks
    }


def deep_share(base_url: str, key: str, seed: int) -> dict[str, Any]:
    config = replace(from_options(base_url=base_url, api_key=key, seed=seed), duration=DEEP_SECONDS)
    summary = run(config).options["deep"]
    return {
        "command": f"python -m bench.creates (a {DEEP_SECONDS:g} s deep run, seed {seed})",
        "seconds": DEEP_SECONDS,
        "requests": summary["requests"],
        "customers": summary["distinct_ids"],
        "customers_per_100_requests": round(100 * summary["distinct_ids"] / max(1, summary["requests"]), 1),
    }


def measure(
    seeds: list[int], examples: tuple[int, int], deep_only: bool, only_clauses: list[str] | None = None
) -> dict[str, Any]:
    selections: list[str | None] = [None, *(clause.id for clause in clauses.CLAUSES)]
    kept = json.loads(CREATES_FILE.read_text()) if only_clauses else None
    if only_clauses:
        selections = list(only_clauses)
    tables: dict[str, list[dict[str, list[float]]]] = {}
    with (
        tempfile.TemporaryDirectory(prefix="bench-creates-") as tmp,
        start_reference_server(Path(tmp)) as reference,
    ):
        keys = (reference.sandbox_key, reference.live_key)
        deep = deep_share(reference.base_url, keys[0], seeds[0])
        if deep_only:
            return {**json.loads(CREATES_FILE.read_text()), "deep": deep}
        for seed in seeds:
            for only in selections:
                low, high = (per_check(reference.base_url, keys, only, n, seed) for n in examples)
                tables.setdefault(only or "", []).append(line(low, high, examples))
                print(f"seed {seed} {only or 'default run':12} {sum(low.values()):5} {sum(high.values()):5}")
    if kept is not None:
        again = {clause: mean(found) for clause, found in tables.items()}
        remeasured = f"{kept['command']}; --only-clauses {' '.join(sorted(again))} on {datetime.now(UTC):%Y-%m-%d}"
        return {**kept, "command": remeasured, "deep": deep, "only": {**kept["only"], **again}}
    return {
        "command": "python -m bench.creates --seeds " + " ".join(map(str, seeds)),
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "examples": list(examples),
        "deep": deep,
        "default": mean(tables.pop("")),
        "only": {clause: mean(found) for clause, found in tables.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--examples", type=int, nargs=2, default=[10, 50])
    parser.add_argument("--deep-only", action="store_true", help="measure the deep run alone, keep the rest")
    parser.add_argument("--only-clauses", nargs="+", help="measure --only C of these clauses again, keep the rest")
    args = parser.parse_args()
    unknown = sorted(set(args.only_clauses or ()) - set(clauses.BY_ID))
    if unknown:
        parser.error(f"--only-clauses: no such clause: {', '.join(unknown)}")
    table = measure(args.seeds, (args.examples[0], args.examples[1]), args.deep_only, args.only_clauses)
    CREATES_FILE.write_text(json.dumps(table, indent=1) + "\n")
    print(f"wrote {CREATES_FILE}")


if __name__ == "__main__":
    main()
