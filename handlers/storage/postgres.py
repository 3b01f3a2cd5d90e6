"""PostgreSQL storage: several reference-server processes on one database.

The tables and constraints are those of `handlers/storage/schema.py`, in PostgreSQL
types: timestamps are `timestamptz`; `metadata` is `json`, not `jsonb`, because `json`
keeps the text as written (key order, `1.0`, `-0.0`), as SQLite's TEXT does, so a
replayed 201 is the first one byte for byte.

A create is one transaction: the customer row, then the idempotency claim with
`INSERT … ON CONFLICT DO NOTHING`. The primary key on (api_key_id, key) makes a second
process's claim wait for the first transaction; if that one commits, the claim inserts
nothing, this transaction (customer row included) is rolled back and the committed
record is replayed. No lock lives in memory, so any number of processes agree.

Every session runs with `synchronous_commit = on` whatever the server or database
default, and `TimeZone = UTC`: `create_customer` returns after the commit is flushed,
and the 201 is sent after it returns. psycopg refuses U+0000 and lone surrogates
before they reach the server; validation rejects both with a 400 first, and a direct
call gets a `StorageError`, like any other database failure.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import psycopg
from psycopg.rows import TupleRow
from psycopg_pool import ConnectionPool, PoolTimeout

from billing_kit.handlers.spec import new_customer_id
from billing_kit.handlers.storage.base import (
    IDEMPOTENCY_TTL,
    ApiKey,
    Created,
    CreateOutcome,
    Customer,
    IdempotencyRequest,
    KeyReused,
    NewCustomer,
    Replayed,
    StorageError,
)
from billing_kit.handlers.storage.schema import SCHEMA_VERSION

POOL_MIN = 2
POOL_MAX = 8
CONNECT_TIMEOUT_SECONDS = 5
# A healthy pool never makes a write thread wait (one connection per thread); a wait means
# the database is being reconnected, and a prompt 503 + Retry-After beats a held client.
CHECKOUT_TIMEOUT_SECONDS = 2
OPEN_TIMEOUT_SECONDS = 10
# Any constant shared by all processes: two `serve` starting together upgrade one at a time.
UPGRADE_LOCK_ID = 0x62696C6C  # "bill"
# A lost claim is retried once the winner committed; a third loss means something else is wrong.
CLAIM_ATTEMPTS = 3

POSTGRES_DDL = """
CREATE TABLE IF NOT EXISTS schema_version (
    version integer NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    id          text PRIMARY KEY,
    key_hash    text NOT NULL UNIQUE,
    display     text NOT NULL,
    org_id      text NOT NULL,
    environment text NOT NULL,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE TABLE IF NOT EXISTS customers (
    id          text PRIMARY KEY,
    org_id      text NOT NULL,
    environment text NOT NULL,
    email       text NOT NULL,
    name        text,
    external_id text,
    metadata    json NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    api_key_id  text NOT NULL REFERENCES api_keys(id),
    key         text NOT NULL,
    body_sha256 text NOT NULL,
    customer_id text NOT NULL REFERENCES customers(id),
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (api_key_id, key)
);
CREATE INDEX IF NOT EXISTS idempotency_created_at ON idempotency (created_at);
"""

_CUSTOMER_COLUMNS = "id, org_id, environment, email, name, external_id, metadata, created_at, updated_at"
_KEY_COLUMNS = "id, key_hash, display, org_id, environment, created_at, revoked_at"
Row = TupleRow


class _ClaimLost(Exception):
    """Another transaction holds this Idempotency-Key: roll back and read its record."""


def redact(url: str) -> str:
    """The URL with its password hidden, for messages and logs."""
    password = urlsplit(url).password
    return url.replace(f":{password}@", ":***@") if password else url


def _one_line(exc: BaseException, url: str) -> str:
    text = re.sub(r"\s+", " ", str(exc)).strip() or type(exc).__name__
    password = urlsplit(url).password
    return text.replace(password, "***") if password else text


def _metadata_text(metadata: dict[str, Any]) -> str:
    return json.dumps(metadata, ensure_ascii=False, separators=(",", ":"))


def _customer(row: Row) -> Customer:
    return Customer(
        id=row[0],
        org_id=row[1],
        environment=row[2],
        email=row[3],
        name=row[4],
        external_id=row[5],
        metadata=row[6],
        created_at=row[7],
        updated_at=row[8],
    )


def _key(row: Row) -> ApiKey:
    return ApiKey(
        id=row[0],
        key_hash=row[1],
        display=row[2],
        org_id=row[3],
        environment=row[4],
        created_at=row[5],
        revoked_at=row[6],
    )


def _configure(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SET synchronous_commit TO on")
    conn.execute("SET TIME ZONE 'UTC'")


class PostgresStorage:
    """The Storage protocol on one PostgreSQL database, through a connection pool."""

    # Each write thread holds at most one pooled connection: no thread waits for the pool.
    write_threads = POOL_MAX
    # Reads are network round trips: they leave the event loop too.
    inline_reads = False

    def __init__(self, url: str, min_size: int = POOL_MIN, max_size: int = POOL_MAX) -> None:
        self.url = url
        try:
            # One plain connection first: a wrong URL or a stopped server gets libpq's own
            # message rather than the pool's "initialization incomplete".
            psycopg.connect(url, connect_timeout=CONNECT_TIMEOUT_SECONDS).close()
        except (psycopg.Error, ValueError) as exc:
            raise StorageError(f"cannot connect to {redact(url)}: {_one_line(exc, url)}") from None
        self.write_threads = max_size
        self._pool: ConnectionPool[psycopg.Connection[TupleRow]] = ConnectionPool(
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
            self._pool.open(wait=True, timeout=OPEN_TIMEOUT_SECONDS)
        except PoolTimeout as exc:
            self._pool.close()
            raise StorageError(f"cannot open a connection pool on {redact(url)}: {_one_line(exc, url)}") from None

    @contextmanager
    def _conn(self, what: str) -> Iterator[psycopg.Connection[TupleRow]]:
        """A pooled connection; every database failure leaves as a one-line StorageError."""
        try:
            with self._pool.connection() as conn:
                yield conn
        except (psycopg.Error, PoolTimeout, UnicodeError) as exc:
            raise StorageError(f"{what} failed: {_one_line(exc, self.url)}") from exc

    def upgrade(self) -> None:
        with self._conn("schema upgrade") as conn, conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (UPGRADE_LOCK_ID,))
            conn.execute(POSTGRES_DDL)
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                conn.execute("INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION,))
            elif row[0] > SCHEMA_VERSION:
                raise StorageError(f"{redact(self.url)} has schema version {row[0]}, newer than this billing-kit")

    # -- customers --------------------------------------------------------
    def create_customer(self, new: NewCustomer, idempotency: IdempotencyRequest | None = None) -> CreateOutcome:
        with self._conn("create") as conn:
            if idempotency is None:
                # One INSERT in autocommit is its own transaction: no BEGIN/COMMIT round trips.
                return self._create(conn, new, None)
            for _ in range(CLAIM_ATTEMPTS):
                try:
                    with conn.transaction():
                        return self._create(conn, new, idempotency)
                except _ClaimLost:
                    continue
        raise StorageError(f"create failed: the Idempotency-Key claim was lost {CLAIM_ATTEMPTS} times")

    def _create(
        self, conn: psycopg.Connection[TupleRow], new: NewCustomer, idempotency: IdempotencyRequest | None
    ) -> CreateOutcome:
        now = datetime.now(UTC)
        if idempotency is not None:
            row = conn.execute(
                "SELECT body_sha256, customer_id, created_at FROM idempotency WHERE api_key_id = %s AND key = %s",
                (idempotency.api_key_id, idempotency.key),
            ).fetchone()
            if row is not None and row[2] > now - IDEMPOTENCY_TTL:
                if row[0] != idempotency.body_sha256:
                    return KeyReused()
                customer = self._get(conn, row[1])
                if customer is None:
                    raise StorageError(f"idempotency record points to a missing customer {row[1]}")
                return Replayed(customer)
            if row is not None:
                conn.execute(
                    "DELETE FROM idempotency WHERE api_key_id = %s AND key = %s AND created_at = %s",
                    (idempotency.api_key_id, idempotency.key, row[2]),
                )
        customer = new.stored_as(new_customer_id(), now)
        conn.execute(
            f"INSERT INTO customers ({_CUSTOMER_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s::json, %s, %s)",
            (
                customer.id,
                customer.org_id,
                customer.environment,
                customer.email,
                customer.name,
                customer.external_id,
                _metadata_text(customer.metadata),
                now,
                now,
            ),
        )
        if idempotency is not None:
            claimed = conn.execute(
                "INSERT INTO idempotency (api_key_id, key, body_sha256, customer_id, created_at)"
                " VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (idempotency.api_key_id, idempotency.key, idempotency.body_sha256, customer.id, now),
            )
            if claimed.rowcount != 1:
                raise _ClaimLost
        return Created(customer)

    @staticmethod
    def _get(conn: psycopg.Connection[TupleRow], customer_id: str) -> Customer | None:
        row = conn.execute(f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE id = %s", (customer_id,)).fetchone()
        return None if row is None else _customer(row)

    def get_customer(self, customer_id: str) -> Customer | None:
        with self._conn("read") as conn:
            return self._get(conn, customer_id)

    def count_customers(self) -> int:
        with self._conn("count") as conn:
            row = conn.execute("SELECT count(*) FROM customers").fetchone()
        return int(row[0]) if row else 0

    # -- API keys ---------------------------------------------------------
    def add_key(self, key_hash: str, display: str, org_id: str, environment: str) -> ApiKey:
        key = ApiKey(
            id="key_" + secrets.token_hex(8),
            key_hash=key_hash,
            display=display,
            org_id=org_id,
            environment=environment,
            created_at=datetime.now(UTC),
            revoked_at=None,
        )
        with self._conn("add key") as conn:
            conn.execute(
                f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, NULL)",
                (key.id, key.key_hash, key.display, key.org_id, key.environment, key.created_at),
            )
        return key

    def find_key(self, key_hash: str) -> ApiKey | None:
        with self._conn("key lookup") as conn:
            row = conn.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_hash = %s", (key_hash,)).fetchone()
        return None if row is None else _key(row)

    def list_keys(self) -> list[ApiKey]:
        with self._conn("list keys") as conn:
            rows = conn.execute(f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id").fetchall()
        return [_key(row) for row in rows]

    def revoke_key(self, key_id_or_display: str) -> bool:
        with self._conn("revoke key") as conn:
            cursor = conn.execute(
                "UPDATE api_keys SET revoked_at = %s WHERE (id = %s OR display = %s) AND revoked_at IS NULL",
                (datetime.now(UTC), key_id_or_display, key_id_or_display),
            )
        return cursor.rowcount > 0

    def purge_idempotency(self, older_than: datetime) -> int:
        with self._conn("purge") as conn:
            cursor = conn.execute("DELETE FROM idempotency WHERE created_at < %s", (older_than,))
        return cursor.rowcount

    def close(self) -> None:
        self._pool.close()
