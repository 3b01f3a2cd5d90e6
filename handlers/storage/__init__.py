"""Storage backends: SQLite by default, PostgreSQL for shared deployments.

`open_storage(url, new_customer_id)` picks the backend from the URL's scheme; the
PostgreSQL module (and psycopg) is imported only when a `postgresql://` URL is used.
Both speak the one algorithm of handlers/storage/sql.py, each through its dialect.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from billing_kit.handlers.storage.base import Storage, StorageError

SQLITE_SCHEME = "sqlite:///"


def sqlite_url(path: Path) -> str:
    return SQLITE_SCHEME + str(path.resolve())


def redact(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    password = urlsplit(url).password
    return url.replace(f":{password}@", ":***@") if password else url


def open_storage(url: str, new_customer_id: Callable[[], str] | None = None) -> Storage:
    """The backend for `url`: `sqlite:///path/to/file` or `postgresql://…`.

    `new_customer_id` mints the id of each new customer; without it, the contract's
    (`handlers.spec.new_customer_id`: RES-ID-1's prefix and 24 random hex digits).
    """
    if new_customer_id is None:
        from billing_kit.handlers import spec

        new_customer_id = spec.new_customer_id
    if url.startswith(SQLITE_SCHEME):
        from billing_kit.handlers.storage.sqlite import SQLiteStorage

        return SQLiteStorage(url.removeprefix(SQLITE_SCHEME), new_customer_id)
    if url.startswith(("postgresql://", "postgres://")):
        from billing_kit.handlers.storage.postgres import PostgresStorage  # type: ignore[import-not-found,unused-ignore]

        storage: Storage = PostgresStorage(url, new_customer_id)
        return storage
    raise StorageError("database URL must start with sqlite:/// or postgresql://")
