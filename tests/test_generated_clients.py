"""Clients generated from openapi.yaml, run against a real reference server.

Two generators people reach for, each pinned by a lock file of its own under tests/clients/:
- Python: openapi-python-client (tests/clients/python/requirements.txt, installed into
  tests/clients/python/.venv); the generated package runs tests/clients/python/run_client.py.
- TypeScript: openapi-typescript's types with openapi-fetch at run time
  (tests/clients/typescript/package-lock.json, `npm ci`); tests/clients/typescript/client.ts
  is type-checked against the generated types by tsc and run by Node 20.

Each client is generated once per session from the checkout's openapi.yaml and kept in its
git-ignored `generated/` folder between runs (made again when the spec, the lock or the
client's own files change; an environment is installed again when its lock changes). One
pass of each client sends a create, a body error, an unknown key and headers past
`x-limits.header_bytes`; every answer must reach the caller as the spec's typed model
(`Customer` or `Problem`), never as a crash of the client.

    .venv/bin/python -m pytest tests/test_generated_clients.py -q
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import secrets
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from billing_kit.conformance.contract import Contract, load_contract
from billing_kit.handlers.cli import serve
from tests.support.procs import ROOT
from tests.support.reference import ReferenceServer
from tests.support.stacks import INSTALL_TIMEOUT
from tests.support.tools import require

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("generated_clients")]

CLIENTS = ROOT / "tests/clients"
SPEC = ROOT / "openapi.yaml"
PYTHON = CLIENTS / "python"
TYPESCRIPT = CLIENTS / "typescript"
STAMP = ".installed"
# A pass is a handful of requests; the budget is for a busy machine, not a figure asserted.
RUN_TIMEOUT = 300
CALLS = ("created", "bad_email", "unknown_key", "long_headers")


def _digest(paths: Sequence[Path]) -> str:
    sha = hashlib.sha256()
    for path in paths:
        sha.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return sha.hexdigest()


def _run(argv: Sequence[str], cwd: Path, timeout: float, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False, env=env)
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(map(str, argv[:4]))} failed in {cwd}:\n{done.stdout[-2000:]}{done.stderr[-3000:]}"
        )
    return done.stdout


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """One installer at a time per folder (another checkout's test run may be installing too)."""
    with (folder / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _made(stamp: Path, inputs: Sequence[Path], commands: Sequence[Sequence[str]], cwd: Path, clear: Path) -> None:
    """Run `commands` in `cwd` unless `stamp` holds the digest of `inputs`; `clear` is emptied first."""
    digest = _digest(inputs)
    if stamp.exists() and stamp.read_text() == digest:
        return
    shutil.rmtree(clear, ignore_errors=True)
    for argv in commands:
        _run(argv, cwd, INSTALL_TIMEOUT)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(digest)


@dataclass(frozen=True)
class Client:
    name: str
    argv: list[str]  # the command of one pass, in `cwd`
    cwd: Path
    env: dict[str, str]


def python_client() -> Client:
    """openapi-python-client in its own venv, and the package it generates from the spec."""
    venv, generated = PYTHON / ".venv", PYTHON / "generated"
    lock = PYTHON / "requirements.txt"
    with _locked(PYTHON):
        install = [[sys.executable, "-m", "venv", str(venv)], [str(venv / "bin/pip"), "install", "-q", "-r", str(lock)]]
        _made(venv / STAMP, [lock], install, PYTHON, venv)
        generator = str(venv / "bin/openapi-python-client")
        generate = [generator, "generate", "--path", str(SPEC), "--config", "config.yaml", "--meta", "none"]
        generate += ["--output-path", str(generated / "billing_client")]
        _made(generated / STAMP, [SPEC, lock, PYTHON / "config.yaml"], [generate], PYTHON, generated)
    argv = [str(venv / "bin/python"), str(PYTHON / "run_client.py")]
    return Client("python", argv, PYTHON, {"PYTHONPATH": str(generated)})


def typescript_client() -> Client:
    """openapi-typescript's types for the spec, client.ts compiled against them by tsc."""
    node = require("node", "make sysdeps installs Node.js 20")
    npm = require("npm", "make sysdeps installs Node.js 20 and npm")
    modules, generated = TYPESCRIPT / "node_modules", TYPESCRIPT / "generated"
    lock = TYPESCRIPT / "package-lock.json"
    with _locked(TYPESCRIPT):
        _made(
            modules / STAMP, [lock], [[npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"]], TYPESCRIPT, modules
        )
        types = [node, str(modules / "openapi-typescript/bin/cli.js"), str(SPEC), "-o", "generated/schema.d.ts"]
        compile_ = [node, str(modules / "typescript/bin/tsc"), "-p", "tsconfig.json"]
        inputs = [SPEC, lock, TYPESCRIPT / "tsconfig.json", TYPESCRIPT / "client.ts"]
        _made(generated / STAMP, inputs, [types, compile_], TYPESCRIPT, generated)
    return Client("typescript", [node, str(generated / "out/client.js")], TYPESCRIPT, {})


@pytest.fixture(scope="module")
def contract() -> Contract:
    return load_contract(SPEC)


@pytest.fixture(scope="module")
def clients() -> dict[str, Client]:
    """Both clients, installed and generated once per session (and cached between runs)."""
    return {"python": python_client(), "typescript": typescript_client()}


@pytest.fixture(scope="module")
def passes(
    clients: dict[str, Client], reference_server: ReferenceServer, contract: Contract
) -> dict[str, dict[str, Any]]:
    """Per client, what one pass against the reference server saw, with the email it created."""
    out = {}
    for name, client in clients.items():
        email = f"generated-{name}-{secrets.token_hex(4)}@example.com"
        env = {
            **os.environ,
            **client.env,
            "BASE_URL": reference_server.base_url,
            "API_KEY": reference_server.sandbox_key,
            "UNKNOWN_KEY": contract.prefix_of_environment(contract.sandbox_environment) + secrets.token_hex(16),
            "EMAIL": email,
            "HEADER_BYTES": str(contract.header_bytes_limit),
        }
        seen = json.loads(_run(client.argv, client.cwd, RUN_TIMEOUT, env=env))
        out[name] = {**seen, "email": email}
    return out


@pytest.fixture(scope="module", params=["python", "typescript"])
def seen(request: pytest.FixtureRequest, passes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    one: dict[str, Any] = passes[request.param]
    return one


def _problem(answer: dict[str, Any], status: int) -> dict[str, Any]:
    assert answer.get("kind") == "problem", f"not parsed as the spec's Problem: {answer}"
    assert answer["status"] == status, answer
    body: dict[str, Any] = answer["body"]
    assert {"type", "title", "status", "detail"} <= set(body), body
    assert body["status"] == status, body
    return body


def test_a_create_is_a_typed_customer(seen: dict[str, Any], contract: Contract) -> None:
    created = seen["created"]
    assert created.get("kind") == "customer", created
    assert created["status"] == 201
    customer = created["body"]
    assert sorted(customer) == sorted(contract.response_fields)
    assert contract.is_valid_id(customer["id"]), customer["id"]
    sent = {"email": seen["email"], "name": "Jane Doe", "external_id": "usr_12345", "metadata": {"plan": "pro"}}
    assert {k: customer[k] for k in sent} == sent
    assert customer["environment"] == contract.sandbox_environment
    assert customer["created_at"] == customer["updated_at"]
    if "types" in created:  # the Python client's classes: one per named schema
        assert created["types"]["environment"] == "Environment" and created["environment_is_enum"], created
        assert created["types"]["metadata"] == "Metadata", created
        assert created["created_at_is_datetime"], created
    else:
        assert created["environment"] == contract.sandbox_environment
        assert created["metadata"] == sent["metadata"]


def test_a_body_error_is_a_problem_naming_the_field(seen: dict[str, Any]) -> None:
    body = _problem(seen["bad_email"], 400)
    assert "/email" in [e["pointer"] for e in body.get("errors", [])], body


def test_an_unknown_key_is_a_problem(seen: dict[str, Any]) -> None:
    _problem(seen["unknown_key"], 401)


def test_headers_past_the_cap_are_a_problem_not_a_crash(seen: dict[str, Any], contract: Contract) -> None:
    """The reference's HTTP layer refuses them before the app; the client still gets the spec's Problem."""
    body = _problem(seen["long_headers"], 400)
    assert str(contract.header_bytes_limit) in body["detail"], body


def test_the_python_models_are_the_spec_schemas(passes: dict[str, dict[str, Any]]) -> None:
    """One class per named schema: no inline enum left a plain string, no schema declared twice."""
    schemas = yaml.safe_load(SPEC.read_text())["components"]["schemas"]
    assert passes["python"]["models"] == sorted(schemas)


def test_the_servers_name_production_then_the_local_reference(contract: Contract) -> None:
    defaults = {p.name: p.default for p in serve.params}
    urls = [s["url"] for s in contract.spec["servers"]]
    assert len(urls) == 2 and urls[0].startswith("https://"), urls
    assert urls[1] == f"http://{defaults['host']}:{defaults['port']}{contract.base_path}", urls
    assert all(url.endswith(contract.base_path) for url in urls)
