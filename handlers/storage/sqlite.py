"""SQLite storage: the default backend, one file, safe across worker processes.

WAL lets readers (key lookups) run beside the single writer; `synchronous=FULL`
fsyncs the WAL on every commit, so a 201 (sent after the commit) survives a power
loss, not only a process crash. Each thread gets its own connection. A create is
one `BEGIN IMMEDIATE` transaction: it takes the write lock first, so a concurrent
request with the same Idempotency-Key waits, then sees the committed claim and
replays it; the PRIMARY KEY on (api_key_id, key) is the claim itself.

Every write transaction also holds an exclusive `flock` on `<database>-writer.lock`.
SQLite's own lock has no queue: a writer that finds it taken sleeps 1, 2, 5, 10 … 100 ms
and tries again, while the holder's next write usually takes the lock back first. With
`serve --workers 2` one worker's requests starved behind the other's (p99 ~1.5 s under
wrk); the kernel hands a released `flock` straight to a waiter, so workers take turns
(p99 ~0.14 s, bench/PROFILE.md). The lock is held for one transaction only (whose
`BEGIN IMMEDIATE` still gives up after the busy timeout against other SQLite clients),
and a process that dies releases it.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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
from billing_kit.handlers.storage.schema import SCHEMA_VERSION, SQLITE_DDL

BUSY_TIMEOUT_MS = 10_000
_CUSTOMER_COLUMNS = "id, org_id, environment, email, name, external_id, metadata, created_at, updated_at"
_KEY_COLUMNS = "id, key_hash, display, org_id, environment, created_at, revoked_at"


def _now() -> datetime:
    return datetime.now(UTC)


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def _dt(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _customer(row: tuple[Any, ...]) -> Customer:
    return Customer(
        id=row[0],
        org_id=row[1],
        environment=row[2],
        email=row[3],
        name=row[4],
        external_id=row[5],
        metadata=json.loads(row[6]),
        created_at=datetime.fromisoformat(row[7]),
        updated_at=datetime.fromisoformat(row[8]),
    )


def _key(row: tuple[Any, ...]) -> ApiKey:
    return ApiKey(
        id=row[0],
        key_hash=row[1],
        display=row[2],
        org_id=row[3],
        environment=row[4],
        created_at=datetime.fromisoformat(row[5]),
        revoked_at=_dt(row[6]),
    )


class SQLiteStorage:
    """The Storage protocol on one SQLite file."""

    # Writes serialise on SQLite's lock anyway; one writer thread per process avoids
    # threads of the same process polling that lock against each other.
    write_threads = 1
    # WAL readers never wait for the writer: key lookups can run on the event loop.
    inline_reads = True

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock_fds: list[int] = []
        self._all_lock = threading.Lock()

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(
                    self.path, isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
                )
                conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                conn.execute("PRAGMA journal_mode = WAL")
                conn.execute("PRAGMA synchronous = FULL")
                conn.execute("PRAGMA foreign_keys = ON")
            except (sqlite3.Error, OSError) as exc:
                raise StorageError(f"cannot open {self.path}: {exc}") from exc
            self._local.conn = conn
            with self._all_lock:
                self._all.append(conn)
        return conn

    @contextmanager
    def _writing(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection, with the writers' turn taken (see the module docstring)."""
        conn = self._conn()
        fd: int | None = getattr(self._local, "lock_fd", None)
        if fd is None:
            try:
                fd = os.open(f"{self.path}-writer.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            except OSError as exc:
                raise StorageError(f"cannot open the writer lock of {self.path}: {exc}") from exc
            self._local.lock_fd = fd
            with self._all_lock:
                self._lock_fds.append(fd)
        fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield conn
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def upgrade(self) -> None:
        try:
            with self._writing() as conn:
                conn.executescript(SQLITE_DDL)
                row = conn.execute("SELECT version FROM schema_version").fetchone()
                if row is None:
                    conn.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
                elif row[0] > SCHEMA_VERSION:
                    raise StorageError(f"{self.path} has schema version {row[0]}, newer than this billing-kit")
        except sqlite3.Error as exc:
            raise StorageError(f"cannot upgrade {self.path}: {exc}") from exc

    # -- customers --------------------------------------------------------
    def create_customer(self, new: NewCustomer, idempotency: IdempotencyRequest | None = None) -> CreateOutcome:
        try:
            with self._writing() as conn:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    outcome = self._create_in_tx(conn, new, idempotency)
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
        except (sqlite3.Error, UnicodeError) as exc:
            # UnicodeError: a lone surrogate, which no UTF-8 store can hold (the guard
            # rejects it with 400 first; storage called directly fails cleanly too).
            raise StorageError(f"create failed: {type(exc).__name__}") from exc
        return outcome

    def _create_in_tx(
        self, conn: sqlite3.Connection, new: NewCustomer, idempotency: IdempotencyRequest | None
    ) -> CreateOutcome:
        now = _now()
        if idempotency is not None:
            row = conn.execute(
                "SELECT body_sha256, customer_id, created_at FROM idempotency WHERE api_key_id = ? AND key = ?",
                (idempotency.api_key_id, idempotency.key),
            ).fetchone()
            if row is not None and datetime.fromisoformat(row[2]) > now - IDEMPOTENCY_TTL:
                if row[0] != idempotency.body_sha256:
                    return KeyReused()
                customer = self._get(conn, row[1])
                if customer is None:
                    raise StorageError(f"idempotency record points to a missing customer {row[1]}")
                return Replayed(customer)
            if row is not None:
                conn.execute(
                    "DELETE FROM idempotency WHERE api_key_id = ? AND key = ?",
                    (idempotency.api_key_id, idempotency.key),
                )
        customer = new.stored_as(new_customer_id(), now)
        conn.execute(
            f"INSERT INTO customers ({_CUSTOMER_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                customer.id,
                customer.org_id,
                customer.environment,
                customer.email,
                customer.name,
                customer.external_id,
                json.dumps(customer.metadata, ensure_ascii=False, separators=(",", ":")),
                _ts(now),
                _ts(now),
            ),
        )
        if idempotency is not None:
            conn.execute(
                "INSERT INTO idempotency (api_key_id, key, body_sha256, customer_id, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (idempotency.api_key_id, idempotency.key, idempotency.body_sha256, customer.id, _ts(now)),
            )
        return Created(customer)

    @staticmethod
    def _get(conn: sqlite3.Connection, customer_id: str) -> Customer | None:
        row = conn.execute(f"SELECT {_CUSTOMER_COLUMNS} FROM customers WHERE id = ?", (customer_id,)).fetchone()
        return None if row is None else _customer(row)

    def get_customer(self, customer_id: str) -> Customer | None:
        try:
            return self._get(self._conn(), customer_id)
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc

    def count_customers(self) -> int:
        try:
            return int(self._conn().execute("SELECT count(*) FROM customers").fetchone()[0])
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc

    # -- API keys ---------------------------------------------------------
    def add_key(self, key_hash: str, display: str, org_id: str, environment: str) -> ApiKey:
        import secrets

        key = ApiKey(
            id="key_" + secrets.token_hex(8),
            key_hash=key_hash,
            display=display,
            org_id=org_id,
            environment=environment,
            created_at=_now(),
            revoked_at=None,
        )
        try:
            with self._writing() as conn:
                conn.execute(
                    f"INSERT INTO api_keys ({_KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, NULL)",
                    (key.id, key.key_hash, key.display, key.org_id, key.environment, _ts(key.created_at)),
                )
        except sqlite3.Error as exc:
            raise StorageError(f"cannot add key: {exc}") from exc
        return key

    def find_key(self, key_hash: str) -> ApiKey | None:
        try:
            row = (
                self._conn().execute(f"SELECT {_KEY_COLUMNS} FROM api_keys WHERE key_hash = ?", (key_hash,)).fetchone()
            )
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc
        return None if row is None else _key(row)

    def list_keys(self) -> list[ApiKey]:
        try:
            rows = self._conn().execute(f"SELECT {_KEY_COLUMNS} FROM api_keys ORDER BY created_at, id").fetchall()
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc
        return [_key(row) for row in rows]

    def revoke_key(self, key_id_or_display: str) -> bool:
        try:
            with self._writing() as conn:
                cursor = conn.execute(
                    "UPDATE api_keys SET revoked_at = ? WHERE (id = ? OR display = ?) AND revoked_at IS NULL",
                    (_ts(_now()), key_id_or_display, key_id_or_display),
                )
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc
        return cursor.rowcount > 0

    def purge_idempotency(self, older_than: datetime) -> int:
        try:
            with self._writing() as conn:
                cursor = conn.execute("DELETE FROM idempotency WHERE created_at < ?", (_ts(older_than),))
        except sqlite3.Error as exc:
            raise StorageError(str(exc)) from exc
        return cursor.rowcount

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
            lock_fds, self._lock_fds = self._lock_fds, []
        for conn in conns:
            conn.close()
        for fd in lock_fds:
            os.close(fd)
        self._local = threading.local()
