"""PostgreSQL's dialect of the storage (handlers/storage/sql.py): several processes, one database.

The tables are those of `handlers/storage/schema.py` in PostgreSQL types: timestamps are
`timestamptz`; `metadata` is `json`, not `jsonb`, because `json` keeps the text as
written (key order, `1.0`, `-0.0`), as SQLite's TEXT does, so a replayed 201 is the
first one byte for byte. psycopg reads it back as a dict and timestamps as datetimes.

Connections come from a pool, in autocommit: a create without an Idempotency-Key is one
INSERT, its own transaction. With a key, the claim (`INSERT … ON CONFLICT DO NOTHING`
on the primary key) of a second process waits for the first transaction; if that one
commits, the claim inserts nothing, this transaction is rolled back and the committed
record is replayed. `upgrade` takes an advisory lock, so two `serve` starting together
upgrade one at a time.

Every session runs with `synchronous_commit = on` whatever the server or database
default, and `TimeZone = UTC`: `create_customer` returns after the commit is flushed,
and the 201 is sent after it returns. psycopg refuses U+0000 and lone surrogates
before they reach the server; validation rejects both with a 400 first, and a direct
call gets a `StorageError`, like any other database failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolTimeout

from billing_kit.handlers.storage.base import StorageError
from billing_kit.handlers.storage.schema import POSTGRES_TYPES
from billing_kit.handlers.storage.sql import IdFactory, Row, SQLStorage
from billing_kit.handlers.storage.url import redact

POOL_MIN = 2
POOL_MAX = 8
CONNECT_TIMEOUT_SECONDS = 5
# A healthy pool never makes a write thread wait (one connection per thread); a wait means
# the database is being reconnected, and a prompt 503 + Retry-After beats a held client.
CHECKOUT_TIMEOUT_SECONDS = 2
OPEN_TIMEOUT_SECONDS = 10
# Any constant shared by all processes: two `serve` starting together upgrade one at a time.
UPGRADE_LOCK_ID = 0x62696C6C  # "bill"
FAILURES = (psycopg.Error, PoolTimeout, UnicodeError)
Conn = psycopg.Connection[TupleRow]


def _one_line(exc: BaseException, url: str) -> str:
    text = re.sub(r"\s+", " ", str(exc)).strip() or type(exc).__name__
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


def _configure(conn: Conn) -> None:
    conn.execute("SET synchronous_commit TO on")
    conn.execute("SET TIME ZONE 'UTC'")


class PostgresDialect:
    """One PostgreSQL database through a connection pool."""

    param = "%s"
    json_param = "%s::json"
    types: Mapping[str, str] = POSTGRES_TYPES

    def __init__(self, url: str, min_size: int = POOL_MIN, max_size: int = POOL_MAX) -> None:
        self.url = url
        self.name = redact(url)
        try:
            # One plain connection first: a wrong URL or a stopped server gets libpq's own
            # message rather than the pool's "initialization incomplete".
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS).close()
        except (psycopg.Error, ValueError) as exc:
            raise StorageError(f"cannot connect to {redact(url)}: {_one_line(exc, url)}") from None
        self.pool: ConnectionPool[Conn] = ConnectionPool(
            url,
            min_size=min(min_size, max_size),
            max_size=max_size,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_SECONDS},
            configure=_configure,
            timeout=CHECKOUT_TIMEOUT_SECONDS,
            name="billing",
            open=False,
        )
        try:
            self.pool.open(wait=True, timeout=OPEN_TIMEOUT_SECONDS)
        except PoolTimeout as exc:
            self.pool.close()
            raise StorageError(f"cannot open a connection pool on {redact(url)}: {_one_line(exc, url)}") from None

    @contextmanager
    def writing(self, what: str) -> Iterator[Conn]:
        """A pooled connection; every database failure leaves as a one-line StorageError."""
        try:
            with self.pool.connection() as conn:
                yield conn
        except FAILURES as exc:
            raise StorageError(f"{what} failed: {_one_line(exc, self.url)}") from exc

    def fetch_one(self, what: str, query: str, params: tuple[Any, ...]) -> Row | None:
        with self.writing(what) as conn:
            return conn.execute(query, params).fetchone()

    def fetch_all(self, what: str, query: str, params: tuple[Any, ...]) -> list[Row]:
        with self.writing(what) as conn:
            return conn.execute(query, params).fetchall()

    @staticmethod
    def transaction(conn: Conn) -> AbstractContextManager[psycopg.Transaction]:
        return conn.transaction()

    @staticmethod
    def lock_schema(conn: Conn) -> None:
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (UPGRADE_LOCK_ID,))

    @staticmethod
    def stored_time(value: datetime) -> datetime:
        return value

    @staticmethod
    def read_time(value: datetime) -> datetime:
        return value

    @staticmethod
    def read_json(value: dict[str, Any]) -> dict[str, Any]:
        return value

    def close(self) -> None:
        self.pool.close()


class PostgresStorage(SQLStorage):
    """The Storage protocol on one PostgreSQL database, through a connection pool."""

    # Reads are network round trips: they leave the event loop too.
    inline_reads = False

    def __init__(
        self, url: str, new_customer_id: IdFactory, min_size: int = POOL_MIN, max_size: int = POOL_MAX
    ) -> None:
        self.url = url
        self.pg = PostgresDialect(url, min_size, max_size)
        # Each write thread holds at most one pooled connection: no thread waits for the pool.
        self.write_threads = max_size
        super().__init__(self.pg, new_customer_id)
