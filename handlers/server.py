"""uvicorn's httptools protocol with deadlines a slow client cannot stretch.

uvicorn has no deadline for a request's headers, and its keep-alive timer is reset by
every byte, so a client sending one byte a second holds a connection for ever. Here:
- the headers of each request must be complete within `header_timeout_seconds`
  (x-limits) of the connection opening or the request's first byte, else the server
  writes a plain `408` and closes (the app never sees the request, as ERR-3 allows);
- the guard gives the body `body_timeout_seconds` in all (handlers/guard.py);
- a body still arriving after the answer was sent (uvicorn discards it so that the
  client can read a 413) is cut off after `body_timeout_seconds` too.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from handlers.spec import contract

TIMEOUT_RESPONSE = b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


class DeadlineHttpToolsProtocol(HttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        limits = contract().limits
        self._header_timeout = float(limits.get("header_timeout_seconds", 10))
        self._body_timeout = float(limits.get("body_timeout_seconds", 30))
        self._deadline: asyncio.TimerHandle | None = None

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

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm(self._header_timeout, write_408=True)

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if self.cycle is not None and self.cycle.more_body and not self.transport.is_closing():
            self._arm(self._body_timeout, write_408=False)


def http_protocol() -> type[HttpToolsProtocol]:
    return DeadlineHttpToolsProtocol
