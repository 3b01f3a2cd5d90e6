"""Crash durability: kill -9 the server mid-load; every customer whose 201 arrived is in the database.

Three rounds on one data directory: clients create customers (half with an
Idempotency-Key) over 8 connections, the server's process group gets SIGKILL, the
server restarts, and every acknowledged customer must be in the SQLite file with the
same fields, and every acknowledged Idempotency-Key must replay the same customer.
SQLite runs in WAL with synchronous=FULL: a kill -9 alone would not lose a committed
transaction even with NORMAL (the OS still holds the WAL pages); FULL also fsyncs the
WAL at every commit, so a 201 survives an OS crash or power loss, which NORMAL does not
promise (its last commits may roll back).
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from billing_kit.handlers.spec import new_customer_id
from billing_kit.handlers.storage.sqlite import SQLiteStorage
from tests.support.reference import start_reference_server

pytestmark = pytest.mark.slow

ROUNDS = 3
CLIENTS = 8
LOAD_SECONDS = 0.5  # of load after the warm-up, then SIGKILL
WARM_UP_CREATES = 20
WARM_UP_LIMIT = 20.0
FIELDS = ("email", "name", "external_id", "metadata", "environment", "org_id", "created_at", "updated_at")


@dataclass(frozen=True)
class Acknowledged:
    body: dict[str, Any]
    idempotency_key: str | None
    customer: dict[str, Any]


def _load(base_url: str, api_key: str, stop: threading.Event, acked: list[Acknowledged], lock: threading.Lock) -> None:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        while not stop.is_set():
            tag = secrets.token_hex(6)
            body = {
                "email": f"d-{tag}@example.com",
                "name": f"Zoë {tag} \U0001f600",
                "external_id": tag,
                "metadata": {"tag": tag, "n": [1, 2.5, None, True], "o": {"k": "v"}},
            }
            headers = {"Authorization": f"Bearer {api_key}"}
            key = secrets.token_hex(16) if int(tag, 16) % 2 else None
            if key:
                headers["Idempotency-Key"] = key
            try:
                response = client.post("/customers", json=body, headers=headers)
            except httpx.TransportError:
                return  # the server is gone
            if response.status_code == 201:
                with lock:
                    acked.append(Acknowledged(body, key, response.json()))


def _rows(db_path: Path) -> dict[str, dict[str, Any]]:
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        conn.row_factory = sqlite3.Row
        rows = {row["id"]: dict(row) for row in conn.execute("SELECT * FROM customers")}
    for row in rows.values():
        row["metadata"] = json.loads(row["metadata"])
    return rows


def _assert_stored(ack: Acknowledged, row: dict[str, Any] | None) -> None:
    assert row is not None, f"acknowledged customer {ack.customer['id']} lost"
    for name in ("email", "name", "external_id", "metadata"):
        assert row[name] == ack.body[name] == ack.customer[name]
    assert (row["environment"], row["org_id"]) == (ack.customer["environment"], ack.customer["org_id"])


def test_every_acknowledged_customer_survives_kill_9(tmp_path: Path) -> None:
    acked: list[Acknowledged] = []
    lock = threading.Lock()
    keys: tuple[str, str] | None = None
    db_path = tmp_path / "data" / "billing.sqlite3"
    for round_number in range(ROUNDS):
        with start_reference_server(tmp_path, keys=keys) as server:
            keys = (server.sandbox_key, server.live_key)
            before = len(acked)
            stop = threading.Event()
            threads = [
                threading.Thread(target=_load, args=(server.base_url, server.sandbox_key, stop, acked, lock))
                for _ in range(CLIENTS)
            ]
            for thread in threads:
                thread.start()
            deadline = time.monotonic() + WARM_UP_LIMIT
            while len(acked) - before < WARM_UP_CREATES and time.monotonic() < deadline:
                time.sleep(0.01)
            time.sleep(LOAD_SECONDS)
            server.server.kill9()  # SIGKILL to the process group, mid-request
            stop.set()
            for thread in threads:
                thread.join(15)
            assert len(acked) - before > WARM_UP_CREATES, "the load did not get going before the kill"
        rows = _rows(db_path)
        for ack in acked:
            _assert_stored(ack, rows.get(ack.customer["id"]))
        print(f"round {round_number + 1}: {len(acked) - before} acknowledged, {len(rows)} rows, none lost")

    with start_reference_server(tmp_path, keys=keys) as server, httpx.Client(base_url=server.base_url) as client:
        for ack in (a for a in acked if a.idempotency_key):
            headers = {"Authorization": f"Bearer {server.sandbox_key}", "Idempotency-Key": str(ack.idempotency_key)}
            replay = client.post("/customers", json=ack.body, headers=headers)
            assert replay.status_code == 201
            assert {f: replay.json()[f] for f in ("id", *FIELDS)} == {f: ack.customer[f] for f in ("id", *FIELDS)}


def test_sqlite_runs_in_wal_with_synchronous_full(tmp_path: Path) -> None:
    storage = SQLiteStorage(tmp_path / "billing.sqlite3", new_customer_id)
    storage.upgrade()
    conn = storage.sqlite.connection()  # the connection the server's storage uses
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    storage.close()
