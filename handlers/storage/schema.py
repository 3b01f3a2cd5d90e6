"""The database schema, shared by every backend (PostgreSQL mirrors these tables).

Tables and constraints, in words, so each backend's DDL can be checked against them:

- `api_keys`: id (text, primary key, public `key_…`), key_hash (text, UNIQUE; SHA-256 hex
  of the secret, which is never stored), display (`sk_test_…abcd`), org_id, environment,
  created_at, revoked_at (NULL while active).
- `customers`: id (text primary key, `cus_…`), org_id, environment, email, name (NULL when
  not sent), external_id (NULL when not sent), metadata (JSON object), created_at,
  updated_at.
- `idempotency`: PRIMARY KEY (api_key_id, key) — the claim is this unique constraint,
  inserted in the same transaction as the customer row; body_sha256 (hex of the canonical
  body), customer_id (references customers), created_at (records older than 24 hours are
  ignored and purged). Index on created_at for the purge.
- `schema_version`: one row, the version below.

Timestamps in SQLite are ISO 8601 text in UTC with microseconds (they sort as text);
PostgreSQL uses timestamptz. Strings never contain U+0000: validation rejects it
(PostgreSQL text cannot hold it).
"""

from __future__ import annotations

SCHEMA_VERSION = 1

SQLITE_DDL = """
CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    id          TEXT PRIMARY KEY,
    key_hash    TEXT NOT NULL UNIQUE,
    display     TEXT NOT NULL,
    org_id      TEXT NOT NULL,
    environment TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);
CREATE TABLE IF NOT EXISTS customers (
    id          TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,
    environment TEXT NOT NULL,
    email       TEXT NOT NULL,
    name        TEXT,
    external_id TEXT,
    metadata    TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS idempotency (
    api_key_id  TEXT NOT NULL REFERENCES api_keys(id),
    key         TEXT NOT NULL,
    body_sha256 TEXT NOT NULL,
    customer_id TEXT NOT NULL REFERENCES customers(id),
    created_at  TEXT NOT NULL,
    PRIMARY KEY (api_key_id, key)
);
CREATE INDEX IF NOT EXISTS idempotency_created_at ON idempotency (created_at);
"""
