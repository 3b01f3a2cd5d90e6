"""The proxy is never the weak point: upstream down, upstream hanging, clients that give up or flood.

No traceback, the right status to the client, and the proxy keeps serving.
"""

from __future__ import annotations

import json
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from billing_kit.conformance.contract import load_contract
from tests.support.procs import free_port
from tests.support.reference import ReferenceServer
from tests.support.traffic import proxy_in_front

BODY = {"email": "down@example.com"}


def problem_status(response: httpx.Response) -> int:
    assert response.headers["content-type"] == "application/problem+json"
    status: int = response.json()["status"]
    return status


def evidence(report: dict[str, object], clause: str) -> list[dict[str, object]]:
    entry = next(v for v in report["verdicts"] if v["clause"] == clause)  # type: ignore[attr-defined]
    return list(entry["evidence"])


@contextmanager
def silent_upstream() -> Iterator[int]:
    """A server that accepts connections and never answers (each held open until the block ends)."""

    def hold(conn: socket.socket, stop: threading.Event) -> None:
        with conn:
            stop.wait()

    with threaded_upstream(hold) as port:
        yield port


def test_upstream_down_gets_502_problem_and_an_err2_note(tmp_path: Path) -> None:
    with proxy_in_front(f"http://127.0.0.1:{free_port()}", tmp_path) as run:
        for _ in range(3):
            answer = httpx.post(f"{run.origin}/v1/customers", json=BODY, timeout=10)
            assert answer.status_code == 502
            assert problem_status(answer) == 502
    assert "Traceback" not in run.output
    notes = [e for e in evidence(run.report, "ERR-2") if e["kind"] == "note"]
    assert len(notes) == 3 and "refused" in str(notes[0]["message"])
    assert run.returncode == 2  # nothing could be judged: the upstream never answered


def test_upstream_hanging_gets_504_and_err2_fail(tmp_path: Path) -> None:
    with (
        silent_upstream() as port,
        proxy_in_front(f"http://127.0.0.1:{port}", tmp_path, ["--upstream-timeout", "1"]) as run,
    ):
        for _ in range(2):
            answer = httpx.post(f"{run.origin}/v1/customers", json=BODY, timeout=30)
            assert answer.status_code == 504
            assert problem_status(answer) == 504
    assert "Traceback" not in run.output
    assert run.party("server") == {"ERR-2": "FAIL"}
    assert run.returncode == 1


def test_client_leaving_mid_body_and_flooding(reference_server: ReferenceServer, tmp_path: Path) -> None:
    key = reference_server.sandbox_key
    limit = load_contract().body_bytes_limit
    with proxy_in_front(reference_server.origin, tmp_path) as run:
        # A client that announces 1000 bytes, sends 10 and hangs up.
        with socket.create_connection(("127.0.0.1", run.port), timeout=10) as sock:
            sock.sendall(
                b"POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"Authorization: Bearer " + key.encode() + b'\r\nContent-Length: 1000\r\n\r\n{"email": '
            )
        # A client that sends 50 MiB: cut exactly as the upstream cuts it.
        direct = flood(reference_server.server.port, key)
        proxied = flood(run.port, key)
        assert proxied == direct, (proxied, direct)
        # Still serving.
        answer = httpx.post(
            f"{run.origin}/v1/customers", json=BODY, headers={"Authorization": f"Bearer {key}"}, timeout=10
        )
        assert answer.status_code == 201
    assert "Traceback" not in run.output
    assert run.party("server") == {}, run.output[-2000:]
    assert (
        run.report["options"]["not_judged"].get("the client went away before an answer", 0)
        + run.report["options"]["not_judged"].get("the client did not finish its request", 0)
        >= 1
    )
    assert limit < 50 << 20


def flood(port: int, key: str, size: int = 50 << 20) -> str:
    """Send a `size`-byte body in chunks until the server stops reading; the answer's status line or 'reset'."""
    head = (
        f"POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {key}\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n"
    ).encode()
    chunk = b" " * (256 << 10)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        try:
            sock.sendall(head + b'{"email": "flood@example.com", "x": "')
            sent = 0
            while sent < size:
                sock.sendall(chunk)
                sent += len(chunk)
        except OSError:
            pass
        try:
            answer = sock.recv(65536)
        except OSError:
            return "reset"
    return answer.split(b"\r\n", 1)[0].decode() if answer else "closed"


def test_sigterm_writes_every_report(tmp_path: Path) -> None:
    junit, html = tmp_path / "proxy.xml", tmp_path / "proxy.html"
    extra = ["--junit", str(junit), "--html", str(html)]
    with proxy_in_front(f"http://127.0.0.1:{free_port()}", tmp_path, extra, stop=signal.SIGTERM) as run:
        httpx.post(f"{run.origin}/v1/customers", json=BODY, timeout=10)
    report = json.loads(run.report_path.read_text())
    assert set(report["options"]["parties"]) == {"client", "server"}
    assert "<testsuite" in junit.read_text() and "ERR-2" in html.read_text()


@contextmanager
def threaded_upstream(answer: Callable[[socket.socket, threading.Event], None]) -> Iterator[int]:
    """A raw TCP server on a free port: `answer(conn, stop)` on a thread per connection, until the block ends."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            thread = threading.Thread(target=answer, args=(conn, stop), daemon=True)
            thread.start()
            threads.append(thread)

    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        server.join(5)
        for thread in threads:
            thread.join(5)
        listener.close()


@contextmanager
def impatient_upstream(wait: float = 1.0) -> Iterator[int]:
    """A server that gives a request's body `wait` seconds, then answers 408 and closes."""

    def answer(conn: socket.socket, _stop: threading.Event) -> None:
        with conn:
            conn.settimeout(wait)
            data = b""
            try:
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(
                    next(
                        v
                        for k, _, v in (ln.partition(b":") for ln in head.split(b"\r\n"))
                        if k.lower() == b"content-length"
                    )
                )
                while len(body) < length:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    body += chunk
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except TimeoutError:
                conn.sendall(b"HTTP/1.1 408 Request Timeout\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            except (OSError, StopIteration, ValueError):
                return

    with threaded_upstream(answer) as port:
        yield port


def hang_mid_body(port: int) -> str:
    """Announce 100 bytes, send 10, wait: the first line of whatever answer comes back."""
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(b"POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 100\r\n\r\n{\"email\": ")  # fmt: skip
        answer = sock.recv(65536)
    return answer.split(b"\r\n", 1)[0].decode()


def test_hanging_client_is_cut_by_the_upstream_not_the_proxy(tmp_path: Path) -> None:
    with impatient_upstream() as port, proxy_in_front(f"http://127.0.0.1:{port}", tmp_path) as run:
        direct = hang_mid_body(port)
        proxied = hang_mid_body(run.port)
    assert direct == proxied == "HTTP/1.1 408 Request Timeout"
    assert "Traceback" not in run.output
    assert run.party("server") == {}


@contextmanager
def header_limit_upstream(limit: int) -> Iterator[int]:
    """Node.js's way with an over-long head: 431 once `limit` bytes of it are in, then close a moment later."""

    def answer(conn: socket.socket, stop: threading.Event) -> None:
        with conn:
            conn.settimeout(10)
            head = b""
            try:
                while len(head) < limit and b"\r\n\r\n" not in head:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    head += chunk
                conn.sendall(
                    b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                )
                stop.wait(0.5)  # the close comes after the client has sent the rest of its head
            except OSError:
                return

    with threaded_upstream(answer) as port:
        yield port


def test_an_answer_before_the_head_is_in_is_passed_on_alone_and_blames_no_one(tmp_path: Path) -> None:
    """The upstream answers 431 mid-head; the rest of the head reaches the proxy before the upstream's close.

    The client must get the 431 and nothing after it, and the upstream is not blamed for
    "no answer" to a request it did answer.
    """
    first = b"POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Padding: " + b"a" * 4000
    rest = b"a" * 4000 + b"\r\nContent-Length: 2\r\n\r\n{}"
    with (
        header_limit_upstream(len(first)) as port,
        proxy_in_front(f"http://127.0.0.1:{port}", tmp_path) as run,
        socket.create_connection(("127.0.0.1", run.port), timeout=15) as sock,
    ):
        sock.sendall(first)
        answer = sock.recv(65536)
        sock.sendall(rest)
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert answer.count(b"HTTP/1.1 ") == 1, answer[:400]
    assert "Traceback" not in run.output
    assert run.party("server") == {}, run.report
