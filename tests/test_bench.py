"""The benchmark's entry point runs end to end in its smoke mode, and its CPU meter measures."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.procstat import descendants, tree_cpu_seconds
from tests.support.procs import ROOT
from tests.support.tools import require


def test_tree_cpu_counts_a_busy_child() -> None:
    busy = "import time\nt = time.process_time()\nwhile time.process_time() - t < 0.5: pass\n"
    busy += "print('done', flush=True)\ntime.sleep(60)"
    child = subprocess.Popen([sys.executable, "-c", busy], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "done"  # however long a loaded machine takes
        assert child.pid in descendants(os.getpid())
        assert tree_cpu_seconds(child.pid) >= 0.45  # /proc counts in 10 ms ticks
    finally:
        child.kill()
        child.communicate()


@pytest.mark.slow
def test_quick_run_prints_the_table_and_writes_json(tmp_path: Path) -> None:
    require("wrk")
    argv = [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--servers", "floor,reference", "--skip-cli"]
    argv += ["--results-dir", str(tmp_path)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "| server | req/s | × floor |" in done.stdout
    results = json.loads((tmp_path / "latest.json").read_text())
    by_name = {s["name"]: s for s in results["servers"]}
    assert set(by_name) == {"floor", "reference"}
    for server in by_name.values():
        assert server["status"] == "ok"
        assert server["median"]["requests"] > 0
        assert server["median"]["errors"] == 0
        assert server["median"]["cpu_us_per_request"] > 0
    assert by_name["floor"]["x_floor_rps"] == 1.0
    assert results["machine"]["cores"] == os.cpu_count()
    assert len(list(tmp_path.glob("*.json"))) == 2
