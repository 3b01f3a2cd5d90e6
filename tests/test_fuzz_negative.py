"""A short Schemathesis negative-mode run against the reference: no 5xx, no dropped connection.

The full 10,000-request run is `make fuzz` (bench/fuzz_negative.py); this runs the same
script, with fewer requests, against the session's reference server.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.fuzz_negative import main
from tests.support.reference import ReferenceServer

pytestmark = pytest.mark.slow

REQUESTS = 150


def test_negative_fuzzing_gets_no_5xx(reference_server: ReferenceServer, tmp_path: Path) -> None:
    out = tmp_path / "fuzz.json"
    argv = ["--requests", str(REQUESTS), "--seed", "1", "--json", str(out)]
    code = main([*argv, "--base-url", reference_server.base_url, "--key", reference_server.sandbox_key])
    figures = json.loads(out.read_text())
    assert code == 0, figures["server_errors"]
    assert figures["five_xx"] == figures["dropped"] == 0
    assert figures["sent"] + figures["unsendable"] == REQUESTS
    assert figures["sent"] >= REQUESTS * 0.9
    statuses = {int(s) for s in figures["statuses"]}
    assert 400 in statuses and statuses <= set(range(200, 500))
