"""`billing-kit check` end to end against the reference server, and its argument errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from billing_kit.conformance import clauses
from billing_kit.conformance.redact import mask_key
from billing_kit.conformance.reports.json_report import load_schema
from tests.support import forkcli
from tests.support.procs import BILLING_KIT
from tests.support.reference import ReferenceServer


def check(*args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    return forkcli.run(["check", *args], timeout=timeout, env={**base_env, **(env or {})})


@pytest.fixture(scope="module")
def full_run(reference_server: ReferenceServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("full-run")
    proc = check(
        "--base-url",
        reference_server.base_url,
        "--live-key",
        reference_server.live_key,
        "--allow-live",
        "--seed",
        "7",
        "--report-json",
        str(out / "r.json"),
        "--junit",
        str(out / "r.xml"),
        "--html",
        str(out / "r.html"),
        env={"BILLING_API_KEY": reference_server.sandbox_key},
    )
    return {"proc": proc, "dir": out, "server": reference_server}


def test_reference_gets_no_fail_and_no_warn(full_run: dict[str, Any]) -> None:
    proc = full_run["proc"]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr
    document = json.loads((full_run["dir"] / "r.json").read_text())
    bad = [(v["clause"], v["verdict"]) for v in document["verdicts"] if v["verdict"] in ("FAIL", "WARN")]
    assert bad == []
    assert document["summary"]["PASS"] >= 20  # its duration: bench/cli_timing.py (make bench)


def test_json_report_is_valid_and_complete(full_run: dict[str, Any]) -> None:
    document = json.loads((full_run["dir"] / "r.json").read_text())
    jsonschema.Draft202012Validator(load_schema()).validate(document)
    assert [v["clause"] for v in document["verdicts"]] == [c.id for c in clauses.CLAUSES]
    assert document["seed"] == 7 and len(document["spec"]["sha256"]) == 64
    created = document["created"]
    assert len(created) >= 20 and len({c["id"] for c in created}) == len(created)
    live = [c for c in created if c["key"] == "live"]
    assert 1 <= len(live) <= 5 and all(c["environment"] == "live" for c in live)


def test_keys_never_appear_whole(full_run: dict[str, Any]) -> None:
    server = full_run["server"]
    proc = full_run["proc"]
    texts = [proc.stdout, proc.stderr] + [p.read_text() for p in full_run["dir"].iterdir()]
    for key in (server.sandbox_key, server.live_key):
        assert all(key not in text for text in texts)
    assert "Live key " + mask_key(server.live_key) in proc.stdout


def test_junit_has_one_testcase_per_clause(full_run: dict[str, Any]) -> None:
    suite = ET.parse(full_run["dir"] / "r.xml").getroot()
    cases = suite.findall("testcase")
    assert len(cases) == len(clauses.CLAUSES)
    assert suite.get("failures") == "0"
    info = [c for c in cases if c.get("name", "").startswith("REQ-EMAIL-4")]
    assert info and (info[0].findtext("system-out") or "").startswith("INFO")


def test_html_is_one_self_contained_page(full_run: dict[str, Any]) -> None:
    page = (full_run["dir"] / "r.html").read_text()
    assert page.startswith("<!doctype html>") and "<script" not in page and 'src="http' not in page
    assert all(f'id="{c.id}"' in page for c in clauses.CLAUSES)


def test_strict_only_and_seed(reference_server: ReferenceServer, tmp_path: Path) -> None:
    proc = check(
        "--base-url",
        reference_server.base_url,
        "--api-key",
        reference_server.sandbox_key,
        "--strict",
        "--only",
        "req-len-1,RES-ECHO-1",
        "--seed",
        "3",
        "--report-json",
        str(tmp_path / "r.json"),
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    document = json.loads((tmp_path / "r.json").read_text())
    assert [v["clause"] for v in document["verdicts"]] == ["REQ-LEN-1", "RES-ECHO-1"]
    assert all(v["verdict"] == "PASS" for v in document["verdicts"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "Error: --base-url is required"),
        (["--base-url", "ftp://x/v1"], "Error: --base-url must be an http(s) URL"),
        (["--base-url", "http://127.0.0.1:9/v1", "--only", "NOPE-1"], "Error: --only names unknown clause(s) NOPE-1"),
        (["--base-url", "http://127.0.0.1:9/v1", "--examples", "0"], "Error: --examples must be positive"),
        (["--base-url", "http://127.0.0.1:9/v1", "--seed", "x"], "Error: Invalid value for '--seed'"),
        (["--base-url", "http://127.0.0.1:9/v1", "--bogus"], "Error: No such option"),
        (["--base-url", "http://127.0.0.1:9/v1", "-H", "no colon"], "Error: -H expects"),
        (["--base-url", "http://127.0.0.1:9/v1", "--spec", "/nonexistent.yaml"], "Error: cannot read spec"),
        (
            ["--base-url", "http://127.0.0.1:9/v1", "--api-key", "sk_live_abcdefgh12345678"],
            "Error: --api-key is a live",
        ),
        (["--base-url", "http://127.0.0.1:9/v1", "--api-key", "xx_abcdefgh12345678"], "Error: --api-key xx_…5678"),
    ],
)
def test_bad_arguments_are_one_error_line_and_exit_2(args: list[str], message: str) -> None:
    proc = check(*args)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(message), proc.stderr
    assert "Traceback" not in proc.stderr


def test_version_and_list() -> None:
    version = check("--version")
    assert version.returncode == 0 and "sha256" in version.stdout
    listing = check("--list")
    assert listing.returncode == 0
    assert [line.split()[0] for line in listing.stdout.splitlines() if not line.startswith(" ")] == [
        c.id for c in clauses.CLAUSES
    ]


def test_help_loads_no_heavy_module() -> None:
    # Its speed is measured in bench/cli_timing.py; what makes it fast is asserted here.
    assert check("--help").returncode == 0
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, conformance.cli; print(sorted(m for m in ('hypothesis', 'httpx', "
            "'schemathesis', 'rich', 'jsonschema') if m in sys.modules))",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert loaded.stdout.strip() == "[]"


def test_spec_with_other_limits_moves_the_boundaries(tmp_path: Path) -> None:
    import yaml

    from billing_kit.conformance.contract import bundled_spec_bytes, load_contract
    from billing_kit.conformance.strategies import boundary_cases

    spec = yaml.safe_load(bundled_spec_bytes())
    spec["components"]["schemas"]["CustomerCreate"]["properties"]["name"]["maxLength"] = 100
    path = tmp_path / "spec.yaml"
    path.write_text(yaml.safe_dump(spec))
    counts = {len(case.value) for case in boundary_cases(load_contract(path)) if case.field == "name"}
    assert counts == {0, 99, 100, 101}


@pytest.mark.slow
def test_demo_checks_the_reference_and_exits_0(tmp_path: Path) -> None:
    report = tmp_path / "demo.json"
    proc = subprocess.run(
        [BILLING_KIT, "demo", "--seed", "1", "--report-json", str(report)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    summary = json.loads(report.read_text())["summary"]
    assert summary["FAIL"] == 0 and summary["WARN"] == 0 and summary["SKIP"] == 0
    # Where the server runs first; the throwaway live key explained once, after it is up.
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("Reference server: http://127.0.0.1:") and lines[0].endswith("/v1"), lines[:3]
    assert lines[1].startswith("Database: /") and "billing.sqlite3 (temporary" in lines[1], lines[:3]
    assert "throwaway live key" in lines[2], lines[:3]
    assert proc.stdout.lower().count("live key") == 1, proc.stdout[:1000]
