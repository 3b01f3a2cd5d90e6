"""500 creates over 50 concurrent connections: 500 distinct ids, 500 rows, no 5xx (RES-ID-2, ERR-2).

The server runs two worker processes on one SQLite file, so the writers contend for
SQLite's lock across processes (busy_timeout), not only inside one event loop.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from billing_kit.conformance.contract import load_contract
from tests.support.reference import ReferenceServer, start_reference_server

pytestmark = pytest.mark.slow

CREATES = 500
CONNECTIONS = 50
CONTRACT = load_contract()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ReferenceServer]:
    with start_reference_server(tmp_path_factory.mktemp("concurrency"), workers=2) as running:
        yield running


def _body(n: int) -> dict[str, Any]:
    return {"email": f"c{n}@example.com", "external_id": f"conc-{n}", "metadata": {"n": n}}


async def _create_all(server: ReferenceServer) -> list[tuple[int, httpx.Response]]:
    limits = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    headers = {"Authorization": f"Bearer {server.sandbox_key}"}
    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(CREATES):
        queue.put_nowait(n)
    results: list[tuple[int, httpx.Response]] = []

    async with httpx.AsyncClient(base_url=server.base_url, limits=limits, timeout=60, headers=headers) as client:

        async def worker() -> None:
            while not queue.empty():
                n = queue.get_nowait()
                results.append((n, await client.post("/customers", json=_body(n))))

        await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return results


def test_500_concurrent_creates_give_500_distinct_ids_and_rows(server: ReferenceServer) -> None:
    started = time.perf_counter()
    results = asyncio.run(_create_all(server))
    elapsed = time.perf_counter() - started

    statuses: dict[int, int] = {}
    for _, response in results:
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    assert statuses == {201: CREATES}, statuses
    ids = {response.json()["id"] for _, response in results}
    assert len(ids) == CREATES
    assert all(CONTRACT.is_valid_id(i) for i in ids)
    for n, response in results:
        created = response.json()
        assert (created["external_id"], created["metadata"]) == (f"conc-{n}", {"n": n})

    with sqlite3.connect(f"file:{server.db_path}?mode=ro", uri=True) as conn:
        rows = {
            row[0]: (row[1], json.loads(row[2]))
            for row in conn.execute("SELECT id, external_id, metadata FROM customers")
        }
    assert len(rows) == CREATES
    assert set(rows) == ids
    for n, response in results:
        assert rows[response.json()["id"]] == (f"conc-{n}", {"n": n})
    print(f"{CREATES} creates over {CONNECTIONS} connections, 2 workers: {elapsed:.2f}s ({CREATES / elapsed:.0f}/s)")
