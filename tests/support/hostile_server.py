"""The misbehaving server of tests/servers/hostile_server.py, started in one mode on a free port."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.procs import ROOT, free_port, ready_process

SERVER = ROOT / "tests" / "servers" / "hostile_server.py"


@contextmanager
def hostile_server(mode: str, *, first_ok: bool = False) -> Iterator[str]:
    """The server's origin (`http://127.0.0.1:PORT`) while it runs in `mode`; killed afterwards.

    `first_ok`: its first request is answered as a conforming create (the run gets past the door).
    """
    port = free_port()
    argv = [sys.executable, str(SERVER), "--mode", mode, "--port", str(port), *(["--first-ok"] if first_ok else [])]
    with ready_process(argv):
        yield f"http://127.0.0.1:{port}"
