"""The conformance suite against the PostgreSQL-backed reference: no FAIL, and the same verdicts as SQLite.

`billing-kit check` (the suite as any user runs it) judges two reference servers, one per
backend, with the same seed; a clause whose verdict differs between them would be a
backend leaking into the contract (NUL, surrogates, numbers in `metadata`, replays).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.support import forkcli
from tests.support.pg import pg_url  # noqa: F401
from tests.support.reference import ReferenceServer, start_reference_server

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.xdist_group("postgres_conformance")]
SEED = "7"


@pytest.fixture(scope="module")
def servers(
    tmp_path_factory: pytest.TempPathFactory,
    pg_url: str,  # noqa: F811
) -> Iterator[dict[str, ReferenceServer]]:
    with (
        start_reference_server(tmp_path_factory.mktemp("check-pg"), db_url=pg_url) as on_postgres,
        start_reference_server(tmp_path_factory.mktemp("check-sqlite")) as on_sqlite,
    ):
        yield {"postgres": on_postgres, "sqlite": on_sqlite}


def _check(server: ReferenceServer, report: Path) -> tuple[subprocess.CompletedProcess[str], dict[str, Any]]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BILLING_")}
    env["BILLING_API_KEY"] = server.sandbox_key
    argv = ["check", "--base-url", server.base_url, "--live-key", server.live_key, "--allow-live"]
    argv += ["--seed", SEED, "--report-json", str(report)]
    done = forkcli.run(argv, env=env, timeout=300)
    document = json.loads(report.read_text()) if report.exists() else {}
    return done, document


@pytest.fixture(scope="module")
def reports(servers: dict[str, ReferenceServer], tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("check-reports")
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = {name: pool.submit(_check, server, out / f"{name}.json") for name, server in servers.items()}
        return {name: run.result() for name, run in runs.items()}


def test_the_postgresql_backed_reference_gets_no_fail_and_no_warn(reports: dict[str, Any]) -> None:
    done, document = reports["postgres"]
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr
    bad = [(v["clause"], v["verdict"]) for v in document["verdicts"] if v["verdict"] in ("FAIL", "WARN")]
    assert bad == []
    assert document["summary"]["FAIL"] == 0
    assert document["summary"]["PASS"] >= 20


def test_both_backends_get_the_same_verdict_on_every_clause(reports: dict[str, Any]) -> None:
    verdicts = {
        name: {v["clause"]: v["verdict"] for v in document["verdicts"]} for name, (_, document) in reports.items()
    }
    assert verdicts["postgres"] == verdicts["sqlite"]
