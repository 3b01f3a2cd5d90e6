"""The bench script whose results the README quotes writes the keys the README's markers read.

`python -m bench.default_run` is run once, small (one default run, one `--help` each), and
every key a `<!-- figure: bench/results/default_run-….json KEY … -->` marker names in the
README and the guide must be in what it writes: a re-run of the bench can replace the file.
"""

from __future__ import annotations

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.procs import ROOT
from tests.test_docs_guide import MARKER, PAGES, resolve

pytestmark = pytest.mark.slow


def default_run_keys() -> set[str]:
    keys: set[str] = set()
    for page in PAGES:
        for marker in MARKER.finditer(page.read_text(encoding="utf-8")):
            source, *named = shlex.split(marker.group("body"))
            if Path(source).name.startswith("default_run-"):
                keys.update(named)
    return keys


def test_default_run_writes_every_key_the_docs_quote(tmp_path: Path) -> None:
    keys = default_run_keys()
    assert {"check.requests_min", "check.requests_max"} <= keys
    out = tmp_path / "default_run.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.default_run", "--runs", "1", "--cli-runs", "1", "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    written = json.loads(out.read_text())
    for key in sorted(keys):
        resolve(written, key)  # KeyError if the bench no longer writes it
    assert written["check"]["exit_codes"] == [0]
    assert written["check"]["requests_min"] > 0
