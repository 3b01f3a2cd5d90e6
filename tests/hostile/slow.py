"""Slow clients: connections that dribble bytes, and when the server cuts them off."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

from tests.hostile.rawhttp import RawResponse, parse_response


@dataclass
class Dribble:
    """What a dribbling client saw: `cut_after` is None when the server never closed."""

    cut_after: float | None
    sent: int
    raw: bytes

    @property
    def response(self) -> RawResponse | None:
        return parse_response(self.raw)


def dribble(port: int, data: bytes, interval: float, give_up_after: float, prefix: bytes = b"") -> Dribble:
    """Send `prefix` at once, then `data` one byte per `interval`, until the server closes.

    The clock starts once `prefix` is sent (at connect when there is none). Stops at
    `give_up_after` seconds (or when `data` runs out, then waits for the server).
    """
    sock = socket.create_connection(("127.0.0.1", port), timeout=give_up_after + 5)
    raw = bytearray()
    closed = threading.Event()
    closed_at: list[float] = []

    def read() -> None:
        try:
            while chunk := sock.recv(65536):
                raw.extend(chunk)
        except OSError:
            pass
        closed_at.append(time.monotonic())
        closed.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    sent = 0
    try:
        sock.sendall(prefix)
        started = time.monotonic()
        for byte in data:
            if closed.wait(interval) or time.monotonic() - started > give_up_after:
                break
            sock.sendall(bytes([byte]))
            sent += 1
        closed.wait(max(0.0, give_up_after - (time.monotonic() - started)))
    except OSError:
        closed.wait(5)
    finally:
        sock.close()
        reader.join(5)
    cut_after = closed_at[0] - started if closed_at and closed_at[0] - started < give_up_after else None
    return Dribble(cut_after=cut_after, sent=sent, raw=bytes(raw))


def crowd(port: int, count: int, first_bytes: bytes, give_up_after: float) -> list[float | None]:
    """`count` connections that each send `first_bytes` and then nothing; when each was closed."""
    import selectors

    selector = selectors.DefaultSelector()
    started = time.monotonic()
    cut: dict[int, float | None] = {}
    socks: list[socket.socket] = []
    try:  # the sockets opened so far are closed even if a later connect fails
        for index in range(count):
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            socks.append(sock)
            sock.sendall(first_bytes)
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, index)
            cut[index] = None
        while any(v is None for v in cut.values()) and time.monotonic() - started < give_up_after:
            for key, _ in selector.select(timeout=0.1):
                conn = socks[key.data]
                try:
                    data = conn.recv(65536)
                except OSError:
                    data = b""
                if not data:
                    cut[key.data] = time.monotonic() - started
                    selector.unregister(conn)
    finally:
        for sock in socks:
            sock.close()
        selector.close()
    return [cut[i] for i in range(count)]
