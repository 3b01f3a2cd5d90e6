"""IDEM-1..4 at the reference level, where tests/test_server_idempotency.py leaves off.

That module covers replay, 409 on another body, 50 concurrent requests with one key,
sandbox/live scoping, failed validation not recorded and over-long keys. Here: the
24-hour retention (records aged in the database itself), scoping between two keys of
the same environment and org, requests refused before validation (401, 415, 413) not
recorded, and the claim being a unique constraint in the database, not a lock in memory.
"""

from __future__ import annotations

import secrets
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from billing_kit.conformance.contract import load_contract
from billing_kit.handlers.storage.base import IDEMPOTENCY_TTL
from tests.support.reference import ReferenceServer, create_key, start_reference_server

BODY = {"email": "keep@example.com", "name": "Kept", "metadata": {"plan": "pro"}}
LIMIT = load_contract().body_bytes_limit


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceServer]:
    with start_reference_server(tmp_path_factory.mktemp("idem-ref")) as running:
        yield running


def _post(server: ReferenceServer, key: str, body: Any = BODY, api_key: str | None = None, **kw: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api_key or server.sandbox_key}", "Idempotency-Key": key}
    headers.update(kw.pop("headers", {}))
    return httpx.post(f"{server.base_url}/customers", json=body, headers=headers, timeout=30, **kw)


def _age(db_path: Path, key: str, age: timedelta) -> None:
    """Move one idempotency record's creation back in time, as 24 hours of waiting would."""
    created = (datetime.now(UTC) - age).isoformat(timespec="microseconds")
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("UPDATE idempotency SET created_at = ? WHERE key = ?", (created, key)).rowcount == 1


def _records(db_path: Path, key: str) -> int:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        return int(conn.execute("SELECT count(*) FROM idempotency WHERE key = ?", (key,)).fetchone()[0])


def test_a_key_is_replayed_just_inside_its_retention(server: ReferenceServer) -> None:
    key = secrets.token_hex(16)
    first = _post(server, key)
    _age(server.db_path, key, IDEMPOTENCY_TTL - timedelta(minutes=5))
    again = _post(server, key)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]


def test_a_key_past_its_retention_makes_a_new_customer_and_a_new_claim(server: ReferenceServer) -> None:
    key = secrets.token_hex(16)
    first = _post(server, key)
    _age(server.db_path, key, IDEMPOTENCY_TTL + timedelta(minutes=5))
    fresh = _post(server, key, {**BODY, "name": "Another body is fine now"})
    assert fresh.status_code == 201
    assert fresh.json()["id"] != first.json()["id"]
    assert _records(server.db_path, key) == 1
    assert _post(server, key, {**BODY, "name": "Another body is fine now"}).json()["id"] == fresh.json()["id"]


def test_two_keys_of_one_org_and_environment_do_not_share_idempotency_keys(server: ReferenceServer) -> None:
    other = create_key("sandbox", server.data_dir)
    key = secrets.token_hex(16)
    mine, theirs = _post(server, key), _post(server, key, api_key=other)
    assert mine.status_code == theirs.status_code == 201
    assert mine.json()["org_id"] == theirs.json()["org_id"]
    assert mine.json()["id"] != theirs.json()["id"]


@pytest.mark.parametrize(
    ("status", "overrides"),
    [
        (401, {"api_key": "sk_test_" + "N0tAKey" * 5}),
        (415, {"headers": {"Content-Type": "text/plain"}}),
        (
            413,
            {
                "json": None,
                "content": b'{"email":"a@example.com","name":"' + b"a" * LIMIT + b'"}',
                "headers": {"Content-Type": "application/json"},
            },
        ),
    ],
    ids=["401", "415", "413"],
)
def test_a_request_refused_before_validation_is_not_recorded(
    server: ReferenceServer, status: int, overrides: dict[str, Any]
) -> None:
    key = secrets.token_hex(16)
    overrides = dict(overrides)
    api_key = overrides.pop("api_key", None)
    refused = _post(server, key, BODY if "json" not in overrides else overrides.pop("json"), api_key, **overrides)
    assert refused.status_code == status
    assert _records(server.db_path, key) == 0
    assert _post(server, key).status_code == 201


def test_the_claim_is_a_unique_constraint_in_the_database(server: ReferenceServer) -> None:
    key = secrets.token_hex(16)
    _post(server, key)
    with sqlite3.connect(server.db_path) as conn:
        row = conn.execute(
            "SELECT api_key_id, key, body_sha256, customer_id, created_at FROM idempotency WHERE key = ?", (key,)
        ).fetchone()
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO idempotency VALUES (?, ?, ?, ?, ?)", row)
