"""The reference server as a test fixture: a real `billing-kit serve` on a free port.

`start_reference_server(tmp_dir)` creates a sandbox and a live key with `billing-kit keys
create` (the same org), starts the server on its own data directory (or on `db_url`),
and yields everything a test needs. The `reference_server` fixture in tests/conftest.py
wraps it, session-scoped.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from billing_kit.conformance.contract import load_contract
from tests.support.procs import BILLING_KIT, ServerProcess, free_port, run_server

SQLITE_FILE = "billing.sqlite3"


@dataclass
class ReferenceServer:
    server: ServerProcess
    base_url: str  # http://127.0.0.1:PORT/v1
    sandbox_key: str
    live_key: str
    data_dir: Path
    db_url: str | None  # None: the SQLite file in data_dir

    @property
    def origin(self) -> str:
        return self.server.origin

    @property
    def db_path(self) -> Path:
        return self.data_dir / SQLITE_FILE

    def cli_args(self) -> list[str]:
        """`--data-dir`/`--db` options naming this server's database, for other CLI calls."""
        return db_args(self.data_dir, self.db_url)


def db_args(data_dir: Path, db_url: str | None = None) -> list[str]:
    return ["--data-dir", str(data_dir), *(["--db", db_url] if db_url else [])]


def billing_kit(args: Sequence[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BILLING_KIT, *args], capture_output=True, text=True, timeout=timeout, check=False)


def create_key(environment: str, data_dir: Path, db_url: str | None = None, org: str | None = None) -> str:
    """A new key via `billing-kit keys create` (the key is stdout's first line)."""
    args = ["keys", "create", "--env", environment, *db_args(data_dir, db_url), *(["--org", org] if org else [])]
    done = billing_kit(args)
    if done.returncode != 0:
        raise RuntimeError(f"keys create failed ({done.returncode}): {done.stderr}")
    return done.stdout.splitlines()[0].strip()


@contextmanager
def start_reference_server(
    tmp_dir: Path,
    db_url: str | None = None,
    workers: int = 1,
    env: dict[str, str] | None = None,
    keys: tuple[str, str] | None = None,
) -> Iterator[ReferenceServer]:
    """Serve on `tmp_dir/data`; reuse `keys` (sandbox, live) or create a fresh pair."""
    data_dir = tmp_dir / "data"
    if keys is None:
        spec = load_contract()
        keys = (
            create_key(spec.sandbox_environment, data_dir, db_url),
            create_key(spec.live_environment, data_dir, db_url),
        )
    port = free_port()
    argv = [BILLING_KIT, "serve", "--port", str(port), "--workers", str(workers), *db_args(data_dir, db_url)]
    with run_server(argv, port, ready_path="/healthz", env=env) as server:
        yield ReferenceServer(
            server=server,
            base_url=f"{server.origin}/v1",
            sandbox_key=keys[0],
            live_key=keys[1],
            data_dir=data_dir,
            db_url=db_url,
        )
