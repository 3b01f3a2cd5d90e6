"""`check --until RATE`: deep rounds until every clause they judge rules out RATE.

A clause judged on `n` passing generated cases rules out, at 95 %, every defect that
breaks it on a share `assurance.rate_ruled_out(n)` of the inputs or more; `--until
1e-3` keeps the deep rounds going until each clause's generated cases (the default
run's generated checks plus the deep rounds) reach `assurance.cases_for(1e-3)`, 2,995.

    worker, after each round   ->  rounds/worker-N.json: its counts per clause so far
    the run, every POLL s      ->  the counts merged (one point of the series per change),
                                   the clauses at the rate and when, weights.json
    worker, before each round  <-  weights.json: how far each clause still is from the rate

The run stops the rounds (between two of a worker's rounds, or at its next request)
once every clause the rounds judge is at the rate; `--duration` or `--max-time`
stop it earlier, and then the clauses short of the rate are named and the run exits
as a deep run cut short does (2). Clauses with generated cases that no deep round
judges (the default run's own phases, e.g. other methods than POST), or judges fewer
than `LEAST_DEEP_CASES` times (a tenth of the rate's cases, at most 30) by the run's
end, cannot get there by deep rounds: they are listed apart and do not hold the run.

Weights, kept simple: a worker learns which clauses each piece of a round advances
(Schemathesis's positive draws, its negative draws, the variants, each property
check) and runs a piece only while one of them is short of the rate; a piece's size
grows with the share still missing of its furthest clause, up to `MAX_BOOST` times
its default. The files are the channel because the workers are processes of their
own: the counts cross once per round, never per request.

Every deep run records the series (with or without --until): the cases per clause
after each merged round, with its time, thinned to at most `SERIES_POINTS` points a
clause; the HTML report draws it (`reports/chart.py`).
"""

from __future__ import annotations

import json
import math
import os
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

from billing_kit.conformance.assurance import cases_for, one_in

POLL: Final = 0.5  # seconds between two reads of the workers' counts
SERIES_POINTS: Final = 60  # at most this many points per clause in the report
MAX_BOOST: Final = 10  # a piece of a round grows to at most this many times its default size
# A clause holds the run once the rounds judged it this often (a tenth of the cases the rate needs,
# at most 30): one they judge only by rare chance (a wrong media type among the negative draws) would
# hold every run to its ceiling, whatever the rate, so it is listed apart with ERR-4's kind.
LEAST_DEEP_CASES: Final = 30
WEIGHTS: Final = "weights.json"


def parse_rate(text: str | float) -> float:
    """`1e-3`, `0.001` -> 0.001; ValueError with a one-line reason outside (0, 1)."""
    try:
        rate = float(text)
    except ValueError:
        raise ValueError(f"--until expects a rate between 0 and 1 (1e-3, 0.001), got {text!r}") from None
    if not 0 < rate < 1 or math.isnan(rate):
        raise ValueError(f"--until expects a rate between 0 and 1 (exclusive), got {text!r}")
    return rate


def _write(path: Path, data: object) -> None:
    """Atomically: a reader sees the old file or the new one, never half of one."""
    part = path.with_suffix(f".{os.getpid()}.part")
    part.write_text(json.dumps(data), encoding="utf-8")
    os.replace(part, path)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class Channel:
    """The directory through which workers report their rounds and read the weights."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    # -- worker side
    def report(self, worker: int, judged: Counter[str], rounds: int) -> None:
        _write(self.path / f"worker-{worker}.json", {"rounds": rounds, "judged": dict(judged)})

    def weights(self) -> dict[str, float] | None:
        """Each clause short of the rate: the share of its cases still missing (None: no weights yet)."""
        data = _read(self.path / WEIGHTS)
        return {str(k): float(v) for k, v in data.items()} if isinstance(data, dict) else None

    # -- the run's side
    def counts(self) -> tuple[Counter[str], int]:
        """Every worker's counts so far, merged, and their rounds."""
        merged: Counter[str] = Counter()
        rounds = 0
        for path in sorted(self.path.glob("worker-*.json")):
            data = _read(path)
            if isinstance(data, dict):
                merged.update({str(k): int(v) for k, v in data.get("judged", {}).items()})
                rounds += int(data.get("rounds", 0))
        return merged, rounds

    def publish(self, weights: dict[str, float]) -> None:
        _write(self.path / WEIGHTS, weights)


class Weights:
    """A worker's view of the weights: which pieces of a round to run, and how large."""

    def __init__(self, short: dict[str, float] | None) -> None:
        self.short = short

    def furthest(self, reach: set[str] | None) -> float:
        """The missing share of the furthest short clause `reach` advances (1.0 before anything is known; 0: skip)."""
        if self.short is None or reach is None:
            return 1.0
        return max((self.short[c] for c in reach if c in self.short), default=0.0)

    def size(self, default: int, reach: set[str] | None) -> int:
        """A piece's size: its default with no --until, 0 when none of its clauses is short, up to MAX_BOOST x."""
        if self.short is None:
            return default
        share = self.furthest(reach)
        return 0 if share <= 0 else max(default, round(default * MAX_BOOST * share))

    def stranded(self, reaches: list[set[str] | None]) -> bool:
        """Short clauses that no piece advances (only the whole-round judges do): then every piece runs."""
        return self.short is not None and all(self.furthest(r) <= 0 for r in reaches) and bool(self.short)


def thin(points: list[tuple[float, int]], most: int = SERIES_POINTS) -> list[tuple[float, int]]:
    """At most `most` points, the first and the last kept, the others evenly spread over the list."""
    if len(points) <= most:
        return list(points)
    step = (len(points) - 1) / (most - 1)
    return [points[round(i * step)] for i in range(most)]


class Watch(threading.Thread):
    """The run's side: merges the rounds' counts every POLL s, records the series, decides the stop.

    `baseline()` gives the default run's generated cases per clause (read while it runs);
    `started` is the run's start (time.monotonic()); `rate` None records the series only;
    `only` (--only) limits the clauses the rate is asked of.
    """

    def __init__(
        self,
        channel: Channel,
        started: float,
        baseline: Callable[[], Counter[str]],
        rate: float | None,
        stop: threading.Event,
        only: tuple[str, ...] = (),
    ) -> None:
        super().__init__(name="deep-until", daemon=True)
        self.channel, self.started, self.baseline, self.rate, self.stop = channel, started, baseline, rate, stop
        self.target = cases_for(rate) if rate is not None else None
        self.only = set(only)
        self.least = max(1, min(LEAST_DEEP_CASES, math.ceil(self.target / 10))) if self.target else 1
        self.done = threading.Event()
        self.series: dict[str, list[tuple[float, int]]] = {}
        self.reached: dict[str, float] = {}
        self.targets: set[str] = set()
        self._last: Counter[str] | None = None
        self._lock = threading.Lock()

    def run(self) -> None:
        while not self.done.wait(POLL):
            self.poll()

    def poll(self, deep: Counter[str] | None = None) -> None:
        """One look at the counts (`deep`: the final merged counts, at the end)."""
        with self._lock:
            counts = deep if deep is not None else self.channel.counts()[0]
            if counts == self._last:
                return
            self._last = Counter(counts)
            now = round(time.monotonic() - self.started, 1)
            generated = self.baseline()
            totals = {c: n + generated.get(c, 0) for c, n in counts.items() if n > 0}
            for clause, total in totals.items():
                self.series.setdefault(clause, []).append((now, total))
            if self.target is None:
                return
            self.targets |= {c for c, n in counts.items() if n >= self.least and (not self.only or c in self.only)}
            for clause in self.targets:
                total = totals.get(clause, 0)
                if total >= self.target and clause not in self.reached:
                    self.reached[clause] = now
            missing = {c: 1 - totals.get(c, 0) / self.target for c in self.targets if c not in self.reached}
            self.channel.publish(missing)
            if self.targets and not missing:
                self.stop.set()

    def finish(self, deep: Counter[str]) -> None:
        """The final merged counts as the series' last point; the watch stops."""
        self.done.set()
        if self.is_alive():
            self.join()
        self.poll(deep)

    @property
    def all_reached(self) -> bool:
        return bool(self.targets) and self.targets <= set(self.reached)

    def series_document(self) -> dict[str, list[list[float]]]:
        """options.deep.series: per clause [[seconds into the run, cases], ...], at most SERIES_POINTS each."""
        return {c: [[t, n] for t, n in thin(points)] for c, points in sorted(self.series.items())}

    def document(self, generated: Counter[str]) -> dict[str, Any]:
        """options.deep.until: the rate, the cases it takes, which clauses got there and when, which did not."""
        assert self.rate is not None and self.target is not None
        last = self._last or Counter()
        judged = {c for c, n in generated.items() if n > 0} | {c for c, n in last.items() if n > 0}
        wanted = {c for c in judged if not self.only or c in self.only}
        if not last:  # no round was merged (the budget went to the default checks): every clause is short
            self.targets = set(wanted)
        totals = {c: last.get(c, 0) + generated.get(c, 0) for c in self.targets}
        outside = sorted(wanted - self.targets)
        return {
            "rate": self.rate,
            "one_in": one_in(self.rate),
            "cases": self.target,
            "reached": {c: self.reached[c] for c in sorted(self.reached, key=lambda c: (self.reached[c], c))},
            "short": {c: totals[c] for c in sorted(self.targets - set(self.reached))},
            "outside_deep_rounds": outside,
            "least_deep_cases": self.least,
            "all_reached": self.all_reached,
        }


def describe(until: dict[str, Any]) -> str:
    """One line for the run's progress: the clauses at the rate and when, those short of it."""
    reached = ", ".join(f"{c} at {t:g} s" for c, t in until["reached"].items()) or "none"
    line = f"until {until['one_in']} ({until['cases']:,} cases a clause): reached by {reached}"
    if until["short"]:
        line += "; short of it: " + ", ".join(f"{c} ({n:,})" for c, n in until["short"].items())
    if until["outside_deep_rounds"]:
        line += f"; judged by no deep round or under {until['least_deep_cases']} times: "
        line += ", ".join(until["outside_deep_rounds"])
    return line
