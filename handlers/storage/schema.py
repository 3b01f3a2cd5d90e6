"""The database schema, once, for every backend: tables as data, DDL rendered per dialect.

- `api_keys`: id (public `key_…`), key_hash (UNIQUE; SHA-256 hex of the secret, which is
  never stored), display (`sk_test_…abcd`), org_id, environment, created_at, revoked_at
  (NULL while active).
- `customers`: id (`cus_…`), org_id, environment, email, name and external_id (NULL when
  not sent), metadata (a JSON object), created_at, updated_at.
- `idempotency`: PRIMARY KEY (api_key_id, key) — the claim is this unique constraint,
  inserted in the same transaction as the customer row; body_sha256 (hex of the canonical
  body), customer_id, created_at (records older than 24 hours are ignored and purged).
  Index on created_at for the purge.
- `schema_version`: one row, the version below.

Each backend names its SQL type for the four kinds of column (`SQLITE_TYPES`,
`POSTGRES_TYPES`): SQLite keeps timestamps as ISO 8601 text in UTC with microseconds
(they sort as text) and JSON as text; PostgreSQL uses `timestamptz` and `json` (not
`jsonb`: `json` keeps the text as written, key order and `1.0` included, as SQLite's
TEXT does). Strings never contain U+0000: validation rejects it (PostgreSQL text cannot
hold it).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

SCHEMA_VERSION = 1

# The kinds of column; each backend maps them to its own SQL types.
TEXT, INTEGER, JSON, TIMESTAMP = "text", "integer", "json", "timestamp"
SQLITE_TYPES: Mapping[str, str] = {TEXT: "TEXT", INTEGER: "INTEGER", JSON: "TEXT", TIMESTAMP: "TEXT"}
POSTGRES_TYPES: Mapping[str, str] = {TEXT: "text", INTEGER: "integer", JSON: "json", TIMESTAMP: "timestamptz"}


@dataclass(frozen=True)
class Column:
    name: str
    kind: str
    constraint: str = "NOT NULL"  # what follows the type: "NOT NULL", "PRIMARY KEY", "" for nullable


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    constraints: tuple[str, ...] = ()

    @property
    def column_names(self) -> str:
        """`id, org_id, …` in table order: the column list of every SELECT and INSERT."""
        return ", ".join(column.name for column in self.columns)

    def create(self, types: Mapping[str, str]) -> str:
        lines = [f"    {c.name} {types[c.kind]} {c.constraint}".rstrip() for c in self.columns]
        lines += [f"    {constraint}" for constraint in self.constraints]
        return f"CREATE TABLE IF NOT EXISTS {self.name} (\n" + ",\n".join(lines) + "\n)"


SCHEMA_VERSION_TABLE = Table("schema_version", (Column("version", INTEGER),))
API_KEYS = Table(
    "api_keys",
    (
        Column("id", TEXT, "PRIMARY KEY"),
        Column("key_hash", TEXT, "NOT NULL UNIQUE"),
        Column("display", TEXT),
        Column("org_id", TEXT),
        Column("environment", TEXT),
        Column("created_at", TIMESTAMP),
        Column("revoked_at", TIMESTAMP, ""),
    ),
)
CUSTOMERS = Table(
    "customers",
    (
        Column("id", TEXT, "PRIMARY KEY"),
        Column("org_id", TEXT),
        Column("environment", TEXT),
        Column("email", TEXT),
        Column("name", TEXT, ""),
        Column("external_id", TEXT, ""),
        Column("metadata", JSON),
        Column("created_at", TIMESTAMP),
        Column("updated_at", TIMESTAMP),
    ),
)
IDEMPOTENCY = Table(
    "idempotency",
    (
        Column("api_key_id", TEXT, "NOT NULL REFERENCES api_keys(id)"),
        Column("key", TEXT),
        Column("body_sha256", TEXT),
        Column("customer_id", TEXT, "NOT NULL REFERENCES customers(id)"),
        Column("created_at", TIMESTAMP),
    ),
    constraints=("PRIMARY KEY (api_key_id, key)",),
)
TABLES = (SCHEMA_VERSION_TABLE, API_KEYS, CUSTOMERS, IDEMPOTENCY)
INDEXES = ("CREATE INDEX IF NOT EXISTS idempotency_created_at ON idempotency (created_at)",)


def ddl(types: Mapping[str, str]) -> list[str]:
    """The statements that create every table and index (each `IF NOT EXISTS`), in the backend's types."""
    return [table.create(types) for table in TABLES] + list(INDEXES)
