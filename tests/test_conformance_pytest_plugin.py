"""The pytest plugin: one test per clause inside a team's own pytest run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from billing_kit.conformance import clauses
from billing_kit.conformance.contract import bundled_spec_bytes
from tests.support.reference import ReferenceServer


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
    for clause in clauses.CLAUSES:
        assert f"conformance[{clause.id}]" in proc.stdout
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
