"""The Storage protocol, one contract for both backends: SQLite (a file) and PostgreSQL (real).

Every test in the first half runs on both (`storage` is parametrised); the second half
is what only PostgreSQL has: NUL refused cleanly, `synchronous_commit` forced on, the
upgrade lock, libpq errors as one line.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from billing_kit.conformance.contract import load_contract
from billing_kit.handlers.spec import new_customer_id
from billing_kit.handlers.storage import open_storage, sqlite_url
from billing_kit.handlers.storage.base import (
    IDEMPOTENCY_TTL,
    Created,
    CreateOutcome,
    IdempotencyRequest,
    KeyReused,
    NewCustomer,
    Replayed,
    Storage,
    StorageError,
)
from billing_kit.handlers.storage.postgres import PostgresStorage
from billing_kit.handlers.storage.schema import SCHEMA_VERSION
from tests.support.pg import pg_url, temporary_database  # noqa: F401

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("postgres_storage")]
CONTRACT = load_contract()
SANDBOX, LIVE = CONTRACT.environments[0], CONTRACT.environments[-1]
TABLES = ("api_keys", "customers", "idempotency", "schema_version")
# Key order, `1.0`, `-0.0`, non-BMP text and nesting: all must come back as stored.
METADATA: dict[str, Any] = {"z": 1.0, "a": [1, -0.0, None, True, "x"], "ü😀": {"deep": {"er": "Zoë"}}}


def _new(email: str = "jane@example.com", **fields: Any) -> NewCustomer:
    values: dict[str, Any] = {"name": None, "external_id": None, "metadata": {}}
    values.update(fields)
    return NewCustomer(org_id="org_test", environment=SANDBOX, email=email, **values)


def _idem(key: str, body: str = "a" * 64, api_key_id: str = "key_1") -> IdempotencyRequest:
    return IdempotencyRequest(api_key_id=api_key_id, key=key, body_sha256=body)


class Backend:
    """One backend under test: its URL, and raw SQL on it for what the protocol does not expose."""

    def __init__(self, name: str, url: str) -> None:
        self.name, self.url = name, url

    def open(self) -> Storage:
        storage = open_storage(self.url, new_customer_id)
        storage.upgrade()
        return storage

    def sql(self, query: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        if self.name == "sqlite":
            with sqlite3.connect(self.url.removeprefix("sqlite:///")) as conn:
                return conn.execute(query.replace("%s", "?"), args).fetchall()
        with psycopg.connect(self.url, autocommit=True) as conn:
            cursor = conn.execute(query, args)
            return cursor.fetchall() if cursor.description else []

    def timestamp(self, value: datetime) -> Any:
        return value.isoformat(timespec="microseconds") if self.name == "sqlite" else value


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    if request.param == "sqlite":
        yield Backend("sqlite", sqlite_url(tmp_path / "billing.sqlite3"))
        return
    url = request.getfixturevalue("pg_url")
    chosen = Backend("postgres", url)
    with psycopg.connect(url, autocommit=True) as conn:
        existing = conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 'customers'").fetchone()
        if existing and existing[0]:
            conn.execute("TRUNCATE idempotency, customers, api_keys, schema_version")
    yield chosen


@pytest.fixture
def storage(backend: Backend) -> Iterator[Storage]:
    opened = backend.open()
    yield opened
    opened.close()


def _key(storage: Storage, environment: str = SANDBOX) -> str:
    return storage.add_key(f"hash-{environment}", "sk_…abcd", "org_test", environment).id


# -- both backends ----------------------------------------------------------------------


def test_upgrade_is_idempotent_and_records_the_schema_version(backend: Backend) -> None:
    for _ in range(2):
        backend.open().close()
    assert backend.sql("SELECT version FROM schema_version") == [(SCHEMA_VERSION,)]


def test_a_newer_schema_is_refused(backend: Backend, storage: Storage) -> None:
    backend.sql("UPDATE schema_version SET version = %s", (SCHEMA_VERSION + 1,))
    with pytest.raises(StorageError, match="newer"):
        storage.upgrade()


def test_create_then_get_returns_every_field_as_stored(storage: Storage) -> None:
    new = _new("Jane.Doe+x@Example.COM", name=" Zoë 😀 ", external_id="usr_1", metadata=METADATA)
    outcome = storage.create_customer(new)
    assert isinstance(outcome, Created)
    created = outcome.customer
    assert CONTRACT.is_valid_id(created.id)
    assert (created.email, created.name, created.external_id) == (new.email, new.name, new.external_id)
    assert created.created_at == created.updated_at
    assert created.created_at.utcoffset() == timedelta(0)
    fetched = storage.get_customer(created.id)
    assert fetched == created
    assert fetched is not None
    assert json.dumps(fetched.metadata) == json.dumps(METADATA)  # order and `-0.0` kept, not only equal
    assert storage.get_customer(CONTRACT.id_prefix + "0" * 24) is None
    assert storage.count_customers() == 1


def test_creates_without_a_key_make_distinct_customers(storage: Storage) -> None:
    ids = {_created(storage.create_customer(_new())).id for _ in range(20)}
    assert len(ids) == 20
    assert storage.count_customers() == 20


def _created(outcome: CreateOutcome) -> Any:
    assert isinstance(outcome, Created), outcome
    return outcome.customer


def test_same_key_same_body_replays_and_different_body_is_refused(storage: Storage) -> None:
    api_key = _key(storage)
    first = _created(storage.create_customer(_new(metadata=METADATA), _idem("k1", api_key_id=api_key)))
    again = storage.create_customer(_new(metadata=METADATA), _idem("k1", api_key_id=api_key))
    assert isinstance(again, Replayed)
    assert again.customer == first
    other = storage.create_customer(_new(name="other"), _idem("k1", "b" * 64, api_key))
    assert isinstance(other, KeyReused)
    assert storage.count_customers() == 1


def test_keys_are_scoped_to_the_api_key(storage: Storage) -> None:
    sandbox, live = _key(storage, SANDBOX), _key(storage, LIVE)
    one = _created(storage.create_customer(_new(), _idem("same", api_key_id=sandbox)))
    two = _created(storage.create_customer(_new(), _idem("same", api_key_id=live)))
    assert one.id != two.id


def test_an_expired_record_is_absent_and_purged(backend: Backend, storage: Storage) -> None:
    api_key = _key(storage)
    first = _created(storage.create_customer(_new(), _idem("old", api_key_id=api_key)))
    aged = datetime.now(UTC) - IDEMPOTENCY_TTL - timedelta(minutes=1)
    backend.sql("UPDATE idempotency SET created_at = %s", (backend.timestamp(aged),))
    second = _created(storage.create_customer(_new(), _idem("old", "c" * 64, api_key)))
    assert second.id != first.id
    assert isinstance(storage.create_customer(_new(), _idem("old", "c" * 64, api_key)), Replayed)
    backend.sql("UPDATE idempotency SET created_at = %s", (backend.timestamp(aged),))
    assert storage.purge_idempotency(datetime.now(UTC) - IDEMPOTENCY_TTL) == 1
    assert backend.sql("SELECT count(*) FROM idempotency") == [(0,)]


def test_fifty_threads_on_two_instances_with_one_key_make_one_customer(backend: Backend, storage: Storage) -> None:
    api_key = _key(storage)
    other = backend.open()  # a second instance: its own connections, like a second process
    barrier = threading.Barrier(50)

    def attempt(index: int) -> CreateOutcome:
        barrier.wait()
        chosen = storage if index % 2 else other
        return chosen.create_customer(_new(external_id="race"), _idem("race", api_key_id=api_key))

    try:
        with ThreadPoolExecutor(max_workers=50) as pool:
            outcomes = list(pool.map(attempt, range(50)))
    finally:
        other.close()
    created = [o for o in outcomes if isinstance(o, Created)]
    replayed = [o for o in outcomes if isinstance(o, Replayed)]
    assert len(created) == 1
    assert len(replayed) == 49
    assert {o.customer.id for o in replayed} == {created[0].customer.id}
    assert storage.count_customers() == 1


def test_ids_come_from_the_factory_the_storage_is_given(backend: Backend) -> None:
    minted = [f"{CONTRACT.id_prefix}{n:024x}" for n in (7, 8)]
    storage = open_storage(backend.url, iter(minted).__next__)
    try:
        storage.upgrade()
        api_key = _key(storage)
        assert _created(storage.create_customer(_new())).id == minted[0]
        assert _created(storage.create_customer(_new(), _idem("k", api_key_id=api_key))).id == minted[1]
        assert [storage.get_customer(i) is not None for i in minted] == [True, True]
    finally:
        storage.close()


def test_keys_add_find_list_revoke(storage: Storage) -> None:
    first = storage.add_key("h1", "sk_test_…aaaa", "org_1", SANDBOX)
    second = storage.add_key("h2", "sk_live_…bbbb", "org_1", LIVE)
    assert first.id != second.id
    assert storage.find_key("h1") == first
    assert storage.find_key("nope") is None
    assert [k.id for k in storage.list_keys()] == [first.id, second.id]
    assert storage.revoke_key("sk_live_…bbbb") is True  # by display form
    assert storage.revoke_key(second.id) is False  # already revoked
    assert storage.revoke_key("key_unknown") is False
    revoked = storage.find_key("h2")
    assert revoked is not None and revoked.revoked_at is not None
    assert revoked.revoked_at >= second.created_at
    assert storage.find_key("h1") == first
    with pytest.raises(StorageError):
        storage.add_key("h1", "sk_test_…cccc", "org_1", SANDBOX)  # key_hash is UNIQUE


# -- PostgreSQL only ---------------------------------------------------------------------


def _columns_sqlite(url: str) -> dict[str, list[tuple[str, bool]]]:
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        return {t: [(r[1], bool(r[3]) or bool(r[5])) for r in conn.execute(f"PRAGMA table_info({t})")] for t in TABLES}


def _columns_postgres(url: str) -> dict[str, list[tuple[str, bool]]]:
    query = (
        "SELECT column_name, is_nullable = 'NO' FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position"
    )
    with psycopg.connect(url) as conn:
        return {t: [(r[0], r[1]) for r in conn.execute(query, (t,))] for t in TABLES}


def _unique_sets_sqlite(url: str) -> set[tuple[str, tuple[str, ...]]]:
    found = set()
    with sqlite3.connect(url.removeprefix("sqlite:///")) as conn:
        for table in TABLES:
            for index in conn.execute(f"PRAGMA index_list({table})"):
                if index[2]:  # unique (primary keys included)
                    cols = tuple(r[2] for r in conn.execute(f"PRAGMA index_info('{index[1]}')"))
                    found.add((table, cols))
            pk = tuple(r[1] for r in sorted(conn.execute(f"PRAGMA table_info({table})"), key=lambda r: r[5]) if r[5])
            if pk:
                found.add((table, pk))
    return found


def _unique_sets_postgres(url: str) -> set[tuple[str, tuple[str, ...]]]:
    query = (
        "SELECT c.relname, array_agg(a.attname ORDER BY k.ord) FROM pg_index i"
        " JOIN pg_class c ON c.oid = i.indrelid"
        " JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true"
        " JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum"
        " WHERE i.indisunique AND c.relname = ANY(%s) GROUP BY i.indexrelid, c.relname"
    )
    with psycopg.connect(url) as conn:
        return {(r[0], tuple(r[1])) for r in conn.execute(query, (list(TABLES),))}


def _foreign_keys(backend: Backend) -> set[tuple[str, str, str]]:
    if backend.name == "sqlite":
        with sqlite3.connect(backend.url.removeprefix("sqlite:///")) as conn:
            return {(t, r[3], r[2]) for t in TABLES for r in conn.execute(f"PRAGMA foreign_key_list({t})")}
    query = (
        "SELECT tc.table_name, kcu.column_name, ccu.table_name FROM information_schema.table_constraints tc"
        " JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)"
        " JOIN information_schema.constraint_column_usage ccu USING (constraint_schema, constraint_name)"
        " WHERE tc.constraint_type = 'FOREIGN KEY'"
    )
    return {(r[0], r[1], r[2]) for r in backend.sql(query)}


def test_both_backends_have_the_same_tables_columns_and_constraints(
    tmp_path: Path,
    pg_url: str,  # noqa: F811
) -> None:
    lite = Backend("sqlite", sqlite_url(tmp_path / "schema.sqlite3"))
    pg = Backend("postgres", pg_url)
    for chosen in (lite, pg):
        chosen.open().close()
    assert _columns_postgres(pg_url) == _columns_sqlite(lite.url)
    assert _unique_sets_postgres(pg_url) == _unique_sets_sqlite(lite.url)
    assert _foreign_keys(pg) == _foreign_keys(lite)


def _postgres(url: str) -> PostgresStorage:
    storage = PostgresStorage(url, new_customer_id)
    storage.upgrade()
    return storage


@pytest.mark.parametrize(
    "field",
    [
        pytest.param({"name": "a\x00b"}, id="nul-in-name"),
        pytest.param({"email": "\x00@example.com"}, id="nul-in-email"),
        pytest.param({"name": "\ud800"}, id="surrogate-in-name"),
        pytest.param({"metadata": {"k": "\udc00"}}, id="surrogate-in-metadata"),
    ],
)
def test_text_postgresql_cannot_hold_is_a_clean_storage_error(
    field: dict[str, Any],
    pg_url: str,  # noqa: F811
) -> None:
    storage = _postgres(pg_url)
    try:
        before = storage.count_customers()
        with pytest.raises(StorageError) as raised:
            storage.create_customer(_new(**field))
        assert "\n" not in str(raised.value)
        assert storage.count_customers() == before
        _created(storage.create_customer(_new()))  # the pooled connection still works
    finally:
        storage.close()


@pytest.mark.parametrize(
    "field",
    [
        pytest.param({"name": "\ud800"}, id="surrogate-in-name"),
        pytest.param({"metadata": {"k": "\udc00"}}, id="surrogate-in-metadata"),
    ],
)
def test_a_lone_surrogate_is_a_clean_storage_error_on_both_backends(field: dict[str, Any], storage: Storage) -> None:
    before = storage.count_customers()
    with pytest.raises(StorageError) as raised:
        storage.create_customer(_new(**field))
    assert "\n" not in str(raised.value)
    assert storage.count_customers() == before
    _created(storage.create_customer(_new()))


def test_synchronous_commit_is_on_even_where_the_database_default_is_off() -> None:
    with temporary_database() as url:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
        with psycopg.connect(url) as conn:
            assert conn.execute("SHOW synchronous_commit").fetchone() == ("off",)
        storage = _postgres(url)
        try:
            with storage.pg.pool.connection() as conn:  # the connections create_customer uses
                assert conn.execute("SHOW synchronous_commit").fetchone() == ("on",)
                assert conn.execute("SHOW TimeZone").fetchone() == ("UTC",)
        finally:
            storage.close()


def test_concurrent_upgrades_of_a_fresh_database_all_succeed() -> None:
    with temporary_database() as url:
        barrier = threading.Barrier(6)

        def start() -> None:
            storage = PostgresStorage(url, new_customer_id, min_size=1, max_size=1)
            try:
                barrier.wait()
                storage.upgrade()
            finally:
                storage.close()

        with ThreadPoolExecutor(max_workers=6) as pool:
            for future in [pool.submit(start) for _ in range(6)]:
                future.result()
        with psycopg.connect(url) as conn:
            assert conn.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://postgres:s3cret-pw@127.0.0.1:1/billing", "cannot connect to postgresql://postgres:***@"),
        ("postgresql://postgres@127.0.0.1:5432/billing_no_such_db_e6", "billing_no_such_db_e6"),
        ("postgresql://127.0.0.1:5432/test?sslmode=bogus", "sslmode"),
    ],
    ids=["refused-with-password", "no-such-database", "bad-option"],
)
def test_an_unusable_url_is_one_line_without_the_password(url: str, expected: str) -> None:
    with pytest.raises(StorageError) as raised:
        open_storage(url, new_customer_id)
    message = str(raised.value)
    assert expected in message
    assert "\n" not in message
    assert "s3cret-pw" not in message
