"""The storage interface: one Protocol, implemented by sqlite.py and postgres.py.

The algorithm is written once (handlers/storage/sql.py) over a dialect per database
(sqlite.py, postgres.py); the tables once, in handlers/storage/schema.py.
- `Storage.upgrade()` creates or upgrades the schema (idempotent); `billing-kit db upgrade`
  and `serve` call it.
- Customer ids come from the id factory the storage is given (the server passes the
  contract's, `handlers.spec.new_customer_id`); storage knows no contract.
- Idempotency records older than `IDEMPOTENCY_TTL` are treated as absent (and replaced).
- Any database failure is a one-line `StorageError` (answered 503).

Customers, API keys and idempotency records live in one database. A create is
one transaction: the idempotency claim (a unique constraint on
(api_key_id, idempotency_key)) and the customer row commit together, so two
processes on one database agree without any lock in memory. The 201 is sent
only after `create_customer` returns, i.e. after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

IDEMPOTENCY_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class NewCustomer:
    org_id: str
    environment: str
    email: str
    name: str | None
    external_id: str | None
    metadata: dict[str, Any]

    def stored_as(self, customer_id: str, now: datetime) -> Customer:
        """The customer this request becomes: on create, updated_at equals created_at (RES-TIME-1)."""
        return Customer(
            id=customer_id,
            org_id=self.org_id,
            environment=self.environment,
            email=self.email,
            name=self.name,
            external_id=self.external_id,
            metadata=self.metadata,
            created_at=now,
            updated_at=now,
        )


@dataclass(frozen=True)
class Customer:
    id: str
    org_id: str
    environment: str
    email: str
    name: str | None
    external_id: str | None
    metadata: dict[str, Any]
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ApiKey:
    id: str  # a short public id, safe to print
    key_hash: str  # HMAC/SHA-256 of the secret; the secret itself is never stored
    display: str  # "sk_test_…abcd"
    org_id: str
    environment: str
    created_at: datetime
    revoked_at: datetime | None


@dataclass(frozen=True)
class IdempotencyRequest:
    api_key_id: str
    key: str
    body_sha256: str


@dataclass(frozen=True)
class Created:
    customer: Customer


@dataclass(frozen=True)
class Replayed:
    """The key was used before with the same body: the first 201, again."""

    customer: Customer


@dataclass(frozen=True)
class KeyReused:
    """The key was used before with a different body (IDEM-2)."""


CreateOutcome = Created | Replayed | KeyReused


class StorageError(Exception):
    """The database failed in a way the request cannot fix (answered 503)."""


class Storage(Protocol):
    def upgrade(self) -> None:
        """Create the tables if missing, or bring them to the current version."""
        ...

    def create_customer(self, new: NewCustomer, idempotency: IdempotencyRequest | None = None) -> CreateOutcome: ...

    def get_customer(self, customer_id: str) -> Customer | None: ...

    def count_customers(self) -> int: ...

    def add_key(self, key_hash: str, display: str, org_id: str, environment: str) -> ApiKey: ...

    def find_key(self, key_hash: str) -> ApiKey | None:
        """The key with this hash, revoked or not (the caller decides)."""
        ...

    def list_keys(self) -> list[ApiKey]: ...

    def revoke_key(self, key_id_or_display: str) -> bool: ...

    def purge_idempotency(self, older_than: datetime) -> int: ...

    def close(self) -> None: ...
