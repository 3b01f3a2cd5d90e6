"""What the CLI prints, as snapshots (tests/snapshots/*.txt): a wording change shows in review.

Each case runs the real `billing-kit` against a real server (the reference, or a zoo
server with one defect) and compares stdout, stderr and the exit code, normalised by
`tests/support/snapshots.py`. Regenerate with `BILLING_UPDATE_SNAPSHOTS=1` and review the diff.
"""

from __future__ import annotations

import base64
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import zoo_runner
from tests.support import forkcli
from tests.support.procs import VENV_BIN, free_port
from tests.support.reference import ReferenceServer
from tests.support.snapshots import assert_snapshot

DEFECT, DEFECT_CLAUSE = "email-optional", "REQ-EMAIL-1"
TIMEOUT = 300


def cli(*args: str, cwd: Path | None = None) -> tuple[int, str]:
    done = forkcli.run(args, timeout=TIMEOUT, cwd=cwd)
    return (
        done.returncode,
        f"$ billing-kit {' '.join(args)}\n{done.stdout}--- stderr\n{done.stderr}--- exit {done.returncode}\n",
    )


@pytest.fixture(scope="module")
def zoo() -> Iterator[zoo_runner.Target]:
    with zoo_runner.zoo_server(zoo_runner.PYTHON, DEFECT) as target:
        yield target


def unused_url() -> str:
    return f"http://127.0.0.1:{free_port()}/v1"


# -- errors: one line, exit 2, nothing sent ------------------------------------------------
@pytest.mark.parametrize(
    ("name", "args"),
    [
        ("error_report_json_dir", ["--report-json", "/nonexistent/dir/x.json"]),
        ("error_junit_dir", ["--junit", "/nonexistent/dir/x.xml"]),
        ("error_html_dir", ["--html", "/nonexistent/dir/x.html"]),
        ("error_baseline_update_dir", ["--baseline", "/nonexistent/dir/b.toml", "--baseline-update"]),
    ],
)
def test_output_paths_checked_before_anything_is_sent(name: str, args: list[str]) -> None:
    # The target listens nowhere: a request would end in "cannot reach", not in the path's error.
    code, text = cli("check", "--base-url", unused_url(), "--api-key", "sk_test_" + "a" * 32, *args)
    assert code == 2
    assert_snapshot(name, text)


def test_base_url_ending_in_the_resource(reference_server: ReferenceServer) -> None:
    code, text = cli(
        "check", "--base-url", reference_server.base_url + "/customers", "--api-key", reference_server.sandbox_key
    )
    assert code == 2
    assert_snapshot("error_base_url_customers", text)


def test_no_key_is_the_only_line() -> None:
    code, text = cli("check", "--base-url", unused_url())
    assert code == 2
    assert_snapshot("error_no_key", text)


def test_wrong_prefix_404_is_the_only_line(reference_server: ReferenceServer) -> None:
    origin = reference_server.base_url.removesuffix("/v1")
    code, text = cli("check", "--base-url", origin, "--api-key", reference_server.sandbox_key, "--only", "AUTH-1")
    assert code == 2
    assert_snapshot("error_missing_prefix", text)


def test_listing_module_help() -> None:
    done = subprocess.run(
        [str(VENV_BIN / "python"), "-m", "billing_kit.conformance.listing", "--help"],
        capture_output=True, text=True, timeout=TIMEOUT, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert_snapshot("listing_help", done.stdout + "--- stderr\n" + done.stderr)


# -- check ---------------------------------------------------------------------------------
def test_check_pass(reference_server: ReferenceServer, tmp_path: Path) -> None:
    code, text = cli(
        "check", "--base-url", reference_server.base_url, "--api-key", reference_server.sandbox_key,
        "--only", "AUTH-1", "--seed", "1", "--examples", "5",
    )  # fmt: skip
    assert code == 0
    assert_snapshot("check_pass", text)


def test_live_key_without_allow_live(reference_server: ReferenceServer) -> None:
    code, text = cli(
        "check", "--base-url", reference_server.base_url, "--api-key", reference_server.sandbox_key,
        "--live-key", reference_server.live_key, "--only", "IDEM-4", "--seed", "1", "--examples", "5",
    )  # fmt: skip
    assert code == 0
    assert "needs --allow-live" in text
    assert_snapshot("check_live_key_without_allow_live", text)


def fail_run(zoo: zoo_runner.Target, directory: Path, *extra: str) -> tuple[int, str]:
    return cli(
        "check", "--base-url", zoo.base_url, "--api-key", zoo.keys.sandbox, "--only", DEFECT_CLAUSE,
        "--seed", "1", "--examples", "5", "--confirm", "1", *extra, cwd=directory,
    )  # fmt: skip


def test_check_fail_baseline_compare_replay(
    zoo: zoo_runner.Target, reference_server: ReferenceServer, tmp_path: Path
) -> None:
    code, text = fail_run(zoo, tmp_path, "--report-json", "fail.json")
    assert code == 1
    assert_snapshot("check_fail", text)

    code, text = fail_run(zoo, tmp_path, "--baseline", "baseline.toml", "--baseline-update")
    assert code == 0
    code, text = fail_run(zoo, tmp_path, "--baseline", "baseline.toml")
    assert code == 0
    assert "ACCEPTED" in text and " FAIL " not in text.split("--- stderr")[0].replace("0 FAIL", "")
    assert_snapshot("check_baseline_accepted", text)

    code, text = cli(
        "check", "--base-url", reference_server.base_url, "--api-key", reference_server.sandbox_key,
        "--only", DEFECT_CLAUSE, "--seed", "1", "--examples", "5", "--report-json", str(tmp_path / "pass.json"),
    )  # fmt: skip
    assert code == 0
    code, text = cli("compare", "pass.json", "fail.json", cwd=tmp_path)
    assert code == 0
    code, text = cli("compare", "--fail-on", "regression", "pass.json", "fail.json", cwd=tmp_path)
    assert code == 1
    assert_snapshot("compare_regression", text)
    code, text = cli("compare", "--fail-on", "regression", "fail.json", "pass.json", cwd=tmp_path)
    assert code == 0

    replayed = forkcli.run(["replay", "fail.json", "--api-key", zoo.keys.sandbox], timeout=TIMEOUT, cwd=tmp_path)
    assert replayed.returncode == 1, replayed.stdout + replayed.stderr
    assert_snapshot("replay_still_failing", replayed.stdout + "--- stderr\n" + replayed.stderr)

    code, text = cli("judge", "fail.json", cwd=tmp_path)
    assert code == 2
    assert "billing-kit report" in text
    assert_snapshot("error_judge_report_json", text)


# -- traffic -------------------------------------------------------------------------------
def capture_line(reference_server: ReferenceServer) -> str:
    """One real exchange with the reference, written as `proxy --capture` writes it."""
    body = json.dumps({"email": "snapshot@example.com"}).encode()
    headers = {"Authorization": f"Bearer {reference_server.sandbox_key}", "Content-Type": "application/json"}
    answer = httpx.post(f"{reference_server.base_url}/customers", content=body, headers=headers, timeout=30)
    doc = {
        "capture": "billing-kit/1",
        "method": "POST",
        "target": "/v1/customers",
        "headers": [["Content-Type", "application/json"], ["Authorization", f"Bearer {reference_server.sandbox_key}"]],
        "body_b64": base64.b64encode(body).decode(),
        "body_size": len(body),
        "complete": True,
        "error": None,
        "response": {
            "status": answer.status_code,
            "headers": [[k, v] for k, v in answer.headers.items()],
            "body_b64": base64.b64encode(answer.content).decode(),
            "body_size": len(answer.content),
            "elapsed": 0.01,
        },
    }
    return json.dumps(doc)


def test_judge_speaks_of_traffic(reference_server: ReferenceServer, tmp_path: Path) -> None:
    path = tmp_path / "traffic.ndjson"
    path.write_text(capture_line(reference_server) + "\n")
    code, text = cli("judge", str(path), "--quiet")
    assert code == 0
    out = text.split("--- stderr")[0]
    assert "Created" not in out and "seed" not in out
    skips = [line for line in out.splitlines() if line.startswith("SKIP ")]
    assert skips and out.count("the traffic never exercised this clause") == len(skips)
    assert_snapshot("judge_capture", text)
