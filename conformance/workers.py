"""`--workers N`: the deep rounds in N processes forked from a forkserver.

The forkserver imports the suite (Schemathesis, Hypothesis, the checks) once,
while the default checks run (`warm_up`), and forks each worker from it: a
worker starts in milliseconds instead of paying the imports again.

Each worker gets the run's options and its index; its rounds' seeds come from
(run seed, worker index, round), so the same seed and worker count send the
same cases. Each worker has its own HTTP connection pool (a few keep-alive
connections), and a share of the run's request rate when the run has one
(`RunConfig.rate`, requests per second, divided evenly). Workers ignore SIGINT:
the parent catches it and sets the shared stop event, and every worker stops
at its next request and returns its ledger.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.synchronize import Event
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from billing_kit.conformance.deep import Job, Ledger, StopFlag

MAX_WORKERS: Final = 8

# Seconds a worker may take past its budget (spawn, imports, the request in flight) before it is given up.
GRACE = 60.0


def default_workers() -> int:
    """The CPUs this process may use, capped at MAX_WORKERS."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        cpus = os.cpu_count() or 1
    return max(1, min(cpus, MAX_WORKERS))


def share(job: Job, count: int) -> Job:
    """The job with the run's rate (if any) divided across `count` workers."""
    rate = job.config.rate
    if not rate:
        return job
    return replace(job, config=replace(job.config, rate=rate / count))


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


_STOP: Any = None
_WORK: Any = None


def _init(stop: Event, work: Callable[[Job, Any], Ledger]) -> None:
    # `work` (deep.work) reaches the worker by reference, so this module never imports deep.py.
    global _STOP, _WORK
    _ignore_sigint()
    _STOP, _WORK = stop, work


def _work(job: Job) -> Ledger:
    result: Ledger = _WORK(job, _STOP)
    return result


PRELOAD = ["billing_kit.conformance.deep", "billing_kit.conformance.checks.generic", "schemathesis", "hypothesis"]


def _context() -> Any:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def warm_up() -> None:
    """Start the forkserver now, so its imports overlap the default checks."""
    from multiprocessing import forkserver

    _context()
    forkserver.ensure_running()


def run_jobs(jobs: list[Job], stop: StopFlag, work: Callable[[Job, Any], Ledger]) -> list[Ledger]:
    """Run every job in its own process with `work`; the ledgers in job order."""
    context = _context()
    shared = context.Event()
    jobs = [share(job, len(jobs)) for job in jobs]
    with context.Pool(len(jobs), initializer=_init, initargs=(shared, work)) as pool:
        pending = pool.map_async(_work, jobs, chunksize=1)
        give_up = time.monotonic() + max(job.seconds for job in jobs) + GRACE
        while not pending.ready() and time.monotonic() < give_up:
            if stop.is_set():
                shared.set()
            pending.wait(0.2)
        if not pending.ready():
            shared.set()
            pending.wait(GRACE)
        return pending.get(0) if pending.ready() else []
