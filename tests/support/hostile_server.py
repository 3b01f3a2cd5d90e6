"""The misbehaving server of tests/servers/hostile_server.py, started in one mode on a free port."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.procs import ROOT, free_port

SERVER = ROOT / "tests" / "servers" / "hostile_server.py"


@contextmanager
def hostile_server(mode: str) -> Iterator[str]:
    """The server's origin (`http://127.0.0.1:PORT`) while it runs in `mode`; killed afterwards."""
    port = free_port()
    with subprocess.Popen(
        [sys.executable, str(SERVER), "--mode", mode, "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    ) as proc:
        try:
            assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
            yield f"http://127.0.0.1:{port}"
        finally:
            proc.kill()
            proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
