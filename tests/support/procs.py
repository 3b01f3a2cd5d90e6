"""Start real server processes on free loopback ports, and stop them cleanly.

Every test that needs a server uses these: no TestClient, no mocks. A process
that fails to come up is reported with the tail of its output.
"""

from __future__ import annotations

import os
import signal
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
BILLING_KIT = str(VENV_BIN / "billing-kit")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A running server: its process, port and captured output."""

    proc: subprocess.Popen[bytes]
    port: int
    log_path: Path
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")

    def kill9(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill9()


def wait_until_up(url: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log_path.read_text(errors='replace')[-3000:]}")
        try:
            httpx.get(url, timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError(f"server not up at {url} after {timeout}s:\n{log_path.read_text(errors='replace')[-3000:]}")


@contextmanager
def run_server(
    argv: Sequence[str],
    port: int,
    ready_path: str = "/",
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 30.0,
) -> Iterator[ServerProcess]:
    """Run `argv` (which must listen on `port`) until the block ends.

    Ready when any HTTP answer comes back from `ready_path`. The process runs in
    its own process group so a kill reaches its workers too.
    """
    log = tempfile.NamedTemporaryFile(prefix="server-", suffix=".log", delete=False)  # noqa: SIM115
    log_path = Path(log.name)
    full_env = {**os.environ, **(env or {})}
    proc = subprocess.Popen(
        list(argv), stdout=log, stderr=subprocess.STDOUT, env=full_env, cwd=cwd, start_new_session=True
    )
    log.close()
    server = ServerProcess(proc=proc, port=port, log_path=log_path)
    try:
        wait_until_up(f"{server.origin}{ready_path}", proc, log_path, timeout)
        yield server
    finally:
        server.stop()
        log_path.unlink(missing_ok=True)


@contextmanager
def busy_loops(count: int = 2) -> Iterator[list[subprocess.Popen[bytes]]]:
    """`count` processes spinning on the CPU while the block runs (on a 2-core machine: all of it)."""
    loops = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(count)]
    try:
        yield loops
    finally:
        for loop in loops:
            loop.kill()
        for loop in loops:
            loop.wait()


@contextmanager
def ready_process(argv: Sequence[str]) -> Iterator[subprocess.Popen[str]]:
    """A process that prints `ready` on its first line once it listens; killed when the block ends."""
    with subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready", f"{argv[:2]} not ready"
            yield proc
        finally:
            proc.kill()
            proc.wait()


@contextmanager
def serve_in_thread(server: socketserver.BaseServer, path: str = "/v1") -> Iterator[str]:
    """An in-process HTTP server on a loopback port, served from a thread: its base URL while the block runs."""
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host!s}:{port}{path}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
