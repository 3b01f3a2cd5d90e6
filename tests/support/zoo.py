"""The Python zoo server (tests/servers/zoo.py) for one test, with keys of this session.

`zoo(defect, may)` starts it on a free port with `SANDBOX_KEY` and `LIVE_KEY` (one
organisation) and yields its base URL; `may` is the flavour (`strict` or `lenient`:
opposite MAY choices), `defect` one name of tests/servers/defects.json.
"""

from __future__ import annotations

import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from billing_kit.conformance.contract import load_contract
from tests.support.procs import ROOT, free_port, run_server

ZOO_PY = ROOT / "tests/servers/zoo.py"
_CONTRACT = load_contract()
SANDBOX_KEY = _CONTRACT.prefix_of_environment(_CONTRACT.sandbox_environment) + "zoo" + secrets.token_hex(8)
LIVE_KEY = _CONTRACT.prefix_of_environment(_CONTRACT.live_environment) + "zoo" + secrets.token_hex(8)


@contextmanager
def zoo(defect: str | None = None, may: str = "strict") -> Iterator[str]:
    """The zoo server on a free port; yields its base URL (`http://127.0.0.1:PORT/v1`)."""
    port = free_port()
    argv = [sys.executable, str(ZOO_PY), "--port", str(port), "--keys", f"{SANDBOX_KEY},{LIVE_KEY}"]
    argv += ["--may", may, *(["--defect", defect] if defect else [])]
    with run_server(argv, port) as server:
        yield f"{server.origin}/v1"
