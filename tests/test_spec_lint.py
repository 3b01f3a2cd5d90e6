"""The contract passes Spectral (`spectral:oas`) and Redocly (`recommended`) without a single warning.

Both are pinned in tools/lint/package-lock.json and installed there by `make test`
(`npm ci`); without them a test skips here and fails under CI=true, like every tool.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.procs import ROOT
from tests.support.tools import in_ci

LINT = ROOT / "tools" / "lint"
SPEC = ROOT / "openapi.yaml"
QUIET = {"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true", "NO_COLOR": "1"}


def linter(name: str) -> Path:
    path = LINT / "node_modules" / ".bin" / name
    if not path.exists():
        message = f"{name} is not installed in tools/lint (make spec-linters runs npm ci there)"
        if in_ci():
            pytest.fail(f"{message}; CI=true needs it", pytrace=False)
        pytest.skip(message)
    return path


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=LINT, capture_output=True, text=True, timeout=300, check=False, env={**os.environ, **QUIET}
    )


def spectral(spec: Path, out: Path) -> list[dict[str, Any]]:
    """Every Spectral result, hints included, with the spectral:oas ruleset (tools/lint/.spectral.yaml)."""
    report = out / "spectral.json"
    argv = [str(linter("spectral")), "lint", "--ruleset", ".spectral.yaml", "--format", "json", "--output", str(report)]
    done = _run([*argv, "--fail-severity", "hint", str(spec)])
    assert report.exists(), done.stdout + done.stderr
    results: list[dict[str, Any]] = json.loads(report.read_text())
    assert (done.returncode == 0) == (results == []), done.stdout + done.stderr
    return results


def redocly(spec: Path) -> dict[str, Any]:
    """Redocly's totals and problems with the recommended ruleset (tools/lint/redocly.yaml)."""
    done = _run([str(linter("redocly")), "lint", "--config", "redocly.yaml", "--format", "json", str(spec)])
    start = done.stdout.find("{")
    assert start >= 0, done.stdout + done.stderr
    report: dict[str, Any] = json.loads(done.stdout[start:])
    return report


def test_the_spec_passes_spectral_oas_with_no_warning(tmp_path: Path) -> None:
    results = spectral(SPEC, tmp_path)
    assert results == [], [(r["code"], r["message"], r["path"]) for r in results]


def test_the_spec_passes_redocly_recommended_with_no_warning() -> None:
    report = redocly(SPEC)
    assert report["totals"] == {"errors": 0, "warnings": 0, "ignored": 0}, report["problems"]


def test_both_linters_flag_a_spec_without_contact_and_license(tmp_path: Path) -> None:
    spec = yaml.safe_load(SPEC.read_text())
    del spec["info"]["contact"]
    del spec["info"]["license"]["url"]
    broken = tmp_path / "openapi.yaml"
    broken.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    assert "info-contact" in {r["code"] for r in spectral(broken, tmp_path)}
    report = redocly(broken)
    assert report["totals"]["warnings"] >= 1
    assert "info-license-strict" in {p["ruleId"] for p in report["problems"]}
