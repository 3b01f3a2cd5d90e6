"""`check` options from a config file and the environment: file < environment < flag, each proven by a run.

Every run is the real `billing-kit check` against a conforming zoo server, on one
cheap clause (RES-TIME-2); which value won is read back from the JSON report
(seed, target) or from the run's exit code (a dead base URL exits 2).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers import zoo_runner
from tests.support import forkcli
from tests.support.procs import BILLING_KIT

CLAUSE = "RES-TIME-2"
DEAD_URL = "http://127.0.0.1:9/v1"  # the discard port: nothing listens there


@pytest.fixture(scope="module")
def target() -> Iterator[zoo_runner.Target]:
    with zoo_runner.zoo_server(zoo_runner.PYTHON) as server:
        yield server


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    return {**env, **extra}


def run(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return forkcli.run(["check", *args], cwd=cwd, env=clean_env(**env), timeout=120)


def write_config(path: Path, target: zoo_runner.Target, base_url: str | None = None, **extra: object) -> None:
    lines = [
        f'base-url = "{base_url or target.base_url}"',
        f'only = ["{CLAUSE}"]',
        "examples = 1",
        'report-json = "report.json"',
    ]
    lines += [f"{key} = {json.dumps(value)}" for key, value in extra.items()]
    path.write_text("\n".join(lines) + "\n")


def report(cwd: Path) -> dict[str, object]:
    data: dict[str, object] = json.loads((cwd / "report.json").read_text())
    return data


def test_file_alone_sets_the_options(tmp_path: Path, target: zoo_runner.Target) -> None:
    write_config(tmp_path / "billing-kit.toml", target, seed=11)
    done = run(tmp_path, BILLING_API_KEY=target.keys.sandbox)
    assert done.returncode == 0, done.stdout + done.stderr
    document = report(tmp_path)
    assert document["seed"] == 11
    assert document["target"] == {"base_url": target.base_url}
    assert [v["clause"] for v in document["verdicts"]] == [CLAUSE]  # type: ignore[attr-defined]


def test_environment_beats_the_file(tmp_path: Path, target: zoo_runner.Target) -> None:
    write_config(tmp_path / "billing-kit.toml", target, base_url=DEAD_URL, seed=11)
    done = run(tmp_path, BILLING_API_KEY=target.keys.sandbox, BILLING_SEED="22", BILLING_BASE_URL=target.base_url)
    assert done.returncode == 0, done.stdout + done.stderr
    document = report(tmp_path)
    assert document["seed"] == 22
    assert document["target"] == {"base_url": target.base_url}


def test_flag_beats_the_environment(tmp_path: Path, target: zoo_runner.Target) -> None:
    write_config(tmp_path / "billing-kit.toml", target, seed=11)
    done = run(
        tmp_path,
        "--seed",
        "33",
        "--base-url",
        target.base_url,
        BILLING_API_KEY=target.keys.sandbox,
        BILLING_SEED="22",
        BILLING_BASE_URL=DEAD_URL,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert report(tmp_path)["seed"] == 33


def test_the_environment_alone_names_the_target(tmp_path: Path, target: zoo_runner.Target) -> None:
    done = run(
        tmp_path,
        "--only",
        CLAUSE,
        "--examples",
        "1",
        "--report-json",
        "report.json",
        BILLING_BASE_URL=target.base_url,
        BILLING_API_KEY=target.keys.sandbox,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert report(tmp_path)["target"] == {"base_url": target.base_url}


def test_pyproject_table_and_config_flag(tmp_path: Path, target: zoo_runner.Target) -> None:
    table = tmp_path / "table.toml"
    write_config(table, target, seed=44)
    body = table.read_text()
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.billing-kit]\n' + body)
    done = run(tmp_path, BILLING_API_KEY=target.keys.sandbox)
    assert done.returncode == 0, done.stdout + done.stderr
    assert report(tmp_path)["seed"] == 44
    # --config PATH wins over the pyproject table; its relative paths are relative to the file.
    elsewhere = tmp_path / "ci"
    elsewhere.mkdir()
    write_config(elsewhere / "conformance.toml", target, seed=55)
    done = run(tmp_path, "--config", str(elsewhere / "conformance.toml"), BILLING_API_KEY=target.keys.sandbox)
    assert done.returncode == 0, done.stdout + done.stderr
    assert report(elsewhere)["seed"] == 55


def test_a_mistyped_key_is_one_error_line(tmp_path: Path, target: zoo_runner.Target) -> None:
    write_config(tmp_path / "billing-kit.toml", target, exmaples=3)
    done = run(tmp_path, BILLING_API_KEY=target.keys.sandbox)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("Error: ") and "'exmaples'" in lines[0] and "'examples'" in lines[0]


def test_keys_are_never_read_from_a_file(tmp_path: Path, target: zoo_runner.Target) -> None:
    write_config(tmp_path / "billing-kit.toml", target, **{"api-key": target.keys.sandbox})
    done = run(tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("Error: ") and "BILLING_API_KEY" in done.stderr
    assert target.keys.sandbox not in done.stderr


def test_a_bad_value_in_the_file_is_one_error_line(tmp_path: Path, target: zoo_runner.Target) -> None:
    write_config(tmp_path / "billing-kit.toml", target, seed="eleven")
    done = run(tmp_path, BILLING_API_KEY=target.keys.sandbox)
    assert done.returncode == 2
    assert len(done.stderr.strip().splitlines()) == 1 and done.stderr.startswith("Error: ")
    assert "Traceback" not in done.stderr


def test_help_lists_exit_codes_and_sources() -> None:
    done = subprocess.run([BILLING_KIT, "check", "--help"], capture_output=True, text=True, timeout=60)
    text = " ".join(done.stdout.split())
    assert "Exit codes: 0" in text and "1 a FAIL" in text and "2 nothing could be judged" in text
    assert "$BILLING_BASE_URL" in text and "billing-kit.toml" in text and "[tool.billing-kit]" in text


def test_baseline_update_is_never_a_standing_setting(tmp_path: Path, target: zoo_runner.Target) -> None:
    write_config(tmp_path / "billing-kit.toml", target, **{"baseline": "b.toml", "baseline-update": True})
    done = run(tmp_path, BILLING_API_KEY=target.keys.sandbox)
    assert done.returncode == 2
    assert done.stderr.strip().endswith("key 'baseline-update' is a one-off action; pass --baseline-update instead")
    assert not (tmp_path / "b.toml").exists()
