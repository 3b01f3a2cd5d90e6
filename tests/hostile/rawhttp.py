"""HTTP/1.1 over a raw socket: bytes exactly as given, which httpx would normalise or refuse.

The response is read by a second thread while the request is still being sent, so an
early answer (a 413 after the first megabyte, a 400 after an oversized header) is
caught even if the server then closes the connection under the sender's feet.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class RawResponse:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()


@dataclass
class Exchange:
    response: RawResponse | None
    raw: bytes
    sent: int
    send_error: str | None
    elapsed: float
    closed_by_server: bool = False
    notes: list[str] = field(default_factory=list)


def parse_response(raw: bytes) -> RawResponse | None:
    """The first complete response in `raw`, or None."""
    head, sep, rest = raw.partition(b"\r\n\r\n")
    if not sep:
        return None
    lines = head.decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        return None
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    if len(rest) < length:
        return None
    return RawResponse(int(parts[1]), headers, rest[:length])


class _Reader(threading.Thread):
    def __init__(self, sock: socket.socket) -> None:
        super().__init__(daemon=True)
        self.sock = sock
        self.buffer = b""
        self.closed = False
        self.done = threading.Event()

    def run(self) -> None:
        try:
            while parse_response(self.buffer) is None:
                data = self.sock.recv(65536)
                if not data:
                    self.closed = True
                    break
                self.buffer += data
        except OSError:
            self.closed = True
        finally:
            self.done.set()


def exchange(
    port: int, head: bytes, body: Iterable[bytes], timeout: float = 30.0, stop_on_answer: bool = True
) -> Exchange:
    """Send `head` then `body` chunk by chunk; return the first response.

    With `stop_on_answer=False` the whole body is pushed even after an early answer,
    as a hostile client would.
    """
    started = time.monotonic()
    sent = 0
    send_error: str | None = None
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        reader = _Reader(sock)
        reader.start()
        try:
            sock.sendall(head)
            sent += len(head)
            for chunk in body:
                if stop_on_answer and reader.done.is_set():
                    break
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError as exc:
            send_error = type(exc).__name__
        reader.done.wait(timeout)
        elapsed = time.monotonic() - started
        return Exchange(
            response=parse_response(reader.buffer),
            raw=reader.buffer,
            sent=sent,
            send_error=send_error,
            elapsed=elapsed,
            closed_by_server=reader.closed,
        )


def tree_rss_kib(pid: int) -> int:
    """VmRSS of `pid` and all its descendants, in KiB (Linux /proc)."""
    total = 0
    pending = [pid]
    while pending:
        current = pending.pop()
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                pending.extend(int(c) for c in children)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total


class RssSampler(threading.Thread):
    """Samples a process tree's resident memory every few milliseconds; `.peak` in KiB."""

    def __init__(self, pid: int, interval: float = 0.005) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.baseline = tree_rss_kib(pid)
        self.peak = self.baseline
        self.samples = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.peak = max(self.peak, tree_rss_kib(self.pid))
            self.samples += 1
            self._halt.wait(self.interval)

    def stop(self) -> int:
        """Stop sampling; the growth over the baseline in KiB."""
        self._halt.set()
        self.join()
        self.peak = max(self.peak, tree_rss_kib(self.pid))
        return self.peak - self.baseline
