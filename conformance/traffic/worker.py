"""The proxy's judge runs in a process of its own, so judging never delays forwarding.

    proxy process                                  judge process
    event loop --sink--> Feeder (deque) --thread--> pipe --> Session.take(...)
                                                            live lines, capture, reports

The event loop only appends each finished exchange to a deque (O(1)); a thread
sends them in batches over a pipe; the judge process (forked before the event
loop starts) judges, prints the live lines, writes the capture, and at the end
the reports, and exits with the run's exit code. Past `limit` waiting exchanges
the proxy counts instead of queueing (memory stays bounded when the judge falls
behind), and the count is in the report. The judge runs at a lower priority, so
on a saturated machine it is judging, not forwarding, that gives way.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import click

from billing_kit.conformance.traffic.record import Seen

END = "end"
# The judge yields the CPU to forwarding and to the upstream: on a saturated machine it falls
# behind, and the proxy counts what it could not queue instead of slowing the traffic.
JUDGE_NICENESS = 10


class Feeder:
    """The proxy's side: `put` from the event loop, batches to the judge from a thread."""

    def __init__(self, conn: Connection, limit: int) -> None:
        self.conn = conn
        self.limit = limit
        self.items: deque[Seen] = deque()
        self.dropped = 0
        self.closed = False
        self.wake = threading.Event()
        self.thread = threading.Thread(target=self._run, name="traffic-feeder", daemon=True)
        self.thread.start()

    def put(self, seen: Seen) -> None:
        if len(self.items) >= self.limit:
            self.dropped += 1
            return
        self.items.append(seen)
        self.wake.set()

    def _run(self) -> None:
        try:
            while True:
                self.wake.wait()
                self.wake.clear()
                batch = []
                while self.items:
                    batch.append(self.items.popleft())
                if batch:
                    self.conn.send(batch)
                if self.closed and not self.items:
                    break
            self.conn.send((END, self.dropped))
        except OSError:
            pass  # the judge process is gone; the proxy still forwards
        finally:
            self.conn.close()

    def close(self, wait: float) -> None:
        self.closed = True
        self.wake.set()
        self.thread.join(wait)


def run_judge(conn: Connection, make_session: Callable[[], Any], finish: Callable[[Any], int]) -> None:
    """The judge process: judge until the proxy says END (or goes away), then report and exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the proxy decides when the run ends
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    with contextlib.suppress(OSError):
        os.nice(JUDGE_NICENESS)
    code = 2
    try:
        session = make_session()
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):
                break
            if isinstance(message, tuple) and message and message[0] == END:
                session.tally.dropped = int(message[1])
                break
            for seen in message:
                session.take(seen)
        session.close()
        code = finish(session)
    except click.ClickException as exc:
        print(f"Error: {exc.format_message()}", file=sys.stderr)
        code = exc.exit_code
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 2
    except Exception as exc:  # never a traceback: one Error line
        print(f"Error: the judge failed: {type(exc).__name__}: {exc}", file=sys.stderr)
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


def open_capture(path: Path | None) -> Any:
    return path.open("a", encoding="utf-8") if path is not None else None
