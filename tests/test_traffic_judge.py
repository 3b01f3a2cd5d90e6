"""`billing-kit judge` on recorded traffic: a HAR written by Schemathesis, the proxy's own capture.

Schemathesis (a real tool) runs through the proxy against a defective zoo server
and writes a HAR file; judging that file must give the verdicts the proxy gave
live on the same traffic, per clause and per party, and so must judging the
proxy's capture.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.servers import zoo_runner
from tests.support.procs import ROOT, VENV_BIN
from tests.support.traffic import judge_file, party, proxy_in_front, verdicts


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, object], Path, str]:
    """(HAR file, the proxy's report, the proxy's capture, the key) for one Schemathesis run."""
    tmp = tmp_path_factory.mktemp("har")
    har = tmp / "schemathesis.har"
    with (
        zoo_runner.zoo_server(zoo_runner.PYTHON, "id-wrong-prefix") as target,
        proxy_in_front(target.base_url.removesuffix("/v1"), tmp / "proxy") as run,
    ):
        argv = [
            str(VENV_BIN / "st"), "run", str(ROOT / "openapi.yaml"), "--url", f"{run.origin}/v1",
            "-H", f"Authorization: Bearer {target.keys.sandbox}", "--report", "har", "--report-har-path", str(har),
            "--output-sanitize", "false", "--max-examples", "10", "--phases", "examples,coverage,fuzzing",
            "--generation-deterministic",
        ]  # fmt: skip
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False, cwd=tmp)
        assert har.exists(), done.stdout[-2000:] + done.stderr[-2000:]
    return har, run.report, run.capture_path, target.keys.sandbox


def test_har_from_schemathesis_gives_the_proxys_verdicts(
    recorded: tuple[Path, dict[str, object], Path, str], tmp_path: Path
) -> None:
    har, proxied, _, key = recorded
    code, report, stdout, stderr = judge_file(har, tmp_path)
    assert verdicts(report) == verdicts(proxied)
    for name in ("client", "server"):
        assert party(report, name) == party(proxied, name), name
    assert party(report, "server").get("RES-ID-1") == "FAIL"  # the zoo's defect
    assert code == 1 and not stderr
    assert key not in stdout and key not in json.dumps(report)


def test_capture_gives_the_proxys_verdicts(recorded: tuple[Path, dict[str, object], Path, str], tmp_path: Path) -> None:
    _, proxied, capture, key = recorded
    assert key not in capture.read_text()
    code, report, _, stderr = judge_file(capture, tmp_path, ["--quiet"])
    assert verdicts(report) == verdicts(proxied)
    for name in ("client", "server"):
        assert party(report, name) == party(proxied, name), name
    assert code == 1 and not stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "cannot read"),
        ("not json at all\n", "neither a HAR file nor a billing-kit capture"),
        ('{"log": {"entries": "x"}}', "neither a HAR file nor a billing-kit capture"),
        ('{"log": {"entries": []}}', "nothing in the traffic could be judged"),
        ("", "nothing in the traffic could be judged"),
    ],
)
def test_unreadable_or_empty_files_exit_2_with_one_error_line(
    content: str | None, message: str, tmp_path: Path
) -> None:
    path = tmp_path / "traffic.har"
    if content is not None:
        path.write_text(content)
    code, _, _, stderr = judge_file(path, tmp_path)
    assert code == 2
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and message in lines[0], stderr
    assert "Traceback" not in stderr
