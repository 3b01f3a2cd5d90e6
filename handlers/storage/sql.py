"""The Storage protocol written once, in SQL, over a small per-database `Dialect`.

A create with an Idempotency-Key is one transaction: read the key's record (a live one
is replayed, or refused when the body differs; an expired one is deleted), insert the
customer row, then claim the key with `INSERT … ON CONFLICT DO NOTHING` on the primary
key (api_key_id, key). If another transaction claimed it first, the claim inserts
nothing: this transaction, customer row included, is rolled back and the create starts
again, now seeing the winner's committed record and replaying it. No lock lives in
memory, so any number of processes on one database agree. The dialect's transaction
decides how early writers meet: SQLite's `BEGIN IMMEDIATE` takes the write lock first
(the claim is then never lost), PostgreSQL's claim waits on the winner's row lock.

A create without a key is one INSERT in autocommit: its own transaction, without BEGIN
and COMMIT round trips. `create_customer` returns only after the commit, and the 201 is
sent after it returns.

What differs between databases stays in the dialect (handlers/storage/sqlite.py,
postgres.py): parameter style, the SQL types of the schema, how a timestamp and a JSON
text are stored and read back, connections, write turns, transactions, the schema lock
and which exceptions are database failures (each becomes a one-line `StorageError`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from datetime import UTC, datetime
from typing import Any, Protocol

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
from billing_kit.handlers.storage.schema import API_KEYS, CUSTOMERS, IDEMPOTENCY, SCHEMA_VERSION, ddl

# A lost claim is retried once the winner committed; a third loss means something else is wrong.
CLAIM_ATTEMPTS = 3

IdFactory = Callable[[], str]
Row = Any  # a tuple of column values, as the driver returns it


class Cursor(Protocol):
    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Row | None: ...

    def fetchall(self) -> list[Row]: ...


class Connection(Protocol):
    def execute(self, query: Any, params: Any = ..., /) -> Cursor: ...


class Dialect(Protocol):
    """What one database needs said its own way."""

    name: str  # the database in messages: a path, or a URL without its password
    param: str  # the parameter marker: "?" or "%s"
    json_param: str  # the marker of a JSON text parameter (PostgreSQL casts it: "%s::json")
    types: Mapping[str, str]  # schema kind -> SQL type (handlers/storage/schema.py)

    def writing(self, what: str) -> AbstractContextManager[Connection]:
        """A connection holding this process's write turn; database failures leave as StorageError."""
        ...

    def fetch_one(self, what: str, query: str, params: tuple[Any, ...]) -> Row | None: ...

    def fetch_all(self, what: str, query: str, params: tuple[Any, ...]) -> list[Row]: ...

    def transaction(self, conn: Any) -> AbstractContextManager[Any]:
        """Commit on success, roll back on any exception (which goes on)."""
        ...

    def lock_schema(self, conn: Any) -> None:
        """Inside the upgrade's transaction: make concurrent upgrades take turns."""
        ...

    def stored_time(self, value: datetime) -> Any: ...

    def read_time(self, value: Any) -> datetime: ...

    def read_json(self, value: Any) -> dict[str, Any]: ...

    def close(self) -> None: ...


class _ClaimLost(Exception):
    """Another transaction holds this Idempotency-Key: roll back and read its record."""


def _now() -> datetime:
    return datetime.now(UTC)


def _json_text(metadata: dict[str, Any]) -> str:
    return json.dumps(metadata, ensure_ascii=False, separators=(",", ":"))


class SQLStorage:
    """The Storage protocol on one relational database, spoken through `dialect`."""

    write_threads = 4
    inline_reads = False

    def __init__(self, dialect: Dialect, new_customer_id: IdFactory) -> None:
        self.dialect = dialect
        self._new_id = new_customer_id
        # Every statement, in the dialect's parameter style, built once.
        p, customers, keys = dialect.param, CUSTOMERS.column_names, API_KEYS.column_names
        customer_values = ", ".join([p] * 6 + [dialect.json_param] + [p] * 2)
        self._ddl = ddl(dialect.types)
        self._sql_insert_customer = f"INSERT INTO customers ({customers}) VALUES ({customer_values})"
        self._sql_get_customer = f"SELECT {customers} FROM customers WHERE id = {p}"
        self._sql_find_record = (
            f"SELECT body_sha256, customer_id, created_at FROM idempotency WHERE api_key_id = {p} AND key = {p}"
        )
        self._sql_drop_record = f"DELETE FROM idempotency WHERE api_key_id = {p} AND key = {p} AND created_at = {p}"
        self._sql_claim = (
            f"INSERT INTO idempotency ({IDEMPOTENCY.column_names}) VALUES ({p}, {p}, {p}, {p}, {p})"
            " ON CONFLICT DO NOTHING"
        )
        self._sql_add_key = f"INSERT INTO api_keys ({keys}) VALUES ({p}, {p}, {p}, {p}, {p}, {p}, NULL)"
        self._sql_find_key = f"SELECT {keys} FROM api_keys WHERE key_hash = {p}"
        self._sql_list_keys = f"SELECT {keys} FROM api_keys ORDER BY created_at, id"
        self._sql_revoke_key = (
            f"UPDATE api_keys SET revoked_at = {p} WHERE (id = {p} OR display = {p}) AND revoked_at IS NULL"
        )
        self._sql_purge = f"DELETE FROM idempotency WHERE created_at < {p}"
        self._sql_version = "SELECT version FROM schema_version"
        self._sql_set_version = f"INSERT INTO schema_version (version) VALUES ({p})"

    # -- rows ---------------------------------------------------------------
    def _customer(self, row: Row) -> Customer:
        read_time = self.dialect.read_time
        return Customer(
            id=row[0],
            org_id=row[1],
            environment=row[2],
            email=row[3],
            name=row[4],
            external_id=row[5],
            metadata=self.dialect.read_json(row[6]),
            created_at=read_time(row[7]),
            updated_at=read_time(row[8]),
        )

    def _key(self, row: Row) -> ApiKey:
        return ApiKey(
            id=row[0],
            key_hash=row[1],
            display=row[2],
            org_id=row[3],
            environment=row[4],
            created_at=self.dialect.read_time(row[5]),
            revoked_at=None if row[6] is None else self.dialect.read_time(row[6]),
        )

    # -- schema -------------------------------------------------------------
    def upgrade(self) -> None:
        with self.dialect.writing("schema upgrade") as conn, self.dialect.transaction(conn):
            self.dialect.lock_schema(conn)
            for statement in self._ddl:
                conn.execute(statement)
            row = conn.execute(self._sql_version).fetchone()
            if row is None:
                conn.execute(self._sql_set_version, (SCHEMA_VERSION,))
            elif row[0] > SCHEMA_VERSION:
                raise StorageError(f"{self.dialect.name} has schema version {row[0]}, newer than this billing-kit")

    # -- customers ----------------------------------------------------------
    def create_customer(self, new: NewCustomer, idempotency: IdempotencyRequest | None = None) -> CreateOutcome:
        with self.dialect.writing("create") as conn:
            if idempotency is None:
                customer = new.stored_as(self._new_id(), _now())
                self._insert_customer(conn, customer)
                return Created(customer)
            for _ in range(CLAIM_ATTEMPTS):
                try:
                    with self.dialect.transaction(conn):
                        return self._create_claimed(conn, new, idempotency)
                except _ClaimLost:
                    continue
        raise StorageError(f"create failed: the Idempotency-Key claim was lost {CLAIM_ATTEMPTS} times")

    def _create_claimed(self, conn: Connection, new: NewCustomer, idempotency: IdempotencyRequest) -> CreateOutcome:
        now = _now()
        key = (idempotency.api_key_id, idempotency.key)
        row = conn.execute(self._sql_find_record, key).fetchone()
        if row is not None:
            if self.dialect.read_time(row[2]) > now - IDEMPOTENCY_TTL:
                if row[0] != idempotency.body_sha256:
                    return KeyReused()
                found = conn.execute(self._sql_get_customer, (row[1],)).fetchone()
                if found is None:
                    raise StorageError(f"idempotency record points to a missing customer {row[1]}")
                return Replayed(self._customer(found))
            conn.execute(self._sql_drop_record, (*key, row[2]))  # expired: as if absent
        customer = new.stored_as(self._new_id(), now)
        self._insert_customer(conn, customer)
        stored_now = self.dialect.stored_time(now)
        claimed = conn.execute(self._sql_claim, (*key, idempotency.body_sha256, customer.id, stored_now))
        if claimed.rowcount != 1:
            raise _ClaimLost
        return Created(customer)

    def _insert_customer(self, conn: Connection, customer: Customer) -> None:
        stored_now = self.dialect.stored_time(customer.created_at)
        conn.execute(
            self._sql_insert_customer,
            (
                customer.id,
                customer.org_id,
                customer.environment,
                customer.email,
                customer.name,
                customer.external_id,
                _json_text(customer.metadata),
                stored_now,
                stored_now,
            ),
        )

    def get_customer(self, customer_id: str) -> Customer | None:
        row = self.dialect.fetch_one("read", self._sql_get_customer, (customer_id,))
        return None if row is None else self._customer(row)

    def count_customers(self) -> int:
        row = self.dialect.fetch_one("count", "SELECT count(*) FROM customers", ())
        return int(row[0]) if row else 0

    # -- API keys -----------------------------------------------------------
    def add_key(self, key_hash: str, display: str, org_id: str, environment: str) -> ApiKey:
        key = ApiKey(
            id="key_" + secrets.token_hex(8),
            key_hash=key_hash,
            display=display,
            org_id=org_id,
            environment=environment,
            created_at=_now(),
            revoked_at=None,
        )
        created_at = self.dialect.stored_time(key.created_at)
        with self.dialect.writing("add key") as conn:
            values = (key.id, key.key_hash, key.display, key.org_id, key.environment, created_at)
            conn.execute(self._sql_add_key, values)
        return key

    def find_key(self, key_hash: str) -> ApiKey | None:
        row = self.dialect.fetch_one("key lookup", self._sql_find_key, (key_hash,))
        return None if row is None else self._key(row)

    def list_keys(self) -> list[ApiKey]:
        return [self._key(row) for row in self.dialect.fetch_all("list keys", self._sql_list_keys, ())]

    def revoke_key(self, key_id_or_display: str) -> bool:
        with self.dialect.writing("revoke key") as conn:
            cursor = conn.execute(
                self._sql_revoke_key, (self.dialect.stored_time(_now()), key_id_or_display, key_id_or_display)
            )
            return cursor.rowcount > 0

    def purge_idempotency(self, older_than: datetime) -> int:
        with self.dialect.writing("purge") as conn:
            return conn.execute(self._sql_purge, (self.dialect.stored_time(older_than),)).rowcount

    def close(self) -> None:
        self.dialect.close()
