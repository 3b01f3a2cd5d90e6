"""A server that answers before the request is fully sent, then closes, is judged on its answer.

Two zoo servers answer early and close with the request still arriving: Node's
own `http` (431 past `maxHeaderSize`, and 401/413 with `Connection: close`
before the body is read) and a raw-socket Python one (hostile_server.py
`--mode early-close`). Closing with unread bytes makes the kernel reset the
connection, so a client that writes the whole request before reading sees
`ECONNRESET` depending on timing. The suite's client reads while it writes and
judges the answer it got: each case is sent 100 times with two busy loops
competing for the CPU, and no exchange may end without an answer (what ERR-2
would report as a dropped connection). A server that answers from a small
request's head, before reading its body, keeps its keep-alive connection: the
client sends head and body together.
"""

from __future__ import annotations

import socketserver
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_kit.conformance.checks.streaming import padded_create, send_big
from billing_kit.conformance.config import RunConfig
from billing_kit.conformance.context import CheckContext
from billing_kit.conformance.contract import CUSTOMERS_PATH, load_contract
from billing_kit.conformance.http import Budget, Client, ClientOptions
from billing_kit.conformance.redact import Redactor
from tests.support.procs import ROOT, busy_loops, free_port, ready_process, serve_in_thread
from tests.support.tools import require

ROUNDS = 100
KEY = "sk_test_earlyanswers0123456789"
PADDING = "x" * (64 << 10)
BIG_BODY = b'{"email": "big@example.com", "pad": "' + b"x" * (256 << 10) + b'"}'


@pytest.fixture
def busy_cpu() -> Iterator[None]:
    """Two busy loops competing for the CPU for the length of the test (stopped by it)."""
    with busy_loops(2):
        yield


@pytest.fixture(params=["node", "python"])
def early_server(request: pytest.FixtureRequest) -> Iterator[str]:
    port = free_port()
    if request.param == "node":
        command = [require("node"), str(ROOT / "tests" / "servers" / "early_close.mjs"), str(port)]
    else:
        command = [sys.executable, str(ROOT / "tests" / "servers" / "hostile_server.py"), "--mode", "early-close"]
        command += ["--port", str(port)]
    with ready_process(command):
        yield f"http://127.0.0.1:{port}/v1"


def describe(status: int | None, error: str | None) -> str:
    return f"HTTP {status}" if status is not None else f"no answer: {error}"


@pytest.mark.slow
def test_early_answers_are_read_not_taken_for_dropped_connections(early_server: str, busy_cpu: None) -> None:
    client = Client(ClientOptions(base_url=early_server, timeout=10), Budget(600), Redactor([KEY]))
    ctx = CheckContext(load_contract(), RunConfig(base_url=early_server, api_key=KEY), client, nonce="early")
    auth = ("Authorization", f"Bearer {KEY}")
    json_type = ("Content-Type", "application/json")
    padded = [auth, json_type, ("X-Padding", PADDING)]
    seen: dict[str, list[str]] = {"431": [], "413": [], "401": [], "413-streamed": []}
    try:
        for _ in range(ROUNDS):
            cases = {
                "431": client.send("POST", CUSTOMERS_PATH, body=b"{}", headers=padded),
                "413": client.send("POST", CUSTOMERS_PATH, body=BIG_BODY, headers=[auth, json_type]),
                "401": client.send("POST", CUSTOMERS_PATH, body=BIG_BODY, headers=[json_type]),
                "413-streamed": send_big(ctx, padded_create("big@example.com", ctx.run_tag, 256 << 10, False)),
            }
            for name, exchange in cases.items():
                seen[name].append(describe(exchange.status, exchange.error))
    finally:
        client.close()
    expected = {"431": "HTTP 431", "413": "HTTP 413", "401": "HTTP 401", "413-streamed": "HTTP 413"}
    wrong = {name: sorted(set(got) - {expected[name]}) for name, got in seen.items()}
    assert all(not bad for bad in wrong.values()), wrong
    # Nothing ERR-2 would count: every exchange of the run got an answer, none a 5xx.
    assert all(e.response is not None and e.response.status < 500 for e in ctx.log)
    assert len(ctx.log) == 4 * ROUNDS


def test_a_server_that_answers_then_stops_reading_is_not_a_timeout(tmp_path: Path) -> None:
    """413 sent after the headers, then the server neither reads nor closes: the answer, not a timeout."""
    script = tmp_path / "stall.py"
    script.write_text(
        "import socket, sys, time\n"
        "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
        "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen(8); print('ready', flush=True)\n"
        "while True:\n"
        "    c, _ = s.accept(); c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)\n"
        "    c.recv(1024)\n"
        "    c.sendall(b'HTTP/1.1 413 Content Too Large\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\n{}')\n"
        "    time.sleep(60)\n"
    )
    port = free_port()
    with ready_process([sys.executable, str(script), str(port)]):
        client = Client(ClientOptions(base_url=f"http://127.0.0.1:{port}", timeout=5), Budget(60), Redactor([]))
        try:
            body = b"x" * (8 << 20)
            exchange = client.send("POST", "/customers", body=body, headers=[("Content-Type", "text/plain")])
        finally:
            client.close()
    assert exchange.status == 413, exchange.error


class _CountingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    accepted = 0


class _HeadAnswerer(socketserver.BaseRequestHandler):
    """Answers 401 as soon as a request's head is in, then reads its body and waits for the next one."""

    def handle(self) -> None:
        assert isinstance(self.server, _CountingServer)
        self.server.accepted += 1
        sock, pending = self.request, b""
        while True:
            while b"\r\n\r\n" not in pending:
                data = sock.recv(65536)
                if not data:
                    return
                pending += data
            head, _, pending = pending.partition(b"\r\n\r\n")
            sock.sendall(b"HTTP/1.1 401 Unauthorized\r\nContent-Type: application/problem+json\r\n"
                         b"Content-Length: 2\r\n\r\n{}")  # fmt: skip
            length = int(
                next(
                    (
                        line.split(b":")[1]
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    b"0",
                )
            )
            while len(pending) < length:
                data = sock.recv(65536)
                if not data:
                    return
                pending += data
            pending = pending[length:]


def test_a_small_request_answered_from_its_head_keeps_its_connection() -> None:
    """A 401 sent before the body is read is no early close: one connection serves every request."""
    server = _CountingServer(("127.0.0.1", 0), _HeadAnswerer)
    with serve_in_thread(server) as base_url:
        client = Client(ClientOptions(base_url=base_url, timeout=10), Budget(600), Redactor([KEY]))
        try:
            statuses = [
                client.send("POST", CUSTOMERS_PATH, body=b'{"email": "a@example.com"}').status for _ in range(ROUNDS)
            ]
        finally:
            client.close()
    assert statuses == [401] * ROUNDS
    assert server.accepted == 1
