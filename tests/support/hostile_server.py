"""The misbehaving server of tests/servers/hostile_server.py, started in one mode on a free port."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.procs import ROOT, free_port, ready_process

SERVER = ROOT / "tests" / "servers" / "hostile_server.py"


@contextmanager
def hostile_server(mode: str) -> Iterator[str]:
    """The server's origin (`http://127.0.0.1:PORT`) while it runs in `mode`; killed afterwards."""
    port = free_port()
    with ready_process([sys.executable, str(SERVER), "--mode", mode, "--port", str(port)]):
        yield f"http://127.0.0.1:{port}"
