"""SQLite storage: the default backend, one file, safe across worker processes.

WAL lets readers (key lookups) run beside the single writer; `synchronous=FULL`
fsyncs the WAL on every commit, so a 201 (sent after the commit) survives a power
loss, not only a process crash. Each thread gets its own connection. A transaction is
`BEGIN IMMEDIATE`: it takes the write lock first, so a concurrent request with the same
Idempotency-Key waits, then sees the committed claim and replays it (the algorithm is
handlers/storage/sql.py; this module is SQLite's dialect of it).

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
import re
import sqlite3
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from billing_kit.handlers.storage.base import StorageError
from billing_kit.handlers.storage.schema import SQLITE_TYPES
from billing_kit.handlers.storage.sql import IdFactory, Row, SQLStorage

BUSY_TIMEOUT_MS = 10_000
# UnicodeError: a lone surrogate, which no UTF-8 store can hold (the guard rejects it
# with 400 first; storage called directly fails cleanly too).
FAILURES = (sqlite3.Error, UnicodeError)


def _failed(what: str, exc: BaseException) -> StorageError:
    text = re.sub(r"\s+", " ", str(exc)).strip()
    return StorageError(f"{what} failed: {type(exc).__name__}" + (f": {text}" if text else ""))


class _Immediate:
    """`BEGIN IMMEDIATE` … `COMMIT`, or `ROLLBACK` on any exception (a class: cheaper than a generator)."""

    __slots__ = ("conn",)

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is None:
            self.conn.execute("COMMIT")
        elif self.conn.in_transaction:  # SQLite may have rolled back already (e.g. disk full)
            self.conn.execute("ROLLBACK")


class SQLiteDialect:
    """One SQLite file: a connection per thread, writers taking turns on a `flock`."""

    param = "?"
    json_param = "?"
    types: Mapping[str, str] = SQLITE_TYPES

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.name = str(self.path)
        self._local = threading.local()
        self._all: list[sqlite3.Connection] = []
        self._lock_fds: list[int] = []
        self._all_lock = threading.Lock()

    def connection(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
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
    def writing(self, what: str) -> Iterator[sqlite3.Connection]:
        """This thread's connection, with the writers' turn taken (see the module docstring)."""
        conn = self.connection()
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
        except FAILURES as exc:
            raise _failed(what, exc) from exc
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)

    def fetch_one(self, what: str, query: str, params: tuple[Any, ...]) -> Row | None:
        # WAL readers never wait for the writer: no write turn, no context manager per read.
        try:
            return self.connection().execute(query, params).fetchone()
        except FAILURES as exc:
            raise _failed(what, exc) from exc

    def fetch_all(self, what: str, query: str, params: tuple[Any, ...]) -> list[Row]:
        try:
            return self.connection().execute(query, params).fetchall()
        except FAILURES as exc:
            raise _failed(what, exc) from exc

    @staticmethod
    def transaction(conn: sqlite3.Connection) -> _Immediate:
        return _Immediate(conn)

    def lock_schema(self, conn: sqlite3.Connection) -> None:
        """Nothing more: the write turn and BEGIN IMMEDIATE already exclude other upgrades."""

    @staticmethod
    def stored_time(value: datetime) -> str:
        return value.astimezone(UTC).isoformat(timespec="microseconds")

    @staticmethod
    def read_time(value: str) -> datetime:
        return datetime.fromisoformat(value)

    @staticmethod
    def read_json(value: str) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(value)
        return parsed

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
            lock_fds, self._lock_fds = self._lock_fds, []
        for conn in conns:
            conn.close()
        for fd in lock_fds:
            os.close(fd)
        self._local = threading.local()


class SQLiteStorage(SQLStorage):
    """The Storage protocol on one SQLite file."""

    # Writes serialise on SQLite's lock anyway; one writer thread per process avoids
    # threads of the same process polling that lock against each other.
    write_threads = 1
    # WAL readers never wait for the writer: key lookups can run on the event loop.
    inline_reads = True

    def __init__(self, path: str | Path, new_customer_id: IdFactory) -> None:
        self.path = Path(path)
        self.sqlite = SQLiteDialect(self.path)
        super().__init__(self.sqlite, new_customer_id)
