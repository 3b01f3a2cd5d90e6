"""The pytest plugin: one test per clause inside a team's own pytest run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from billing_kit.conformance import clauses
from billing_kit.conformance.checks import load_all
from billing_kit.conformance.contract import bundled_spec_bytes
from tests.support.procs import ROOT, free_port
from tests.support.reference import ReferenceServer

# The bundled spec lies outside the rootdir of these runs: items are `openapi.yaml::<clause id>`, not its path.
SPEC_ID = "openapi.yaml"


def pytest_in(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-rs", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_inert_without_a_base_url(tmp_path: Path) -> None:
    proc = pytest_in(tmp_path, "--collect-only", "-q")
    assert "no tests collected" in proc.stdout, proc.stdout


@pytest.mark.slow
def test_one_passing_test_per_clause_against_the_reference(reference_server: ReferenceServer, tmp_path: Path) -> None:
    proc = pytest_in(
        tmp_path,
        "-v",
        "--billing-base-url",
        reference_server.base_url,
        "--billing-api-key",
        reference_server.sandbox_key,
        "--billing-seed",
        "5",
        "--billing-strict",
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert f"collected {len(clauses.CLAUSES)} items" in proc.stdout  # counted as collected, not added after
    for clause in clauses.CLAUSES:
        assert f"{SPEC_ID}::{clause.id} PASSED" in proc.stdout or f"{SPEC_ID}::{clause.id} SKIPPED" in proc.stdout
    assert "billing-kit conformance: WARN and INFO" in proc.stdout
    assert "INFO REQ-EMAIL-4" in proc.stdout


@pytest.mark.slow
def test_a_fail_fails_its_test_only(reference_server: ReferenceServer, tmp_path: Path) -> None:
    spec = yaml.safe_load(bundled_spec_bytes())
    spec["components"]["schemas"]["CustomerCreate"]["properties"]["name"]["maxLength"] = 100
    spec_path = tmp_path / "spec.yaml"
    spec_path.write_text(yaml.safe_dump(spec))
    proc = pytest_in(
        tmp_path,
        "--billing-base-url",
        reference_server.base_url,
        "--billing-api-key",
        reference_server.sandbox_key,
        "--billing-spec",
        str(spec_path),
        "--billing-only",
        "REQ-LEN-1,RES-1",
    )
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert "1 failed, 1 passed" in proc.stdout
    assert "FAIL REQ-LEN-1" in proc.stdout and "name: 101 × U+0061 (ASCII) accepted" in proc.stdout


def test_a_missing_key_is_one_usage_error(reference_server: ReferenceServer, tmp_path: Path) -> None:
    proc = pytest_in(tmp_path, "--billing-base-url", reference_server.base_url)
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
    assert proc.stderr.strip().splitlines() == [
        "ERROR: billing-kit: no API key: pass --billing-api-key KEY or set $BILLING_API_KEY"
    ]
    assert "failed" not in proc.stdout and "passed" not in proc.stdout


def test_an_unreachable_server_is_one_usage_error(tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{free_port()}/v1"
    proc = pytest_in(tmp_path, "--billing-base-url", url, "--billing-api-key", "sk_test_" + "0" * 24)
    assert proc.returncode == pytest.ExitCode.USAGE_ERROR, proc.stdout + proc.stderr
    (line,) = proc.stderr.strip().splitlines()
    assert line.startswith(f"ERROR: billing-kit: cannot reach {url} (--billing-base-url): "), line
    assert "failed" not in proc.stdout


def test_skip_reasons_name_the_plugins_options_and_k_selects_a_clause(
    reference_server: ReferenceServer, tmp_path: Path
) -> None:
    specs = load_all()
    live_only = [  # clauses judged only with a live key
        c.id for c in clauses.CLAUSES if all("live_key" in s.needs for s in specs if c.id in s.clauses)
    ]
    proc = pytest_in(
        tmp_path,
        "--billing-base-url",
        reference_server.base_url,
        "--billing-api-key",
        reference_server.sandbox_key,
        "--billing-only",
        f"{live_only[0]},AUTH-2",
        "-k",
        live_only[0],
    )
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert "collected 2 items / 1 deselected / 1 selected" in proc.stdout, proc.stdout
    skipped = [line for line in proc.stdout.splitlines() if line.startswith("SKIPPED")]
    assert len(skipped) == 1, skipped
    # The item's file as its id names it (the spec lies outside this run's rootdir): no path into the install.
    location = skipped[0].split()[2].rsplit(":", 2)[0]
    assert location == SPEC_ID, skipped
    assert "--billing-live-key" in skipped[0] and "--billing-allow-live" in skipped[0]
    assert " --live-key" not in skipped[0] and "(--live-key" not in skipped[0]


@pytest.mark.slow
def test_a_failure_speaks_pytest_and_the_report_is_written(tmp_path: Path) -> None:
    import json

    from tests.servers import zoo_runner

    report = tmp_path / "report.json"
    with zoo_runner.zoo_server(zoo_runner.PYTHON, "email-optional") as target:
        proc = pytest_in(
            tmp_path, "-v", "--billing-base-url", target.base_url, "--billing-api-key", target.keys.sandbox,
            "--billing-only", "REQ-EMAIL-1", "--billing-examples", "5", "--billing-report-json", str(report),
        )  # fmt: skip
    assert proc.returncode == 1, proc.stdout[-3000:]
    assert f"{SPEC_ID}::REQ-EMAIL-1 FAILED" in proc.stdout
    assert f"{ROOT}/openapi.yaml" not in proc.stdout and "site-packages" not in proc.stdout
    assert "billing-kit check --report-json" not in proc.stdout
    assert "more violations in the JSON report" in proc.stdout
    assert json.loads(report.read_text())["verdicts"][0]["clause"] == "REQ-EMAIL-1"


def test_an_unwritable_report_path_is_one_usage_error(reference_server: ReferenceServer, tmp_path: Path) -> None:
    proc = pytest_in(
        tmp_path, "--billing-base-url", reference_server.base_url, "--billing-api-key", reference_server.sandbox_key,
        "--billing-report-json", "/nonexistent/dir/r.json",
    )  # fmt: skip
    assert proc.returncode == 4, proc.stdout + proc.stderr
    assert "--billing-report-json /nonexistent/dir/r.json: the directory /nonexistent/dir does not exist" in proc.stderr
