"""The reverse proxy: two byte pumps per connection, and a passive observer on each.

    client ──bytes──> proxy ──same bytes──> upstream
    client <──bytes── proxy <──same bytes── upstream

Every client connection gets its own upstream connection, and bytes are passed
on as they arrive (no parsing in the way, no re-encoding, backpressure kept:
each write is drained before the next read), so the upstream sees what the
client sends, including a 50 MiB body, a slow one, a half-close or a hang, and
cuts it as it would directly. An `http1.Observer` on each direction notes
where messages start and end and keeps the first bytes of each body (at most
the contract's `x-limits` body limit), then hands each finished exchange to
`sink`. The proxy answers by itself only when the upstream cannot: 502
problem+json when it is down or drops a request, 504 when it does not answer
within `upstream_timeout`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import socket
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from billing_kit.conformance.traffic.http1 import Observer
from billing_kit.conformance.traffic.record import (
    CLIENT_LEFT,
    UPSTREAM_DOWN,
    UPSTREAM_DROPPED,
    UPSTREAM_TIMEOUT,
    Seen,
    SeenResponse,
)

READ_SIZE = 64 << 10
RESPONSE_KEPT = 1 << 20  # bytes of a response body kept for judging
CONNECT_TIMEOUT = 5.0
LINGER = 2.0  # seconds a client may go on sending after the upstream closed
PROBLEM = "application/problem+json"


@dataclass(frozen=True)
class ProxyOptions:
    upstream_host: str
    upstream_port: int
    body_kept: int  # bytes of a request body kept for judging (the contract's body limit)
    upstream_timeout: float  # seconds the upstream has to start answering a finished request
    head_timeout: float  # seconds a client has to send a head when the proxy must answer it itself


def problem(status: int, title: str, detail: str) -> bytes:
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    head = (
        f"HTTP/1.1 {status} {title}\r\nContent-Type: {PROBLEM}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


class Connection:
    """One client connection and its upstream connection."""

    def __init__(
        self,
        options: ProxyOptions,
        sink: Callable[[Seen], None],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> None:
        self.options = options
        self.sink = sink
        self.creader, self.cwriter = reader, writer
        self.loop = asyncio.get_running_loop()
        self.pending: deque[Seen] = deque()
        self.receiving: Seen | None = None
        self.answering: Seen | None = None
        self.forwarded = False  # bytes of the current response reached the client
        self.timer: asyncio.TimerHandle | None = None
        self.finished = False
        self.requests = Observer(self._request_head, self._request_body, self._request_end, response=False)
        self.responses = Observer(self._response_head, self._response_body, self._response_end, response=True)
        self.uwriter: asyncio.StreamWriter | None = None
        self.early: Seen | None = None
        self.upstream_gone = False
        self.spare: socket.socket | None = None
        self.client_done = asyncio.Event()

    # -- observer callbacks ---------------------------------------------------
    def _request_head(self, line: str, headers: list[tuple[str, str]]) -> int | None:
        parts = line.split(" ")
        seen = Seen(parts[0], parts[1] if len(parts) > 1 else "", headers, started=self.loop.time())
        self.pending.append(seen)
        self.receiving = seen
        return None

    def _request_body(self, data: bytes) -> None:
        seen = self.receiving
        if seen is not None:
            seen.body_size += len(data)
            room = self.options.body_kept - len(seen.body)
            if room > 0:
                seen.body += data[:room]

    def _request_end(self) -> None:
        seen, self.receiving = self.receiving, None
        if seen is not None:
            seen.complete = True
            if seen is self.early:  # answered before its body was in: judged now, whole
                self.early = None
                self.sink(seen)
        self._arm()

    def _response_head(self, line: str, headers: list[tuple[str, str]]) -> int | None:
        parts = line.split(" ", 2)
        try:
            status = int(parts[1])
        except (IndexError, ValueError):
            self.responses.lose()
            return -1
        if 100 <= status < 200:
            if status == 101:
                self.responses.lose()
                self.requests.lose()
            return -1
        self._disarm()
        seen = self.pending[0] if self.pending else None
        self.answering = seen
        if seen is None:
            if not self.requests.idle:
                # An answer before the request's head was in (Node.js's 431 to an over-long
                # head): that request is never seen whole, so it is neither judged nor owed
                # an answer here, and the requests after it on this connection are not followed.
                self.requests.lose()
            return None
        seen.response = SeenResponse(status, headers, elapsed=self.loop.time() - seen.started)
        if seen.method.upper() == "HEAD" or status in (204, 304):
            return -1
        return None

    def _response_body(self, data: bytes) -> None:
        seen = self.answering
        if seen is not None and seen.response is not None:
            seen.response.body_size += len(data)
            room = RESPONSE_KEPT - len(seen.response.body)
            if room > 0:
                seen.response.body += data[:room]

    def _response_end(self) -> None:
        seen, self.answering = self.answering, None
        self.forwarded = False
        if seen is not None and self.pending and self.pending[0] is seen:
            self.pending.popleft()
            if seen.complete:
                self.sink(seen)
            else:
                self.early = seen  # the upstream answered early; the body may still come
        self._arm()

    # -- the upstream's deadline ---------------------------------------------
    def _arm(self) -> None:
        waiting = self.pending and self.pending[0].complete and self.pending[0].response is None
        if waiting and self.timer is None and not self.finished:
            self.timer = self.loop.call_later(self.options.upstream_timeout, self._timed_out)

    def _disarm(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _timed_out(self) -> None:
        self.timer = None
        self._answer_alone(504, "Gateway Timeout", UPSTREAM_TIMEOUT)
        if self.uwriter is not None:
            self.uwriter.transport.abort()

    def _answer_alone(self, status: int, title: str, why: str) -> None:
        """The upstream cannot answer the oldest request: answer it here (once) and end the connection."""
        if self.finished:
            return
        self.finished = True
        seen = self.pending[0] if self.pending else None
        if seen is not None and seen.response is None:
            seen.error = why
            self.sink(seen)
            if not self.forwarded and not self.cwriter.is_closing():
                self.cwriter.write(problem(status, title, why))
        self.pending.clear()
        self.cwriter.close()

    # -- the pumps ------------------------------------------------------------
    async def run(self) -> None:
        try:
            ureader, uwriter = await asyncio.wait_for(
                asyncio.open_connection(self.options.upstream_host, self.options.upstream_port), CONNECT_TIMEOUT
            )
        except (TimeoutError, OSError):
            await self._upstream_down()
            return
        self.uwriter = uwriter
        # A second handle on the upstream socket: when a write fails (the upstream answered early
        # and reset the connection), asyncio closes the transport, but the answer may still sit
        # unread in the kernel; this handle can still read it (see _salvage).
        raw = uwriter.get_extra_info("socket")
        self.spare = socket.socket(fileno=os.dup(raw.fileno())) if raw is not None else None
        try:
            await asyncio.gather(self._client_to_upstream(), self._upstream_to_client(ureader))
        finally:
            self._disarm()
            if self.early is not None:
                self.sink(self.early)  # the connection ended before the rest of its body
                self.early = None
            uwriter.close()
            self.cwriter.close()
            if self.spare is not None:
                self.spare.close()

    async def _upstream_down(self) -> None:
        with contextlib.suppress(OSError, asyncio.TimeoutError, asyncio.IncompleteReadError):
            async with asyncio.timeout(self.options.head_timeout):
                while not self.pending:
                    data = await self.creader.read(READ_SIZE)
                    if not data:
                        break
                    self.requests.feed(data)
        if self.pending:
            seen = self.pending[0]
            seen.error = UPSTREAM_DOWN
            self.sink(seen)
            with contextlib.suppress(OSError):
                self.cwriter.write(problem(502, "Bad Gateway", UPSTREAM_DOWN))
                await self.cwriter.drain()
        self.cwriter.close()

    async def _client_to_upstream(self) -> None:
        assert self.uwriter is not None
        try:
            while True:
                data = await self.creader.read(READ_SIZE)
                if not data:
                    break
                if not self.requests.lost:
                    self.requests.feed(data)
                if self.upstream_gone or self.uwriter.is_closing():
                    self.upstream_gone = True
                    continue  # lingering: the upstream stopped reading; what the client still sends is dropped
                self.uwriter.write(data)
                try:
                    await self.uwriter.drain()
                except (OSError, RuntimeError):
                    self.upstream_gone = True
                if self.receiving is not None:
                    # Mid-body, reads and writes may complete without yielding: let the loop see
                    # an early answer (a 413) before the upstream's reset destroys it.
                    await asyncio.sleep(0)
            if not self.upstream_gone and self.uwriter.can_write_eof() and not self.uwriter.is_closing():
                self.uwriter.write_eof()  # a half-close reaches the upstream as one
        except (OSError, RuntimeError):
            pass  # the client went away; the other pump ends the connection
        finally:
            self.client_done.set()

    async def _upstream_to_client(self, ureader: asyncio.StreamReader) -> None:
        try:
            while True:
                data = await ureader.read(READ_SIZE)
                if not data:
                    break
                if not self.responses.lost:
                    self.responses.feed(data)
                if self.answering is not None:
                    self.forwarded = True
                self.cwriter.write(data)
                await self.cwriter.drain()
        except (OSError, RuntimeError):
            await self._salvage()
        self.responses.close()
        self.upstream_gone = True
        waiting = self.pending and self.pending[0].complete and self.pending[0].response is None
        if waiting and not self.client_done.is_set():
            self._answer_alone(502, "Bad Gateway", UPSTREAM_DROPPED)
        else:
            # The client hung up first (its close reached the upstream): no answer is owed.
            self.finished = True
            for seen in self.pending:
                if seen.response is None:
                    seen.error = CLIENT_LEFT
                    self.sink(seen)
            self.pending.clear()
        await self._linger()

    async def _salvage(self) -> None:
        """Pass on what the upstream sent before its connection broke and is still unread."""
        if self.spare is None:
            return
        with contextlib.suppress(OSError, RuntimeError):
            self.spare.setblocking(False)
            while data := self.spare.recv(READ_SIZE):
                if not self.responses.lost:
                    self.responses.feed(data)
                self.cwriter.write(data)
                await self.cwriter.drain()

    async def _linger(self) -> None:
        """The upstream is done: pass its close on as a half-close and let the client finish sending.

        Closing a socket with unread input makes the kernel reset the connection, which can
        destroy an answer (a 413) the client has not read yet; the upstream's own close was
        seen by a client that was still sending, so the proxy drains for a moment too.
        """
        if not self.cwriter.is_closing():
            with contextlib.suppress(OSError, RuntimeError):
                if self.cwriter.can_write_eof():
                    self.cwriter.write_eof()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.client_done.wait(), LINGER)
        self.cwriter.close()


class ProxyServer:
    """The listening proxy and the connections it is serving."""

    def __init__(self, options: ProxyOptions, sink: Callable[[Seen], None]) -> None:
        self.options = options
        self.sink = sink
        self.server: asyncio.Server | None = None
        self.tasks: set[asyncio.Task[None]] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.tasks.add(task)
        try:
            await Connection(self.options, self.sink, reader, writer).run()
        except asyncio.CancelledError:
            writer.transport.abort()  # shutting down: end quietly
        except Exception:  # one broken connection must never stop the proxy
            writer.transport.abort()
        finally:
            self.tasks.discard(task)

    async def start(self, host: str, port: int) -> asyncio.Server:
        self.server = await asyncio.start_server(self.handle, host, port, backlog=1024)
        return self.server

    async def close(self, grace: float = 5.0) -> None:
        """Stop listening, give open exchanges `grace` seconds, then end the rest."""
        if self.server is not None:
            self.server.close()
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=grace)
        for task in set(self.tasks):
            task.cancel()
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=grace)
