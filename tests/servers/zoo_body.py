"""The zoo server's reading of a request body: Content-Length or chunked, the size limit, timeouts."""

from __future__ import annotations

import time
from email.message import Message
from io import BufferedIOBase
from typing import TYPE_CHECKING

from zoo_rules import Reject, bad_request

if TYPE_CHECKING:
    from zoo import App

READ_CHUNK = 64 * 1024


class BodyReader:
    """Mixed into the request handler: the body's bytes, or a 400/408/413."""

    headers: Message
    rfile: BufferedIOBase
    consumed: bool

    def read_body(self, app: App) -> bytes:
        length = self.headers.get("Content-Length")
        chunked = (self.headers.get("Transfer-Encoding") or "").strip().lower()
        limit = None if app.on("413-missing") else app.rules.body_limit
        if chunked and length is not None:
            raise bad_request("both Content-Length and Transfer-Encoding")
        if chunked:
            if chunked != "chunked":
                raise bad_request(f"unsupported Transfer-Encoding {chunked[:20]!r}")
            body = self.read_chunked(app, limit)
            if app.on("refuses-chunked"):
                # Stock Connexion: the size guard in front reads the chunks; the framework behind
                # it looks for Content-Length, finds none and sees no body at all.
                self.consumed = True
                raise bad_request("RequestBody is required")
        elif length is not None:
            if not length.strip().isdigit():
                raise bad_request("Content-Length is not a number")
            size = int(length)
            if limit is not None and size > limit:
                if app.on("hang-on-large-body"):
                    time.sleep(3600)
                raise too_large(limit)
            body = self.read_exactly(size, time.monotonic() + app.body_timeout)
        else:
            body = b""
        self.consumed = True
        return body

    def read_exactly(self, size: int, deadline: float) -> bytes:
        parts: list[bytes] = []
        left = size
        while left > 0:
            if time.monotonic() > deadline:
                raise Reject(408, "Request Timeout", "the body arrived too slowly")
            part = self.rfile.read(min(left, READ_CHUNK))
            if not part:
                raise ConnectionError("the client closed the connection mid-body")
            parts.append(part)
            left -= len(part)
        return b"".join(parts)

    def read_chunked(self, app: App, limit: int | None) -> bytes:
        deadline = time.monotonic() + app.body_timeout
        if app.on("413-chunked-missing"):
            limit = None  # the limit was only ever applied to Content-Length
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1024)
            try:
                size = int(line.split(b";")[0].strip(), 16)
            except ValueError:
                raise bad_request("malformed chunk size") from None
            if size == 0:
                while self.rfile.readline(8192).strip():
                    pass  # trailers
                return b"".join(parts)
            total += size
            if limit is not None and total > limit:
                if app.on("hang-on-large-body"):
                    time.sleep(3600)
                raise too_large(limit)
            parts.append(self.read_exactly(size, deadline))
            if self.rfile.readline(8) not in (b"\r\n", b"\n"):
                raise bad_request("malformed chunk")


def too_large(limit: int) -> Reject:
    return Reject(413, "Payload Too Large", f"the body is larger than {limit} bytes")
