"""A server closing an idle keep-alive connection as the suite reuses it is not a dropped request.

The server below (a real process on a loopback port) answers the first request
of each connection and closes the connection at the next one without a byte of
answer, as a server whose idle timeout fires just as the client reuses the
connection does. The client resends once on a new connection, as HTTP clients
do; a reset on a new connection stays evidence (ERR-2).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from billing_kit.conformance.http import Budget, Client, ClientOptions
from billing_kit.conformance.redact import Redactor
from tests.support.procs import free_port, ready_process

SERVER = r"""
import socket, struct, sys, threading
mode, port = sys.argv[1], int(sys.argv[2])

def close(conn):
    if mode.endswith("rst"):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()

def handle(conn):
    served = 0
    data = b""
    while True:
        while b"\r\n\r\n" not in data:
            chunk = conn.recv(65536)
            if not chunk:
                conn.close()
                return
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        while len(data) < length:
            data += conn.recv(65536)
        data = data[length:]
        if mode.startswith("always") or served:
            close(conn)
            return
        served += 1
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")

listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", port))
listener.listen(64)
print("ready", flush=True)
while True:
    conn, _ = listener.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
"""


@pytest.fixture
def closing_server(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    port = free_port()
    with ready_process([sys.executable, str(script), request.param, str(port)]):
        yield f"http://127.0.0.1:{port}"


def send_twice(base_url: str) -> tuple[Client, list[bool]]:
    client = Client(ClientOptions(base_url=base_url, timeout=5), Budget(30), Redactor([]))
    try:
        answered = []
        for _ in range(2):
            exchange = client.send("POST", "/customers", body=b"{}", headers=[("Content-Type", "application/json")])
            answered.append(exchange.status == 200)
            time.sleep(0.05)  # the connection goes idle in the pool
    finally:
        client.close()
    return client, answered


@pytest.mark.parametrize("closing_server", ["reused-rst", "reused-eof"], indirect=True)
def test_a_reused_connection_closed_by_the_server_is_resent_once(closing_server: str) -> None:
    client, answered = send_twice(closing_server)
    assert answered == [True, True]
    assert client.reconnects == 1
    assert client.sent == 2


@pytest.mark.parametrize("closing_server", ["always-rst", "always-eof"], indirect=True)
def test_a_reset_on_a_new_connection_stays_evidence(closing_server: str) -> None:
    client = Client(ClientOptions(base_url=closing_server, timeout=5), Budget(30), Redactor([]))
    try:
        exchange = client.send("POST", "/customers", body=b"{}", headers=[("Content-Type", "application/json")])
    finally:
        client.close()
    assert exchange.response is None
    assert exchange.error is not None and ("reset" in exchange.error.lower() or "disconnected" in exchange.error)
    assert client.reconnects == 0
