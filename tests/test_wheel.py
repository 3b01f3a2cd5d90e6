"""The wheel ships the one contract file, and an installed `billing-kit serve` finds it."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import httpx
import pytest

from billing_kit.conformance.contract import SPEC_NAME
from tests.support.procs import ROOT, free_port, run_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (built,) = out.glob("billing_kit-*.whl")
    return built


def test_the_wheel_contains_the_spec_byte_for_byte(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert f"billing_kit/conformance/{SPEC_NAME}" in names
        assert archive.read(f"billing_kit/conformance/{SPEC_NAME}") == (ROOT / SPEC_NAME).read_bytes()
    assert "billing_kit/handlers/app.py" in names and "billing_kit/handlers/storage/sqlite.py" in names
    # The data the reports read: what each check is proven to catch, the measured customer estimates.
    assert "billing_kit/conformance/proven.json" in names and "billing_kit/conformance/creates.json" in names
    # Only the kit's own top-level name is installed: no `conformance` or `handlers` package.
    assert {name.split("/")[0] for name in names} <= {
        "billing_kit",
        f"billing_kit-{wheel.name.split('-')[1]}.dist-info",
    }


def test_the_wheel_carries_the_contract_and_the_license(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        assert archive.read("billing_kit/conformance/CONTRACT.md") == (ROOT / "CONTRACT.md").read_bytes()
        (license_file,) = [n for n in names if n.endswith(".dist-info/licenses/LICENSE")]
        assert archive.read(license_file) == (ROOT / "LICENSE").read_bytes()
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    assert "License-Expression: MIT" in metadata
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")


def test_the_lock_is_within_the_declared_bounds() -> None:
    """`pip install .` and `make` (requirements.lock) agree: each locked version is allowed, and the
    newer releases a plain install picked before they were tested are not (bench/dependency_versions.py)."""
    import tomllib

    from packaging.requirements import Requirement

    from bench.dependency_versions import NEWER

    locked = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        if "==" in line and not line.lstrip().startswith("#"):
            name, version = line.split(";")[0].strip().split("==")
            locked[name.lower().replace("_", "-")] = version
    declared = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    for text in declared:
        requirement = Requirement(text)
        version = locked[requirement.name.lower().replace("_", "-")]
        assert requirement.specifier.contains(version), (text, version)
    bounds = {Requirement(text).name: Requirement(text).specifier for text in declared}
    for pinned in NEWER:
        name, version = pinned.split("==")
        assert not bounds[name].contains(version), f"{name} {version} is allowed but not tested"


def install(wheel: Path, venv: Path) -> Path:
    """A fresh venv with the wheel installed offline; its site-packages."""
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    site = Path(
        subprocess.check_output(
            [venv / "bin" / "python", "-c", "import site; print(site.getsitepackages()[0])"], text=True
        ).strip()
    )
    # The wheel is installed by pip (console script included); its dependencies come from the
    # project's venv as a plain path entry, where the editable install's hook is not activated.
    (site / "deps.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    pip = [venv / "bin" / "python", "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)]
    subprocess.run(pip, check=True, capture_output=True, timeout=300)
    return site


def test_installed_serve_finds_the_spec_from_another_directory(wheel: Path, tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    site = install(wheel, venv)

    where = subprocess.check_output(
        [
            venv / "bin" / "python",
            "-c",
            "import billing_kit.conformance.contract as c; print(c.__file__); print(c.bundled_sha256())",
        ],
        text=True,
        cwd=tmp_path,
    ).split()
    assert where[0].startswith(str(site)), where
    port = free_port()
    argv = [str(venv / "bin" / "billing-kit"), "serve", "--port", str(port), "--data-dir", str(tmp_path / "data")]
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with run_server(argv, port, ready_path="/healthz", cwd=elsewhere) as server:
        spec = httpx.get(f"{server.origin}/v1/openapi.json").json()
        secret = next(w for w in server.output().split() if w.startswith("sk_test_"))
        created = httpx.post(
            f"{server.origin}/v1/customers",
            json={"email": "a@example.com"},
            headers={"Authorization": f"Bearer {secret}"},
        )
    assert spec["paths"]["/customers"]["post"]["operationId"]
    assert created.status_code == 201


OWN_PROJECT = {
    "conformance/__init__.py": "",
    "conformance/rules.py": "RULE = 'the project own conformance package'\n",
    "handlers/__init__.py": "",
    "handlers/orders.py": "def handle() -> str:\n    return 'the project own handlers package'\n",
    "tests/test_own.py": (
        "from conformance.rules import RULE\n"
        "from handlers.orders import handle\n\n\n"
        "def test_own_packages() -> None:\n"
        "    assert RULE == 'the project own conformance package'\n"
        "    assert handle() == 'the project own handlers package'\n"
    ),
}


def test_a_project_with_its_own_conformance_and_handlers_packages_runs_its_pytest(wheel: Path, tmp_path: Path) -> None:
    """The kit installs only `billing_kit`, so its pytest plugin never shadows them."""
    venv = tmp_path / "venv"
    install(wheel, venv)
    project = tmp_path / "project"
    for name, text in OWN_PROJECT.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    done = subprocess.run(
        [venv / "bin" / "python", "-m", "pytest", "-p", "no:cacheprovider", "-v"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTEST_ADDOPTS")},
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "tests/test_own.py::test_own_packages PASSED" in done.stdout
    assert "billing-kit-" in done.stdout  # the kit's plugin loaded beside them (inert without its options)
