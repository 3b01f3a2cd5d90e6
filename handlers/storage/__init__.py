"""Storage backends: SQLite by default, PostgreSQL for shared deployments.

`open_storage(url, new_customer_id)` picks the backend from the URL's scheme; the
PostgreSQL module (and psycopg) is imported only when a `postgresql://` URL is used.
Both speak the one algorithm of handlers/storage/sql.py, each through its dialect.
"""

from __future__ import annotations

from collections.abc import Callable

from billing_kit.handlers.storage.base import Storage, StorageError
from billing_kit.handlers.storage.url import SQLITE_SCHEME, redact, sqlite_url

__all__ = ["SQLITE_SCHEME", "Storage", "StorageError", "open_storage", "redact", "sqlite_url"]


def open_storage(url: str, new_customer_id: Callable[[], str]) -> Storage:
    """The backend for `url`: `sqlite:///path/to/file` or `postgresql://…`.

    `new_customer_id` mints the id of each new customer (the server passes the contract's,
    `handlers.spec.new_customer_id`); storage itself knows no contract.
    """
    if url.startswith(SQLITE_SCHEME):
        from billing_kit.handlers.storage.sqlite import SQLiteStorage

        return SQLiteStorage(url.removeprefix(SQLITE_SCHEME), new_customer_id)
    if url.startswith(("postgresql://", "postgres://")):
        from billing_kit.handlers.storage.postgres import PostgresStorage  # type: ignore[import-not-found,unused-ignore]

        storage: Storage = PostgresStorage(url, new_customer_id)
        return storage
    raise StorageError("database URL must start with sqlite:/// or postgresql://")
