"""Two reference-server processes on two ports, one PostgreSQL database.

What a shared deployment promises: the processes agree on Idempotency-Keys (the claim
is a unique constraint, not memory), ids never collide, and a process killed with
SIGKILL under load loses no customer it acknowledged while the other keeps serving.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.support.openapi_check import assert_conforms
from tests.support.pg import count, pg_url  # noqa: F401
from tests.support.reference import ReferenceServer, create_key, start_reference_server

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("postgres_cluster")]
BODY: dict[str, object] = {"email": "shared@example.com", "name": "Shared", "metadata": {"plan": "pro"}}


@dataclass(frozen=True)
class Cluster:
    servers: tuple[ReferenceServer, ReferenceServer]
    db_url: str
    sandbox_key: str

    def url(self, index: int) -> str:
        return f"{self.servers[index % 2].base_url}/customers"


def _start_pair(tmp_path: Path, db_url: str, stack: ExitStack) -> Cluster:
    keys = (create_key("sandbox", tmp_path / "keys", db_url), create_key("live", tmp_path / "keys", db_url))
    servers = tuple(
        stack.enter_context(start_reference_server(tmp_path / f"server{i}", db_url=db_url, keys=keys)) for i in (0, 1)
    )
    assert servers[0].server.port != servers[1].server.port
    return Cluster((servers[0], servers[1]), db_url, keys[0])


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory,
    pg_url: str,  # noqa: F811
) -> Iterator[Cluster]:
    with ExitStack() as stack:
        yield _start_pair(tmp_path_factory.mktemp("pg-cluster"), pg_url, stack)


async def _post_all(cluster: Cluster, bodies: list[dict[str, object]], headers: dict[str, str]) -> list[httpx.Response]:
    """POST every body, 64 at a time, each on a fresh connection.

    No keep-alive: a server may close an idle kept-alive connection just as the client
    reuses it (an httpx.ReadError that says nothing about the server, and a POST cannot
    be blindly resent). Every request is awaited before the client closes, so a failure
    leaves no socket open for a later test's `filterwarnings = error` to trip on.
    """
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        semaphore = asyncio.Semaphore(64)

        async def one(index: int, body: dict[str, object]) -> httpx.Response:
            async with semaphore:
                return await client.post(cluster.url(index), json=body, headers=headers)

        outcomes = await asyncio.gather(*(one(i, body) for i, body in enumerate(bodies)), return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return [outcome for outcome in outcomes if isinstance(outcome, httpx.Response)]


def test_fifty_concurrent_creates_with_one_key_over_both_make_one_customer(cluster: Cluster) -> None:
    key = secrets.token_hex(16)
    body: dict[str, object] = {**BODY, "external_id": key}
    headers = {"Authorization": f"Bearer {cluster.sandbox_key}", "Idempotency-Key": key}
    responses = asyncio.run(_post_all(cluster, [body] * 50, headers))
    for response in responses:
        assert_conforms(response)
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    answered_by = {r.request.url.port for r in responses}
    assert answered_by == {s.server.port for s in cluster.servers}
    assert count(cluster.db_url, "SELECT count(*) FROM customers WHERE external_id = %s", (key,)) == 1
    assert count(cluster.db_url, "SELECT count(*) FROM idempotency WHERE key = %s", (key,)) == 1


@pytest.mark.slow
def test_a_thousand_creates_over_both_give_a_thousand_distinct_ids(cluster: Cluster) -> None:
    tag = secrets.token_hex(8)
    headers = {"Authorization": f"Bearer {cluster.sandbox_key}"}
    bodies: list[dict[str, object]] = [{**BODY, "external_id": f"{tag}-{i}"} for i in range(1000)]
    responses = asyncio.run(_post_all(cluster, bodies, headers))
    assert [r.status_code for r in responses] == [201] * 1000
    ids = {r.json()["id"] for r in responses}
    assert len(ids) == 1000
    with psycopg.connect(cluster.db_url) as conn:
        stored = {row[0] for row in conn.execute("SELECT id FROM customers WHERE external_id LIKE %s", (f"{tag}-%",))}
    assert stored == ids


@dataclass(frozen=True)
class Outcome:
    index: int
    at: float
    status: int | None  # None: no answer (connection refused or cut)
    customer_id: str | None


async def _load_and_kill(cluster: Cluster, total: int, kill_after: int) -> tuple[list[Outcome], float]:
    """Send `total` creates alternating over both servers; SIGKILL server 0 after `kill_after` 201s."""
    headers = {"Authorization": f"Bearer {cluster.sandbox_key}"}
    outcomes: list[Outcome] = []
    killed_at = 0.0
    acknowledged = asyncio.Event()
    queue = iter(range(total))

    # Fresh connections (see _post_all): a stale keep-alive ReadError must not count as the survivor failing.
    limits = httpx.Limits(max_connections=16, max_keepalive_connections=0)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def worker() -> None:
            for index in queue:
                try:
                    response = await client.post(
                        cluster.url(index), json={**BODY, "external_id": str(index)}, headers=headers
                    )
                except httpx.TransportError:
                    outcomes.append(Outcome(index, time.monotonic(), None, None))
                    continue
                created = response.json()["id"] if response.status_code == 201 else None
                outcomes.append(Outcome(index, time.monotonic(), response.status_code, created))
                if sum(o.status == 201 for o in outcomes) >= kill_after:
                    acknowledged.set()

        async def killer() -> None:
            nonlocal killed_at
            await acknowledged.wait()
            killed_at = time.monotonic()
            await asyncio.to_thread(cluster.servers[0].server.kill9)

        await asyncio.gather(killer(), *(worker() for _ in range(16)))
    return outcomes, killed_at


@pytest.mark.slow
def test_kill_9_of_one_under_load_loses_no_acknowledged_customer_and_the_other_serves(
    tmp_path: Path,
    pg_url: str,  # noqa: F811
) -> None:
    with ExitStack() as stack:
        pair = _start_pair(tmp_path, pg_url, stack)
        outcomes, killed_at = asyncio.run(_load_and_kill(pair, total=800, kill_after=150))
        survivor = pair.servers[1]
        after = httpx.post(
            f"{survivor.base_url}/customers", json=BODY, headers={"Authorization": f"Bearer {pair.sandbox_key}"}
        )
        assert after.status_code == 201
        assert pair.servers[0].server.proc.poll() is not None  # really dead

    acknowledged = {o.customer_id for o in outcomes if o.status == 201}
    assert len(acknowledged) >= 150
    assert {o.status for o in outcomes} <= {201, None}, "only 201s or no answer: never a 5xx"
    with psycopg.connect(pg_url) as conn:
        stored = {row[0] for row in conn.execute("SELECT id FROM customers WHERE id = ANY(%s)", (list(acknowledged),))}
    assert acknowledged - stored == set(), "an acknowledged customer is missing"
    served_after = [o for o in outcomes if o.at > killed_at and o.index % 2 == 1]
    assert len(served_after) >= 50, "too little load reached the survivor after the kill"
    assert all(o.status == 201 for o in served_after), "the survivor stopped serving"
    assert any(o.status is None for o in outcomes if o.index % 2 == 0), "the kill did not land under load"
