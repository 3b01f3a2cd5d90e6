"""`billing-kit demo`: the reference server on a free port, in a throwaway data directory."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from billing_kit.conformance.errors import InputError

STARTUP_SECONDS = 30.0
DATABASE_NAME = "billing.sqlite3"  # what `serve --data-dir` opens there


class DemoError(InputError):
    pass


@dataclass(frozen=True)
class DemoServer:
    base_url: str
    api_key: str
    live_key: str
    database: Path  # in a temporary directory, deleted when the demo ends


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _billing_kit(*args: str) -> list[str]:
    return [sys.executable, "-m", "billing_kit.cli", *args]


@contextmanager
def reference_server() -> Iterator[DemoServer]:
    """Yield a running reference server with a sandbox and a live key; stop it afterwards.

    The live key lives only in the throwaway data directory, so the demo can judge
    the clauses that need one (AUTH-1, RES-ENV-1, IDEM-4).
    """
    from billing_kit.conformance.contract import load_contract

    contract = load_contract()
    base_path = contract.base_path
    with tempfile.TemporaryDirectory(prefix="billing-demo-") as tmp:
        data_dir = Path(tmp)
        key = _create_key(data_dir, contract.sandbox_environment)
        live_key = _create_key(data_dir, contract.live_environment)
        port = _free_port()
        log = (data_dir / "server.log").open("wb")
        proc = subprocess.Popen(
            _billing_kit("serve", "--port", str(port), "--data-dir", str(data_dir)),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            origin = f"http://127.0.0.1:{port}"
            _wait_until_up(origin, proc, data_dir / "server.log")
            yield DemoServer(origin + base_path, key, live_key, data_dir / DATABASE_NAME)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(10)
            log.close()


def _create_key(data_dir: Path, environment: str) -> str:
    created = subprocess.run(
        _billing_kit("keys", "create", "--env", environment, "--data-dir", str(data_dir)),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if created.returncode != 0 or not created.stdout.strip():
        raise DemoError(f"cannot create a {environment} key: {(created.stderr or created.stdout).strip()[-300:]}")
    return created.stdout.splitlines()[0].strip()


def _wait_until_up(origin: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = log_path.read_text(errors="replace").strip().splitlines()[-1:]
            raise DemoError(f"the reference server exited with {proc.returncode}: {' '.join(tail)}")
        try:
            httpx.get(origin + "/", timeout=1.0)
            return
        except httpx.TransportError:
            time.sleep(0.05)
    raise DemoError(f"the reference server did not answer within {STARTUP_SECONDS:.0f} s")
