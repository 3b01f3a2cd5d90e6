"""Send a large body a chunk at a time over a raw connection, and stop when the server answers.

httpx writes a whole request body before it reads the answer, so a server that
answers 413 early and closes (what REQ-BODY-2 asks) would look like a dropped
connection. This sender polls for an answer between chunks, stops sending when
one arrives, and parses it with h11, which supports early responses. The
exchange is recorded through the client like any other, so ERR-2 judges it.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import h11

from billing_kit.conformance import jsonsafe
from billing_kit.conformance.context import CheckContext
from billing_kit.conformance.contract import CUSTOMERS_PATH
from billing_kit.conformance.http import REQUEST_EXCERPT, cut_note, echo_cap
from billing_kit.conformance.model import Exchange, RecordedRequest, RecordedResponse

CHUNK = 64 << 10


@dataclass(frozen=True)
class BigBody:
    """`size` bytes made of `head`, `fill` repeated, and `tail`; sent announced or chunked."""

    head: bytes
    fill: bytes
    tail: bytes
    size: int
    chunked: bool

    def chunks(self) -> Iterator[bytes]:
        yield self.head
        remaining = self.size - len(self.head) - len(self.tail)
        block = self.fill * (CHUNK // len(self.fill) + 1)
        while remaining > 0:
            part = block[: min(CHUNK, remaining)]
            remaining -= len(part)
            yield part
        yield self.tail


def padded_create(email: str, tag: dict[str, str], size: int, chunked: bool) -> BigBody:
    """A valid create whose metadata carries padding: exactly `size` bytes of JSON."""
    tag_json = ", ".join(f'"{k}": "{v}"' for k, v in tag.items())
    head = f'{{"email": "{email}", "metadata": {{{tag_json}, "pad": "'.encode()
    return BigBody(head=head, fill=b"x", tail=b'"}}', size=size, chunked=chunked)


class _Answered(Exception):
    pass


def _connect(ctx: CheckContext, host: str, port: int, tls: bool, timeout: float) -> socket.socket:
    sock = socket.create_connection((host, port), timeout=timeout)
    if not tls:
        return sock
    verify = ctx.config.verify
    context = ssl.create_default_context(cafile=verify if isinstance(verify, str) else None)
    if verify is False:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context.wrap_socket(sock, server_hostname=host)


def send_big(
    ctx: CheckContext, body: BigBody, headers: Sequence[tuple[str, str]] = (), path: str = CUSTOMERS_PATH
) -> Exchange:
    """POST `body`; the answer, or why there was none, as an Exchange recorded in ctx.log."""
    client = ctx.client
    if client.stopped is not None:
        raise client.stopped
    client.budget.check()
    url = client.url(path)
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    key = ctx.config.api_key or ""
    all_headers = [
        ("Host", parts.netloc),
        ("User-Agent", client.options.user_agent),
        *client.options.extra_headers,
        ("Authorization", f"Bearer {key}"),
        ("Content-Type", "application/json"),
        ("Connection", "close"),
        *headers,
    ]
    all_headers.append(("Transfer-Encoding", "chunked") if body.chunked else ("Content-Length", str(body.size)))
    request = RecordedRequest(
        method="POST",
        url=url,
        headers=[(k, client.redactor.text(v)) for k, v in all_headers],
        body=client.redactor.data((body.head + body.fill * REQUEST_EXCERPT)[:REQUEST_EXCERPT]),
        body_size=body.size,
        key_ref="api",
    )
    client.rate.wait()
    timeout = max(0.05, min(client.options.timeout, client.budget.remaining()))
    client.sent += 1
    exchange = client.record(
        _exchange(ctx, request, body, all_headers, host, port, parts.scheme == "https", target, timeout)
    )
    exchange.resend = lambda: send_big(ctx, body, headers, path)  # --confirm streams the same body again
    return exchange


def _exchange(
    ctx: CheckContext,
    request: RecordedRequest,
    body: BigBody,
    headers: list[tuple[str, str]],
    host: str,
    port: int,
    tls: bool,
    target: str,
    timeout: float,
) -> Exchange:
    started = time.monotonic()
    deadline = started + timeout
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=64 << 10)
    sent = 0
    reason = ctx.client.reason
    try:
        sock = _connect(ctx, host, port, tls, timeout)
    except (OSError, ssl.SSLError) as exc:
        return Exchange(request, None, error=f"cannot connect: {reason(exc)}")
    with sock:
        try:
            try:
                _send_watching(sock, conn.send(h11.Request(method="POST", target=target, headers=headers)), deadline)
                for chunk in body.chunks():
                    _send_watching(sock, conn.send(h11.Data(data=chunk)), deadline)
                    sent += len(chunk)
                    if time.monotonic() > deadline:
                        break
                else:
                    _send_watching(sock, conn.send(h11.EndOfMessage()), deadline)
            except (_Answered, BrokenPipeError, ConnectionResetError, ssl.SSLError, TimeoutError):
                pass  # the server answered (or closed, or stopped reading) before the whole body: read what it said
            return _read_answer(ctx, request, conn, sock, started, deadline, sent)
        except (OSError, h11.ProtocolError) as exc:
            return Exchange(request, None, error=_why(ctx.client.redactor.text(str(exc)), exc, sent, started))


def _send_watching(sock: socket.socket, data: bytes, deadline: float) -> None:
    """Send `data`, raising _Answered as soon as the server has something to say (read while writing)."""
    view = memoryview(data)
    while view:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError
        readable, writable, _ = select.select([sock], [sock], [], left)
        if readable:
            raise _Answered
        if writable:
            sock.settimeout(left)
            view = view[sock.send(view[:CHUNK]) :]


def _why(text: str, exc: BaseException, sent: int, started: float) -> str:
    what = text[:160] or "connection closed"
    return f"{type(exc).__name__}: {what} after {sent} body bytes, {time.monotonic() - started:.2f} s"


def _read_answer(
    ctx: CheckContext,
    request: RecordedRequest,
    conn: h11.Connection,
    sock: socket.socket,
    started: float,
    deadline: float,
    sent: int,
) -> Exchange:
    status: int | None = None
    response_headers: list[tuple[str, str]] = []
    data = bytearray()
    truncated = False
    cap = echo_cap(request.body_size)  # a conforming echo of a large accepted body is read whole
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return Exchange(
                    request, None, error=f"no answer within {deadline - started:.1f} s ({sent} body bytes sent)"
                )
            sock.settimeout(remaining)
            try:
                incoming = sock.recv(CHUNK)
            except TimeoutError:
                return Exchange(
                    request, None, error=f"no answer within {deadline - started:.1f} s ({sent} body bytes sent)"
                )
            except ConnectionResetError as exc:
                if status is None:
                    return Exchange(request, None, error=_why(str(exc), exc, sent, started))
                break
            conn.receive_data(incoming)
            continue
        if isinstance(event, h11.InformationalResponse):
            continue
        if isinstance(event, h11.Response):
            status = event.status_code
            response_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers]
        elif isinstance(event, h11.Data):
            data += event.data
            if len(data) > cap:
                data, truncated = data[:cap], True
                break
        elif isinstance(event, h11.EndOfMessage | h11.ConnectionClosed):
            break
    if status is None:
        return Exchange(request, None, error=f"connection closed without an answer after {sent} body bytes")
    redactor = ctx.client.redactor
    recorded = RecordedResponse(
        status=status,
        headers=[(k, redactor.text(v)) for k, v in response_headers],
        body=redactor.data(bytes(data)),
        truncated=truncated,
        elapsed=time.monotonic() - started,
        secret_echoed=redactor.contains(bytes(data)),
    )
    if data and not truncated:
        recorded.json, recorded.json_error = jsonsafe.loads(recorded.body)
    else:
        recorded.json_error = "empty body" if not data else cut_note(cap)
    return Exchange(request, recorded)
