"""Storage backends: SQLite by default, PostgreSQL for shared deployments.

`open_storage(url)` picks the backend from the URL's scheme; the PostgreSQL module
(and psycopg) is imported only when a `postgresql://` URL is used.
"""

from __future__ import annotations

from pathlib import Path

from billing_kit.handlers.storage.base import Storage, StorageError

SQLITE_SCHEME = "sqlite:///"


def sqlite_url(path: Path) -> str:
    return SQLITE_SCHEME + str(path.resolve())


def open_storage(url: str) -> Storage:
    """The backend for `url`: `sqlite:///path/to/file` or `postgresql://…`."""
    if url.startswith(SQLITE_SCHEME):
        from billing_kit.handlers.storage.sqlite import SQLiteStorage

        return SQLiteStorage(url.removeprefix(SQLITE_SCHEME))
    if url.startswith(("postgresql://", "postgres://")):
        from billing_kit.handlers.storage.postgres import PostgresStorage  # type: ignore[import-not-found,unused-ignore]

        storage: Storage = PostgresStorage(url)
        return storage
    raise StorageError("database URL must start with sqlite:/// or postgresql://")
