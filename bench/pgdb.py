"""A throw-away PostgreSQL database for the bench, created at start and dropped at the end.

The server is the project's test PostgreSQL (`postgres@127.0.0.1:5432`, trust), or
`$BENCH_PG_URL` (a URL to an admin database; the bench database is created beside it).
"""

from __future__ import annotations

import importlib.util
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit, urlunsplit

ADMIN_URL = os.environ.get("BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def unavailable_reason() -> str | None:
    if importlib.util.find_spec("billing_kit.handlers.storage.postgres") is None:
        return "n/a (not built yet: handlers/storage/postgres.py)"
    try:
        import psycopg

        with psycopg.connect(ADMIN_URL, connect_timeout=3):
            pass
    except Exception as exc:  # any failure to reach it means: skip this server
        return f"n/a (PostgreSQL unreachable: {type(exc).__name__})"
    return None


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


@contextmanager
def bench_database(label: str) -> Iterator[str]:
    """The URL of a new empty database, dropped (with its connections) afterwards."""
    import psycopg
    from psycopg import sql

    name = f"billing_bench_{label.replace('-', '_')}_{secrets.token_hex(4)}"
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield _with_database(ADMIN_URL, name)
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
            admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
