"""The customers a run announces it will create, against what it creates (within 25 %).

The announcement is the safeguard for shared staging servers. Its table
(conformance/creates.json) is measured by bench/creates.py on seeds 1 and 2; these runs use
seed 3 and other example counts against the session's reference server, through the CLI, so
the number compared is the one printed.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.support.procs import BILLING_KIT
from tests.support.reference import ReferenceServer

TOLERANCE = 0.25


@pytest.mark.parametrize(
    "extra",
    [[], ["--examples", "20"], ["--only", "REQ-LEN-1"], ["--only", "IDEM-4"], ["--only", "AUTH-1,REQ-META-1"]],
    ids=["default", "examples-20", "only-REQ-LEN-1", "only-IDEM-4", "only-two"],
)
def test_the_announced_customers_are_within_a_quarter_of_those_created(
    reference_server: ReferenceServer, tmp_path: Path, extra: list[str]
) -> None:
    report = tmp_path / "r.json"
    done = subprocess.run(
        [
            BILLING_KIT, "check", "--base-url", reference_server.base_url, "--api-key", reference_server.sandbox_key,
            "--live-key", reference_server.live_key, "--allow-live", "--seed", "3",
            "--report-json", str(report), *extra,
        ],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    announced = re.search(r"This run creates about ([\d,]+) customers?", done.stdout)
    assert announced is not None, done.stdout[:1000]
    estimate = int(announced.group(1).replace(",", ""))
    created = len(json.loads(report.read_text())["created"])
    assert abs(estimate - created) <= TOLERANCE * created, f"announced {estimate}, created {created}"


def test_a_deep_run_announces_its_rate_and_ceiling_and_keeps_under_it(
    reference_server: ReferenceServer, tmp_path: Path
) -> None:
    report = tmp_path / "r.json"
    done = subprocess.run(
        [
            BILLING_KIT, "check", "--base-url", reference_server.base_url, "--api-key", reference_server.sandbox_key,
            "--only", "REQ-LEN-2", "--duration", "15s", "--rate", "40", "--seed", "3", "--report-json", str(report),
        ],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr
    # 15 s: on a busy machine the default checks alone can take several seconds of the deep run's time.
    found = re.search(r"Its deep rounds \(15 s\) then create about ([\d.]+) per 100 requests: at --rate 40, about "
                      r"([\d,]+), at most 600 \(one per request\)\.", done.stdout)  # fmt: skip
    assert found is not None, done.stdout[:1500]
    deep = json.loads(report.read_text())["options"]["deep"]
    assert deep["rounds"] >= 1, deep  # the ceiling is measured on rounds that ran
    assert deep["distinct_ids"] <= 600 and deep["requests"] <= 600 + 40  # the rate's one-second burst
