"""A passive HTTP/1.1 observer: it reads a copy of the bytes the proxy forwards.

The proxy never waits on it and never re-encodes anything: bytes go through as
they came, and `feed` only notes where each message starts and ends (head,
Content-Length or chunked framing, a body until the connection closes) and keeps
the first bytes of each body. On anything it cannot follow it stops observing
(`lost`), and the bytes still flow.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum

HEAD_CAP = 64 << 10  # a head longer than this is not followed (the upstream answers it as it likes)


class _State(Enum):
    HEAD = 1
    LENGTH = 2
    CHUNK_SIZE = 3
    CHUNK_DATA = 4
    CHUNK_CRLF = 5
    TRAILERS = 6
    UNTIL_CLOSE = 7
    LOST = 8


Head = tuple[str, list[tuple[str, str]]]  # the start line, the headers
OnHead = Callable[[str, list[tuple[str, str]]], "int | None"]  # -> body framing: None = from the headers, -1 = none


class Observer:
    """Follows one direction of one connection; calls back on each message's head, body and end."""

    def __init__(
        self,
        on_head: OnHead,
        on_body: Callable[[bytes], None],
        on_end: Callable[[], None],
        *,
        response: bool,
    ) -> None:
        self.on_head = on_head
        self.on_body = on_body
        self.on_end = on_end
        self.response = response
        self.state = _State.HEAD
        self.buffer = bytearray()
        self.remaining = 0

    @property
    def lost(self) -> bool:
        return self.state is _State.LOST

    @property
    def idle(self) -> bool:
        return self.state is _State.HEAD and not self.buffer

    def lose(self) -> None:
        self.state = _State.LOST
        self.buffer.clear()

    def close(self) -> None:
        """The connection ended: a body read until close is complete."""
        if self.state is _State.UNTIL_CLOSE:
            self.state = _State.HEAD
            self.on_end()

    def feed(self, data: bytes) -> None:
        view = memoryview(data)
        while view and self.state is not _State.LOST:
            view = self._step(view)

    def _step(self, view: memoryview) -> memoryview:
        state = self.state
        if state is _State.HEAD:
            return self._head(view)
        if state is _State.LENGTH or state is _State.CHUNK_DATA:
            take = min(self.remaining, len(view))
            self.on_body(bytes(view[:take]))
            self.remaining -= take
            if self.remaining == 0:
                if state is _State.LENGTH:
                    self._end()
                else:
                    self.state = _State.CHUNK_CRLF
                    self.remaining = 2
            return view[take:]
        if state is _State.UNTIL_CLOSE:
            self.on_body(bytes(view))
            return view[len(view) :]
        if state is _State.CHUNK_CRLF:
            take = min(self.remaining, len(view))
            self.remaining -= take
            if self.remaining == 0:
                self.state = _State.CHUNK_SIZE
            return view[take:]
        # CHUNK_SIZE and TRAILERS read lines.
        line, rest = self._line(view)
        if line is None:
            return rest
        if state is _State.CHUNK_SIZE:
            try:
                size = int(line.split(b";", 1)[0].strip() or b"x", 16)
            except ValueError:
                self.lose()
                return rest
            if size == 0:
                self.state = _State.TRAILERS
            else:
                self.state, self.remaining = _State.CHUNK_DATA, size
        elif line == b"":
            self._end()
        return rest

    def _line(self, view: memoryview) -> tuple[bytes | None, memoryview]:
        data = bytes(view)
        index = data.find(b"\n")
        if index < 0:
            self.buffer += data
            if len(self.buffer) > HEAD_CAP:
                self.lose()
            return None, view[len(view) :]
        line = bytes(self.buffer) + data[:index]
        self.buffer.clear()
        return line.rstrip(b"\r"), view[index + 1 :]

    def _head(self, view: memoryview) -> memoryview:
        data = bytes(view)
        if not self.buffer:
            data = data.lstrip(b"\r\n")  # blank lines between messages
            view = view[len(view) - len(data) :]
            if not data:
                return view
        joined = bytes(self.buffer) + data
        end = joined.find(b"\r\n\r\n")
        cut = 4
        if end < 0:
            end, cut = joined.find(b"\n\n"), 2
        if end < 0:
            self.buffer += data
            if len(self.buffer) > HEAD_CAP:
                self.lose()
            return view[len(view) :]
        consumed = end + cut - len(self.buffer)
        self.buffer.clear()
        lines = joined[:end].decode("latin-1").replace("\r\n", "\n").split("\n")
        headers = []
        for line in lines[1:]:
            name, sep, value = line.partition(":")
            if not sep:
                self.lose()
                return view[consumed:]
            headers.append((name.strip(), value.strip()))
        framing = self.on_head(lines[0], headers)
        self._frame(headers, framing)
        return view[consumed:]

    def _frame(self, headers: list[tuple[str, str]], framing: int | None) -> None:
        if framing == -1:
            self._end()
            return
        lowered = {k.lower(): v for k, v in headers}
        if "chunked" in lowered.get("transfer-encoding", "").lower():
            self.state = _State.CHUNK_SIZE
            return
        length = lowered.get("content-length")
        if length is not None:
            if not length.isdigit():
                self.lose()
                return
            self.remaining = int(length)
            if self.remaining == 0:
                self._end()
            else:
                self.state = _State.LENGTH
            return
        if self.response:
            self.state = _State.UNTIL_CLOSE
        else:
            self._end()

    def _end(self) -> None:
        self.state = _State.HEAD
        self.on_end()
