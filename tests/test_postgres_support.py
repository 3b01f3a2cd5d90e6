"""tests/support/pg.py itself: a database per run, dropped after; CI=true never skips."""

from __future__ import annotations

import os
import subprocess
import sys

import psycopg
import pytest

from tests.support.pg import ADMIN_URL_ENV, DATABASE_PREFIX, database_exists, require_postgres, temporary_database
from tests.support.procs import ROOT

pytestmark = pytest.mark.postgres
UNREACHABLE = "postgresql://postgres@127.0.0.1:1/test"


def test_each_temporary_database_is_new_and_dropped_even_with_open_connections() -> None:
    require_postgres()
    with temporary_database() as first, temporary_database() as second:
        assert first != second
        name = first.rsplit("/", 1)[1]
        assert name.startswith(f"{DATABASE_PREFIX}{os.getpid()}_")
        assert database_exists(name)
        lingering = psycopg.connect(first)  # a server process that was never stopped
    assert not database_exists(name)
    assert lingering.closed or lingering.broken or _fails(lingering)


def _fails(conn: psycopg.Connection[object]) -> bool:
    try:
        conn.execute("SELECT 1")
    except psycopg.OperationalError:
        return True
    finally:
        conn.close()
    return False


def _pytest_without_postgres(ci: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, ADMIN_URL_ENV: UNREACHABLE, "CI": ci}
    argv = [sys.executable, "-m", "pytest", "-q", "-rfs"]
    argv += ["tests/test_postgres_storage.py", "-k", "keys_add_find_list_revoke and postgres"]
    return subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, env=env, timeout=120, check=False)


@pytest.mark.slow
def test_a_missing_postgresql_is_a_failure_under_ci() -> None:
    done = _pytest_without_postgres("true")
    assert done.returncode == 1, done.stdout[-2000:]
    assert "1 error" in done.stdout or "1 failed" in done.stdout, done.stdout[-2000:]
    assert "PostgreSQL is required" in done.stdout


@pytest.mark.slow
def test_a_missing_postgresql_is_a_skip_with_its_reason_outside_ci() -> None:
    done = _pytest_without_postgres("")
    assert done.returncode == 0, done.stdout[-2000:]
    assert "1 skipped" in done.stdout
    assert "does not answer" in done.stdout
