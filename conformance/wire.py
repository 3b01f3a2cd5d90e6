"""The socket layer under httpx: one deadline per exchange, a byte cap on the wire, early answers read.

httpx applies its timeouts per read and per write, so a server that drips its
headers a byte a second, or sends `100 Continue` forever, never times out; and
it writes a whole request before it reads, so a server that answers 431/413
early and stops reading stalls the write until the timeout. This module plugs a
network backend into httpcore's connection pool that:

- bounds every connect, read and write by the deadline of the exchange in
  progress on this thread (`exchange_deadline`), not by a per-call timeout;
- counts the bytes read during the exchange and fails it past `WIRE_CAP`;
- takes a connection reset after answer bytes arrived as the end of the answer
  (a reset is a dropped connection only when no response byte arrived);
- writes while watching for an answer: once the server has answered (or
  closed), the rest of the request is dropped and the answer is read, and the
  connection is never reused (its state on the server side is unknown). A
  `1xx` informational answer does not stop the writes.
- sends a request's head with what follows it (the body, or the empty end of
  a body-less request) in one write, as most clients do: httpcore writes them
  apart, and a server that answers from the head alone (a 401, a 415) before
  the body arrives would make every such exchange look answered early and
  cost a new connection (in a deep run, one request in seven did).
"""

from __future__ import annotations

import select
import socket
import ssl
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import httpcore

WIRE_CAP = (4 << 20) + (256 << 10)  # bytes read per exchange: the 1 MiB body cap with room for chunk framing


def wire_cap(body_cap: int) -> int:
    """Bytes read on the wire for a body cap: four times it (chunk framing) plus headers."""
    return 4 * body_cap + (256 << 10)


WRITE_CHUNK = 64 << 10

_state = threading.local()


class _Exchange:
    def __init__(self, deadline: float, cap: int) -> None:
        self.deadline = deadline
        self.cap = cap
        self.wire = 0
        self.wire_capped = False


@contextmanager
def exchange_deadline(seconds: float, cap: int = WIRE_CAP) -> Iterator[_Exchange]:
    """Every socket operation inside the block ends by `seconds` from now, and reads at most `cap` bytes."""
    previous = getattr(_state, "exchange", None)
    current = _Exchange(time.monotonic() + seconds, cap)
    _state.exchange = current
    try:
        yield current
    finally:
        _state.exchange = previous


def _current() -> _Exchange | None:
    return getattr(_state, "exchange", None)


def _left(timeout: float | None, error: type[Exception]) -> float | None:
    exchange = _current()
    if exchange is None:
        return timeout
    left = exchange.deadline - time.monotonic()
    if left <= 0:
        raise error("the exchange's deadline passed")
    return left if timeout is None else min(timeout, left)


class GuardedStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner
        self.answered_early = False
        self._head = b""  # a request head written by httpcore, sent with the next write

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        if self._head:
            self.write(b"", timeout)
        exchange = _current()
        try:
            data = self._inner.read(max_bytes, _left(timeout, httpcore.ReadTimeout))
        except httpcore.ReadError as exc:
            # A server that answers early and closes with the request still arriving makes the
            # kernel reset the connection: once answer bytes arrived, the reset ends the answer
            # as a close would (h11 still refuses a body shorter than its Content-Length).
            if exchange is not None and exchange.wire > 0 and isinstance(exc.__cause__, ConnectionResetError):
                return b""
            raise
        if exchange is not None:
            exchange.wire += len(data)
            if exchange.wire > exchange.cap:
                exchange.wire_capped = True
                raise httpcore.ReadError(f"answer larger than {exchange.cap} bytes on the wire")
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if self.answered_early:
            return  # the server has answered: the rest of the request is not sent
        if self._head:
            buffer, self._head = self._head + buffer, b""
        elif buffer.endswith(b"\r\n\r\n"):  # h11 writes a request's head alone: it goes with what follows
            self._head = bytes(buffer)
            return
        sock = self._inner.get_extra_info("socket")
        if not isinstance(sock, socket.socket):
            self._inner.write(buffer, _left(timeout, httpcore.WriteTimeout))
            return
        view = memoryview(buffer)
        watch_reads = True
        while view:
            left = _left(timeout, httpcore.WriteTimeout)
            pending = isinstance(sock, ssl.SSLSocket) and sock.pending() > 0
            readable, writable, _ = select.select([sock] if watch_reads else [], [sock], [], 0 if pending else left)
            if pending or readable:
                if _informational(sock):
                    watch_reads = False  # `100 Continue` and friends: keep sending, h11 reads them later
                    continue
                self.answered_early = True
                return
            if not writable:
                raise httpcore.WriteTimeout("the server stopped reading the request")
            try:
                sent = sock.send(view[:WRITE_CHUNK])
            except (ssl.SSLWantWriteError, ssl.SSLWantReadError, BlockingIOError, InterruptedError):
                continue
            except OSError:
                # Reset or broken pipe while sending: read whatever the server answered before closing.
                self.answered_early = True
                return
            view = view[sent:]

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        return GuardedStream(
            self._inner.start_tls(ssl_context, server_hostname, _left(timeout, httpcore.ConnectTimeout))
        )

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self.answered_early:
            return True  # a connection whose request was cut short is never reused
        return self._inner.get_extra_info(info)


def _informational(sock: socket.socket) -> bool:
    """The bytes waiting start a `1xx` status line (plain sockets only: TLS cannot peek)."""
    if isinstance(sock, ssl.SSLSocket):
        return False
    try:
        head = sock.recv(12, socket.MSG_PEEK | socket.MSG_DONTWAIT)
    except OSError:
        return False
    return len(head) >= 10 and head.startswith(b"HTTP/1.") and head[9:10] == b"1"


class GuardedBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        stream = self._inner.connect_tcp(
            host, port, _left(timeout, httpcore.ConnectTimeout), local_address, socket_options
        )
        return GuardedStream(stream)

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None
    ) -> httpcore.NetworkStream:  # pragma: no cover - the suite speaks TCP
        raise httpcore.ConnectError("unix sockets are not used")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


def wire_capped() -> bool:
    exchange = _current()
    return exchange is not None and exchange.wire_capped
