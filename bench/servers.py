"""The servers compared, each started on a free port with its own database and key.

Every Python server runs under the same uvicorn settings as `billing-kit serve`
(uvloop, httptools, no access log from uvicorn), one worker unless said otherwise.
Each gets a fresh data directory, and a sandbox key made by `billing-kit keys create`
(which also creates the schema), so all of them insert into the same SQLite layout.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench import pgdb
from billing_kit.conformance.contract import CUSTOMERS_PATH, Contract
from tests.support.procs import BILLING_KIT, ROOT, ServerProcess, free_port, run_server
from tests.support.reference import SQLITE_FILE, create_key

PYTHON = sys.executable
# As `billing-kit serve` runs uvicorn (handlers/cli.py).
UVICORN_FLAGS = ["--loop", "uvloop", "--http", "httptools", "--no-access-log", "--no-server-header"]
UVICORN_FLAGS += ["--log-level", "warning"]


@dataclass(frozen=True)
class ServerKind:
    name: str
    label: str
    # (port, data_dir, db_url) -> argv
    argv: Callable[[int, Path, str | None], list[str]]
    ready_path: str = "/"
    needs_module: str | None = None  # skipped, with the reason shown, when it cannot be imported
    postgres: bool = False  # runs on a bench database created (and dropped) for the run
    default: bool = True  # in the default run (the ablation variants are asked for by name)


@dataclass
class Running:
    kind: ServerKind
    server: ServerProcess
    key: str
    url: str  # the full URL of POST /v1/customers


def _uvicorn(app: str) -> Callable[[int, Path, str | None], list[str]]:
    def argv(port: int, _data_dir: Path, _db_url: str | None) -> list[str]:
        return [PYTHON, "-m", "uvicorn", app, "--factory", "--host", "127.0.0.1", "--port", str(port), *UVICORN_FLAGS]

    return argv


def _serve(workers: int) -> Callable[[int, Path, str | None], list[str]]:
    def argv(port: int, data_dir: Path, db_url: str | None) -> list[str]:
        db = ["--db", db_url] if db_url else []
        return [BILLING_KIT, "serve", "--port", str(port), "--workers", str(workers), "--data-dir", str(data_dir), *db]

    return argv


FLOOR = "floor"
HEALTH = "/healthz"
KINDS: list[ServerKind] = [
    ServerKind(FLOOR, "raw Starlette, no middleware (the floor)", _uvicorn("bench.floor:create_app"), HEALTH),
    ServerKind("reference", "reference (billing-kit serve), 1 worker", _serve(1), HEALTH),
    ServerKind("reference-2w", "reference (billing-kit serve), 2 workers", _serve(2), HEALTH),
    ServerKind("connexion-stock", "Connexion 3.3 AsyncApp, stock", _uvicorn("bench.connexion_stock:create_app")),
    ServerKind("fastapi", "FastAPI + pydantic", _uvicorn("bench.fastapi_app:create_app"), needs_module="fastapi"),
    ServerKind("reference-pg", "reference, 1 worker, PostgreSQL", _serve(1), HEALTH, postgres=True),
    *(
        ServerKind(
            f"abl-{variant.replace('_', '-')}",
            f"reference app, {variant.replace('_', ' ')} (plain uvicorn)",
            _uvicorn(f"bench.ablation:{variant}"),
            HEALTH,
            default=False,
        )
        for variant in ("full", "no_access_log", "no_connexion")
    ),
]


def request_body(contract: Contract) -> str:
    """The spec's request example with the most fields (the page's curl example)."""
    examples = list(contract.request_examples().values())
    if not examples:
        raise SystemExit("Error: the spec has no request example to send")
    return json.dumps(max(examples, key=lambda ex: len(json.dumps(ex))), ensure_ascii=False)


def unavailable_reason(kind: ServerKind) -> str | None:
    if kind.needs_module and importlib.util.find_spec(kind.needs_module) is None:
        return f"n/a ({kind.needs_module} not installed: pip install -r bench/requirements.txt)"
    if kind.postgres:
        return pgdb.unavailable_reason()
    return None


def check_answer(running: Running, body: str, contract: Contract) -> None:
    """One create before the load: a 201 with every field of the contract's response."""
    answer = httpx.post(
        running.url,
        content=body.encode("utf-8"),
        headers={"Authorization": f"Bearer {running.key}", "Content-Type": "application/json"},
        timeout=10,
    )
    if answer.status_code != 201:
        raise RuntimeError(f"{running.kind.name}: expected 201, got {answer.status_code}: {answer.text[:300]}")
    missing = set(contract.response_fields) - set(answer.json())
    if missing:
        raise RuntimeError(f"{running.kind.name}: the 201 lacks {sorted(missing)}")


@contextmanager
def start(kind: ServerKind, work_dir: Path, contract: Contract) -> Iterator[Running]:
    """Start one server on a fresh database with a fresh sandbox key."""
    data_dir = work_dir / kind.name
    with ExitStack() as stack:
        db_url = stack.enter_context(pgdb.bench_database(kind.name)) if kind.postgres else None
        key = create_key(contract.sandbox_environment, data_dir, db_url)
        env = {"BILLING_DATA_DIR": str(data_dir), "BILLING_DB_URL": db_url or f"sqlite:///{data_dir / SQLITE_FILE}"}
        port = free_port()
        server = stack.enter_context(
            run_server(kind.argv(port, data_dir, db_url), port, ready_path=kind.ready_path, env=env, cwd=ROOT)
        )
        yield Running(kind, server, key, f"{server.origin}{contract.base_path}{CUSTOMERS_PATH}")
