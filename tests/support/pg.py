"""The real PostgreSQL for tests: one throwaway database per test module, dropped afterwards.

The server is the one at 127.0.0.1:5432 (user `postgres`, trust auth); `$BILLING_TEST_PG`
names another (a libpq URL to an existing database used only to create and drop others).
`temporary_database()` creates `billing_test_<pid>_<random>` and yields its URL, so xdist
workers and concurrent runs never share data. With `CI=true` a PostgreSQL that does not
answer is a test failure, never a skip (`.ci/run` starts it first).

Use in a test module:

    from tests.support.pg import pg_url  # noqa: F401  (the module-scoped fixture)

Note for the reference-server owner: `start_reference_server(tmp, db_url=url)` is all the
PostgreSQL tests need from tests/support/reference.py; tests/test_postgres_server.py re-runs
the server's contract tests on PostgreSQL by overriding the `reference_server` fixture, so
please keep those tests reading the server only through that fixture (not the SQLite file).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from psycopg import sql

from tests.support.tools import in_ci

ADMIN_URL_ENV = "BILLING_TEST_PG"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/test"
DATABASE_PREFIX = "billing_test_"


def admin_url() -> str:
    return os.environ.get(ADMIN_URL_ENV, DEFAULT_ADMIN_URL)


@cache
def _unavailable_reason() -> str | None:
    try:
        psycopg.connect(admin_url(), connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"PostgreSQL at {admin_url()} does not answer: {' '.join(str(exc).split())}"
    return None


def require_postgres() -> None:
    """Skip (or, when CI=true, fail) the calling test if PostgreSQL does not answer."""
    reason = _unavailable_reason()
    if reason is None:
        return
    if in_ci():
        pytest.fail(f"{reason} (CI=true: PostgreSQL is required; `.ci/run` starts it)", pytrace=False)
    pytest.skip(f"{reason}; start it with `make sysdeps`")


def url_for(database: str) -> str:
    """The admin URL with its database swapped for `database`."""
    parts = urlsplit(admin_url())
    return urlunsplit(parts._replace(path="/" + database))


@contextmanager
def temporary_database() -> Iterator[str]:
    """A new, empty database; dropped (even with open connections) when the block ends."""
    require_postgres()
    name = f"{DATABASE_PREFIX}{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url(), autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield url_for(name)
    finally:
        with psycopg.connect(admin_url(), autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def database_exists(name: str) -> bool:
    with psycopg.connect(admin_url(), autocommit=True) as admin:
        return admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def count(url: str, query: str, args: tuple[object, ...] = ()) -> int:
    """A `SELECT count(*) …` on the database at `url`, from a connection of its own."""
    with psycopg.connect(url) as conn:
        row = conn.execute(query, args).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """The URL of a database of this test module's own (created empty, dropped after)."""
    with temporary_database() as url:
        yield url
