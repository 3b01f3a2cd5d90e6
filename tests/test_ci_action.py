"""action.yml run as the GitHub runner runs a composite action, against local servers.

The test parses action.yml and runs each `run:` step the way the runner does:
`bash --noprofile --norc -eo pipefail` on the script, `${{ inputs.* }}` and
`${{ steps.*.outputs.* }}` substituted (any other expression fails the test,
so the action cannot grow one this emulation ignores), the step's `env:`
exported, GITHUB_ACTION_PATH set to the repository, GITHUB_OUTPUT read back,
`if: always()` honoured after a failed step. The `uses:` steps
(actions/setup-python, actions/upload-artifact) are skipped: they need GitHub.
The upload step's paths are checked to exist instead.

The install step (`pip install "$GITHUB_ACTION_PATH"`) runs for real into a
fresh venv; the runner would fetch the dependencies from PyPI, this one finds
them in the project's venv (a plain path entry) and installs offline. The
workspace holds a billing-kit.toml (`only`, `examples`) to keep each run short.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.servers import zoo_runner
from tests.support.procs import ROOT
from tests.support.reference import ReferenceServer
from tests.test_specdiff import request_schema, string_field_with_limit

ACTION = ROOT / "action.yml"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
CONFIG = 'only = ["REQ-EMAIL-1", "RES-TIME-2"]\nexamples = 2\n'


@dataclass
class StepRun:
    name: str
    skipped: bool
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    uses: str | None = None
    with_: dict[str, str] = field(default_factory=dict)


@dataclass
class ActionRun:
    steps: list[StepRun]
    outputs: dict[str, dict[str, str]]
    workspace: Path

    @property
    def failed(self) -> bool:
        return any(s.returncode != 0 for s in self.steps if not s.skipped)

    def step(self, name: str) -> StepRun:
        return next(s for s in self.steps if s.name == name)


def load_action() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(ACTION.read_text())
    return document


def expand(text: str, inputs: dict[str, str], outputs: dict[str, dict[str, str]]) -> str:
    def value(match: re.Match[str]) -> str:
        expression = match.group(1)
        if expression.startswith("inputs."):
            return inputs[expression.removeprefix("inputs.")]
        step = re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expression)
        if step:
            return outputs.get(step.group(1), {}).get(step.group(2), "")
        raise AssertionError(f"action.yml uses an expression this runner does not emulate: {expression}")

    return EXPRESSION.sub(value, text)


def read_outputs(path: Path) -> dict[str, str]:
    pairs = {}
    for line in path.read_text().splitlines():
        name, sep, value = line.partition("=")
        if sep:
            pairs[name] = value
    return pairs


def run_action(venv: Path, workspace: Path, given: dict[str, str]) -> ActionRun:
    action = load_action()
    inputs = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    unknown = set(given) - set(inputs)
    assert not unknown, f"not inputs of action.yml: {unknown}"
    inputs.update(given)
    for name, spec in action["inputs"].items():
        assert not spec.get("required") or inputs[name], f"required input {name} missing"
    outputs: dict[str, dict[str, str]] = {}
    steps: list[StepRun] = []
    base_env = {k: v for k, v in os.environ.items() if not k.startswith(("BILLING_", "PIP_", "VIRTUAL_ENV"))}
    base_env.update(
        PATH=f"{venv / 'bin'}:{base_env['PATH']}",
        GITHUB_ACTION_PATH=str(ROOT),
        GITHUB_WORKSPACE=str(workspace),
        PIP_NO_INDEX="1",  # offline: the dependencies are already importable (see the module docstring)
        PIP_NO_BUILD_ISOLATION="0",  # pip reads this variable inverted: 0 turns isolation off
        PIP_DISABLE_PIP_VERSION_CHECK="1",
    )
    for number, step in enumerate(action["runs"]["steps"]):
        name = str(step.get("name") or step.get("uses") or f"step {number}")
        condition = str(step.get("if", "success()"))
        assert condition in ("success()", "always()"), f"unemulated condition {condition}"
        failed = any(s.returncode != 0 for s in steps if not s.skipped)
        if "uses" in step:
            with_ = {k: expand(str(v), inputs, outputs) for k, v in (step.get("with") or {}).items()}
            steps.append(StepRun(name, True, uses=str(step["uses"]), with_=with_))
            continue
        if failed and condition != "always()":
            steps.append(StepRun(name, True))
            continue
        assert step.get("shell") == "bash", f"{name}: composite run steps name their shell"
        script = workspace / f".step-{number}.sh"
        script.write_text(expand(str(step["run"]), inputs, outputs))
        output_file = workspace / f".output-{number}"
        output_file.write_text("")
        env = {**base_env, "GITHUB_OUTPUT": str(output_file)}
        env.update({k: expand(str(v), inputs, outputs) for k, v in (step.get("env") or {}).items()})
        done = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if "id" in step:
            outputs[str(step["id"])] = read_outputs(output_file)
        steps.append(StepRun(name, False, done.returncode, done.stdout, done.stderr))
    return ActionRun(steps, outputs, workspace)


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A fresh venv, as setup-python leaves the runner: the kit is not installed in it."""
    path = tmp_path_factory.mktemp("runner") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(path)], check=True, timeout=300)
    site = subprocess.check_output(
        [path / "bin" / "python", "-c", "import site; print(site.getsitepackages()[0])"], text=True
    ).strip()
    (Path(site) / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    yield path


def workspace(tmp_path: Path) -> Path:
    (tmp_path / "billing-kit.toml").write_text(CONFIG)
    return tmp_path


def assert_reports(run: ActionRun) -> None:
    upload = next(s for s in run.steps if s.uses and s.uses.startswith("actions/upload-artifact"))
    paths = [p.strip() for p in upload.with_["path"].splitlines() if p.strip()]
    assert len(paths) == 3
    for path in paths:
        assert (run.workspace / path).is_file(), f"{path} would not be uploaded"
    junit = ET.parse(run.workspace / "billing-kit-junit.xml").getroot()
    assert junit.iter("testcase")


def test_the_action_installs_checks_and_passes_on_the_reference(
    venv: Path, tmp_path: Path, reference_server: ReferenceServer
) -> None:
    run = run_action(
        venv,
        workspace(tmp_path),
        {"base-url": reference_server.base_url, "api-key": reference_server.sandbox_key},
    )
    install = run.step("Install billing-kit")
    assert install.returncode == 0, install.stdout + install.stderr
    assert (venv / "bin" / "billing-kit").exists(), "pip installed the kit from GITHUB_ACTION_PATH"
    check = run.step("Check the server")
    assert check.returncode == 0, check.stdout + check.stderr
    assert f"Checking {reference_server.base_url}" in check.stdout
    assert reference_server.sandbox_key not in check.stdout + check.stderr
    assert run.outputs["check"] == {"exit-code": "0"}
    assert not run.failed
    assert [s.uses for s in run.steps if s.skipped] == ["actions/setup-python@v5", "actions/upload-artifact@v4"]
    assert_reports(run)


def test_the_action_fails_as_the_check_did_and_still_uploads(venv: Path, tmp_path: Path) -> None:
    with zoo_runner.zoo_server(zoo_runner.PYTHON, "email-optional") as target:
        run = run_action(venv, workspace(tmp_path), {"base-url": target.base_url, "api-key": target.keys.sandbox})
    check = run.step("Check the server")
    assert check.returncode == 0, "the check step records the exit code and lets the upload run"
    assert "FAIL  REQ-EMAIL-1" in check.stdout
    assert run.outputs["check"] == {"exit-code": "1"}
    assert_reports(run)
    assert run.step("Fail as the check did").returncode == 1


def git(workspace: Path, *args: str) -> None:
    identity = ["-c", "user.name=billing-kit tests", "-c", "user.email=tests@example.com"]
    subprocess.run(["git", *identity, *args], cwd=workspace, check=True, capture_output=True, timeout=60)


def test_the_action_diffs_the_spec_against_the_base_branch(
    venv: Path, tmp_path: Path, reference_server: ReferenceServer
) -> None:
    """A pull request that halves a request limit: the Markdown names the clause, diff-fail-on fails the job."""
    space = workspace(tmp_path)
    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    (space / "openapi.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    git(space, "init", "-q", "-b", "main")
    git(space, "add", "openapi.yaml")
    git(space, "commit", "-q", "-m", "the contract")
    field = string_field_with_limit(spec)
    request_schema(spec)["properties"][field]["maxLength"] //= 2
    (space / "openapi.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")
    given = {"base-url": reference_server.base_url, "api-key": reference_server.sandbox_key}
    run = run_action(venv, space, {**given, "diff-base": "main", "diff-fail-on": "breaking"})
    diff = run.step("Diff the contract against the base branch")
    assert diff.returncode == 0, diff.stdout + diff.stderr
    assert run.outputs["diff"] == {"exit-code": "1", "markdown": "billing-kit-diff.md"}
    markdown = (space / "billing-kit-diff.md").read_text(encoding="utf-8")
    assert "`main:openapi.yaml` → `openapi.yaml`" in markdown and "REQ-LEN-1" in markdown
    assert f"/properties/{field}/maxLength" in markdown and "**clients**" in markdown
    assert run.outputs["check"] == {"exit-code": "0"}, "the check still ran"
    assert run.step("Fail as the diff did").returncode == 1
    unchanged = run_action(venv, space, {**given, "diff-base": "main", "diff-fail-on": "none"})
    assert unchanged.outputs["diff"]["exit-code"] == "0" and not unchanged.failed
