"""IDEM-1..4 on the reference: replays, conflicts, concurrency, scoping, validation failures."""

from __future__ import annotations

import asyncio
import secrets
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from billing_kit.conformance.contract import load_contract
from tests.support.openapi_check import assert_conforms
from tests.support.reference import ReferenceServer, start_reference_server

IDEM_MAX = load_contract().idempotency_key_max_length
REPLAYED_HEADER = "Idempotent-Replayed"  # the reference marks replays (not a contract value)
BODY = {"email": "retry@example.com", "name": "Retry", "metadata": {"plan": "pro", "n": 1}}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceServer]:
    """Two worker processes on one SQLite file, so concurrency crosses processes."""
    with start_reference_server(tmp_path_factory.mktemp("idem"), workers=2) as running:
        yield running


def _count(db_path: Path, where: str = "1=1", args: tuple[Any, ...] = ()) -> int:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        return int(conn.execute(f"SELECT count(*) FROM customers WHERE {where}", args).fetchone()[0])


def _post(server: ReferenceServer, body: Any, key: str | None, api_key: str | None = None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {api_key or server.sandbox_key}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    response = httpx.post(f"{server.base_url}/customers", json=body, headers=headers, timeout=30)
    assert_conforms(response)
    return response


def test_same_key_same_body_replays_the_first_201(server: ReferenceServer) -> None:
    key = secrets.token_hex(16)
    first = _post(server, BODY, key)
    again = _post(server, BODY, key)
    reordered = _post(server, dict(reversed(list(BODY.items()))), key)
    assert first.status_code == again.status_code == reordered.status_code == 201
    assert first.json() == again.json() == reordered.json()
    assert REPLAYED_HEADER.lower() not in first.headers
    assert again.headers[REPLAYED_HEADER] == "true"
    assert _count(server.db_path, "id = ?", (first.json()["id"],)) == 1


def test_same_key_different_body_is_a_409_and_creates_nothing(server: ReferenceServer) -> None:
    key = secrets.token_hex(16)
    first = _post(server, BODY, key)
    before = _count(server.db_path)
    other = _post(server, {**BODY, "name": "Someone else"}, key)
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"
    assert "id" not in other.json()
    assert _count(server.db_path) == before
    assert _post(server, BODY, key).json()["id"] == first.json()["id"]


def test_fifty_concurrent_requests_with_one_key_make_one_customer(server: ReferenceServer) -> None:
    key = secrets.token_hex(16)
    body = {**BODY, "external_id": key}

    async def fire() -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=50)
        headers = {"Authorization": f"Bearer {server.sandbox_key}", "Idempotency-Key": key}
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:
            calls = [client.post(f"{server.base_url}/customers", json=body, headers=headers) for _ in range(50)]
            return list(await asyncio.gather(*calls))

    responses = asyncio.run(fire())
    for response in responses:
        assert_conforms(response)
    statuses = {r.status_code for r in responses}
    assert statuses <= {201, 409}, statuses
    ids = {r.json()["id"] for r in responses if r.status_code == 201}
    assert len(ids) == 1
    assert _count(server.db_path, "external_id = ?", (key,)) == 1


def test_keys_are_scoped_to_the_api_key(server: ReferenceServer) -> None:
    key = secrets.token_hex(16)
    sandbox = _post(server, BODY, key, server.sandbox_key)
    live = _post(server, BODY, key, server.live_key)
    assert sandbox.status_code == live.status_code == 201
    assert sandbox.json()["id"] != live.json()["id"]
    assert (sandbox.json()["environment"], live.json()["environment"]) == ("sandbox", "live")


def test_a_failed_validation_is_not_recorded(server: ReferenceServer) -> None:
    key = secrets.token_hex(16)
    assert _post(server, {**BODY, "email": "not-an-address"}, key).status_code == 400
    created = _post(server, BODY, key)
    assert created.status_code == 201
    assert _post(server, BODY, key).json()["id"] == created.json()["id"]


def test_an_over_long_key_is_rejected_and_creates_nothing(server: ReferenceServer) -> None:
    before = _count(server.db_path)
    response = _post(server, BODY, "k" * (IDEM_MAX + 1))
    assert response.status_code == 400
    assert _count(server.db_path) == before
