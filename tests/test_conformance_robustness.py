"""The runner never crashes: unreachable targets exit 2 fast; broken servers are judged.

Each misbehaving server is a real process on a loopback port (the script below,
written to a temp file), so the suite meets real sockets, not mocks.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import forkcli
from tests.support.procs import free_port

MISBEHAVING = r"""
import socket, sys, threading, time
mode, port = sys.argv[1], int(sys.argv[2])
BIG = 50 * 1024 * 1024
CREATED = b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"

def read_request(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head

def answer(conn, status, body, ctype=b"application/json", extra=b""):
    head = b"HTTP/1.1 %d X\r\nContent-Type: %s\r\n" % (status, ctype)
    conn.sendall(head + b"Content-Length: %d\r\n%s\r\n" % (len(body), extra) + body)

state = {"n": 0}

def handle(conn):
    try:
        while True:
            head = read_request(conn)
            if head is None:
                return
            state["n"] += 1
            if mode == "hang":
                time.sleep(3600)
            elif mode == "garbage":
                conn.sendall(b"\x00\xffTHIS IS NOT HTTP\r\n\r\n")
                return
            elif mode == "close-mid":
                conn.sendall(CREATED + b"Content-Length: 1000\r\n\r\n{\"id\": \"cus_")
                return
            elif mode == "huge":
                conn.sendall(CREATED + b"Content-Length: %d\r\n\r\n" % BIG)
                conn.sendall(b"[" + b"1," * (1024 * 1024))
                return
            elif mode == "deep":
                answer(conn, 201, b"[" * 100000 + b"]" * 100000)
            elif mode == "bigint":
                answer(conn, 201, b'{"id": ' + b"9" * 5000 + b"}")
            elif mode == "nonjson":
                answer(conn, 201, b"<html>created</html>", b"text/html")
            elif mode == "retry":
                if state["n"] == 1:
                    answer(conn, 503, b'{"status": 503}', b"application/problem+json", b"Retry-After: 1\r\n")
                else:
                    answer(conn, 200, b'{"ok": true}')
    except OSError:
        pass
    finally:
        conn.close()

server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("127.0.0.1", port))
server.listen(64)
while True:
    conn, _ = server.accept()
    threading.Thread(target=handle, args=(conn,), daemon=True).start()
"""

FAKE_KEY = "sk_test_robustness0000000000"


@pytest.fixture(scope="module")
def script(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("misbehaving") / "server.py"
    path.write_text(MISBEHAVING)
    return path


@pytest.fixture
def misbehaving(script: Path, request: pytest.FixtureRequest) -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(script), request.param, str(port)], start_new_session=True)
    try:
        # Ready when it accepts a TCP connection (an HTTP probe would hang on "hang").
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.kill()
        proc.wait(10)


def check(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """The timeout only stops a hung run; how long a run takes is the machine's load, not asserted."""
    return forkcli.run(["check", *args], timeout=timeout, env={"PATH": "/usr/bin:/bin", "HOME": "/tmp"})


def assert_one_error_line(proc: subprocess.CompletedProcess[str], start: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(start), proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr


@pytest.mark.parametrize(
    "url",
    [
        f"http://127.0.0.1:{free_port()}/v1",  # refused
        "http://no-such-host.invalid/v1",  # DNS failure
    ],
    ids=["refused", "dns"],
)
def test_unreachable_target_exits_2(url: str) -> None:
    proc = check("--base-url", url, "--api-key", FAKE_KEY)
    assert_one_error_line(proc, "Error: cannot reach ")


def test_tls_error_at_the_start_exits_2(reference_url_plain: str) -> None:
    proc = check("--base-url", reference_url_plain.replace("http://", "https://"), "--api-key", FAKE_KEY)
    assert_one_error_line(proc, "Error: cannot reach ")


@pytest.fixture
def reference_url_plain(reference_server: object) -> str:
    return str(reference_server.base_url)  # type: ignore[attr-defined]


def run_json(url: str, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], dict[str, object]]:
    report = tmp_path / "report.json"
    proc = check(
        "--base-url", url, "--api-key", FAKE_KEY, "--seed", "1", "--examples", "3", "--report-json", str(report), *extra
    )
    assert "Traceback" not in proc.stdout + proc.stderr, proc.stderr
    return proc, json.loads(report.read_text())


def verdict(document: dict[str, object], clause: str) -> str:
    return next(v["verdict"] for v in document["verdicts"] if v["clause"] == clause)  # type: ignore[attr-defined, index]


@pytest.mark.slow
@pytest.mark.parametrize(
    ("misbehaving", "clause", "code"),
    [
        ("hang", "ERR-2", 1),
        ("garbage", "ERR-2", 1),
        ("close-mid", "ERR-2", 1),
        # Every answer a 201 whose body is no JSON object: stopped at the door (exit 2), its one create the evidence.
        ("huge", "RES-1", 2),
        ("deep", "RES-1", 2),
        ("bigint", "RES-1", 1),
        ("nonjson", "RES-1", 2),
    ],
    indirect=["misbehaving"],
)
def test_broken_server_gets_a_fail_on_the_right_clause(
    misbehaving: str, clause: str, code: int, tmp_path: Path
) -> None:
    # --max-time is the run's bound (its own test is below); here it only has to outlast a busy machine.
    proc, document = run_json(misbehaving, tmp_path, "--timeout", "1", "--max-time", "180", "--only", clause)
    assert proc.returncode == code, proc.stdout[-2000:] + proc.stderr
    assert (code == 2) == ("is this the Customers API?" in proc.stderr), proc.stderr
    assert verdict(document, clause) == "FAIL"
    # Stored evidence stays small even for a 50 MiB or 100,000-deep answer.
    assert (tmp_path / "report.json").stat().st_size < 512 * 1024


@pytest.mark.parametrize("misbehaving", ["hang"], indirect=True)
def test_budget_exhausted_exits_2_with_partial_report(misbehaving: str, tmp_path: Path) -> None:
    # The server hangs for an hour: a run that returns at all, with the budget spent, was cut by --max-time.
    proc, document = run_json(misbehaving, tmp_path, "--timeout", "2", "--max-time", "1.5")
    assert_one_error_line(proc, "Error: the run budget")
    assert document["budget_exhausted"] is True


@pytest.mark.parametrize("misbehaving", ["retry"], indirect=True)
def test_503_with_retry_after_is_waited_out(misbehaving: str) -> None:
    from billing_kit.conformance.http import Budget, Client, ClientOptions
    from billing_kit.conformance.redact import Redactor

    client = Client(ClientOptions(base_url=misbehaving), Budget(30), Redactor([]))
    try:
        started = time.monotonic()
        exchange = client.send("POST", "/customers", body=b"{}")
    finally:
        client.close()
    assert exchange.status == 200 and exchange.attempts == 2
    assert time.monotonic() - started >= 1.0
