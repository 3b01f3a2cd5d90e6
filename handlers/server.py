"""uvicorn's httptools protocol with deadlines a slow client cannot stretch.

uvicorn has no deadline for a request's headers, and its keep-alive timer is reset by
every byte, so a client sending one byte a second holds a connection for ever. Here:
- the headers of each request must be complete within `header_timeout_seconds`
  (x-limits) of the connection opening or the request's first byte, else the server
  writes a plain `408` and closes (the app never sees the request, as ERR-3 allows);
- the guard gives the body `body_timeout_seconds` in all (handlers/guard.py);
- a body still arriving after the answer was sent (uvicorn discards it so that the
  client can read a 413) is cut off after `body_timeout_seconds` too; once it has been
  discarded, the idle connection gets uvicorn's keep-alive timeout (uvicorn itself
  cancels that timer when the rest of the body arrives and never re-arms it);
- a request line and headers larger than `header_bytes` (x-limits; 16 KiB, as h11's
  and Node's default) get a `400` and the connection is closed (httptools
  buffers a header of any size: 80 MB in 10 s cost 140 MB of memory before this cap);
- every `400` this layer writes (the header cap, and the HTTP that httptools cannot
  parse) is a problem document, as the app's are (ERR-3), instead of uvicorn's plain
  text: clients generated from the spec parse every 400 as a `Problem`.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from billing_kit.handlers.problems import PROBLEM_TYPE, Problem
from billing_kit.handlers.spec import contract

TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class _HeadersTooLarge(Exception):
    """Raised from a parser callback: httptools stops, and `send_400_response` answers."""


class DeadlineHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        spec = contract()
        self._header_timeout = spec.header_timeout_seconds
        self._body_timeout = spec.body_timeout_seconds
        self._header_bytes_limit = spec.header_bytes_limit
        self._deadline: asyncio.TimerHandle | None = None
        self._header_bytes: int | None = None  # None: not inside a request's headers
        self._headers_too_large = False
        self._parsed_header_bytes = 0

    def _arm(self, seconds: float, write_408: bool) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, self._expire, write_408)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _expire(self, write_408: bool) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        if write_408:
            self.transport.write(TIMEOUT_RESPONSE)
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self._header_timeout, write_408=True)

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # Counted after parsing: a chunk that completes the headers may carry body bytes.
        if self._header_bytes is not None and not self.transport.is_closing():
            self._header_bytes += len(data)
            if self._header_bytes > self._header_bytes_limit:
                self._headers_too_large = True
                self.send_400_response("")

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to what httptools refused, as a problem document; the connection is closed."""
        self._disarm()
        if self._headers_too_large:
            msg = f"The request line and headers are larger than {self._header_bytes_limit} bytes"
        body = Problem(400, msg).body()
        head = [STATUS_LINE[400]]
        for name, value in self.server_state.default_headers:
            head.extend([name, b": ", value, b"\r\n"])
        head.append(b"content-type: %s\r\ncontent-length: %d\r\n" % (PROBLEM_TYPE.encode(), len(body)))
        self.transport.write(b"".join([*head, b"connection: close\r\n\r\n", body]))
        self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._parsed_header_bytes = 0
        self._arm(self._header_timeout, write_408=True)

    def on_header(self, name: bytes, value: bytes) -> None:
        # Headers that arrived in one read are not counted by data_received.
        super().on_header(name, value)
        self._parsed_header_bytes += len(name) + len(value)
        if self._parsed_header_bytes + len(self.url) > self._header_bytes_limit:
            self._headers_too_large = True
            raise _HeadersTooLarge

    def on_headers_complete(self) -> None:
        self._header_bytes = None
        self._disarm()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()
        if self.cycle is not None and self.cycle.response_complete and not self.transport.is_closing():
            self._arm(self.timeout_keep_alive, write_408=False)

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.cycle is not None and self.cycle.more_body and not self.transport.is_closing():
            self._arm(self._body_timeout, write_408=False)


def http_protocol() -> type[HttpToolsProtocol]:
    return DeadlineHttpToolsProtocol
