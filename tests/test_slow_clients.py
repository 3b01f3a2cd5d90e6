"""Slow clients are cut off within the documented deadlines (x-limits), not held for ever.

All scenarios start together in one module fixture (they mostly sleep), so the module
costs about one body deadline of wall time. Each test then checks one scenario:

- reference server: headers dribbled a byte at a time, an idle connection, a body
  dribbled a byte at a time, a body still dribbling after an early 413, and an idle
  connection after a fully sent 413 body;
- stock uvicorn serving the same app (no deadline protocol): the same dribbles are
  never cut off, which is why the reference runs its own protocol class.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from billing_kit.conformance.contract import load_contract
from tests.hostile.slow import Dribble, crowd, dribble
from tests.support.procs import VENV_BIN, ServerProcess, free_port, run_server
from tests.support.reference import ReferenceServer

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("slow_clients")]

LIMITS = load_contract().limits
HEADER_TIMEOUT = float(LIMITS["header_timeout_seconds"])
BODY_TIMEOUT = float(LIMITS["body_timeout_seconds"])
KEEP_ALIVE = float(uvicorn.Config(app="unused:app").timeout_keep_alive)  # uvicorn's default, which serve keeps
# Tolerance around a deadline. Never early (that does not depend on load); late by up to LATE,
# because on a busy machine the server's timers and this client's threads run late. What matters
# is cut off near the deadline, not held for ever (stock uvicorn below is never cut off).
EARLY, LATE = 0.5, 5.0
INTERVAL = 0.5
CROWD = 200  # half-open connections held at once
BODY = json.dumps({"email": "slow@example.com", "name": "x" * 200}).encode()
BIG = 2 * load_contract().body_bytes_limit


def _head(key: str, length: int) -> bytes:
    return (
        b"POST /v1/customers HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer %s\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (key.encode(), length)
    )


@pytest.fixture(scope="module")
def stock_uvicorn(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The same app under plain `uvicorn` (httptools, default settings)."""
    data = Path(tmp_path_factory.mktemp("stock"))
    port = free_port()
    argv = [
        str(VENV_BIN / "uvicorn"),
        "billing_kit.handlers.app:create_app",
        "--factory",
        "--port",
        str(port),
        "--http",
        "httptools",
    ]
    env = {"BILLING_DB_URL": f"sqlite:///{data / 'billing.sqlite3'}", "BILLING_DATA_DIR": str(data)}
    with run_server(argv, port, ready_path="/healthz", env=env) as server:
        yield server


@pytest.fixture(scope="module")
def scenarios(reference_server: ReferenceServer, stock_uvicorn: ServerProcess) -> Iterator[dict[str, Future[Any]]]:
    port, stock = reference_server.server.port, stock_uvicorn.port
    head = _head(reference_server.sandbox_key, len(BODY))
    big_head = _head(reference_server.sandbox_key, BIG)
    header_wait, body_wait = HEADER_TIMEOUT + LATE + 2, BODY_TIMEOUT + LATE + 2  # past the latest accepted cut
    plan = {
        "headers": lambda: dribble(port, head + BODY, INTERVAL, header_wait),
        "idle": lambda: dribble(port, b"", INTERVAL, header_wait),
        "body": lambda: dribble(port, BODY, INTERVAL, body_wait, prefix=head),
        "body-after-413": lambda: dribble(port, b"a" * 200, INTERVAL, body_wait, prefix=big_head),
        "idle-after-413": lambda: dribble(port, b"", INTERVAL, header_wait, prefix=big_head + b"a" * BIG),
        "stock-headers": lambda: dribble(stock, head + BODY, 1.0, header_wait),
        "stock-idle": lambda: dribble(stock, b"", 1.0, header_wait),
        "crowd": lambda: crowd(port, CROWD, b"POST /v1/customers HTTP/1.1\r\nHost: x\r\n", header_wait),
    }
    with ThreadPoolExecutor(max_workers=len(plan)) as pool:
        yield {name: pool.submit(run) for name, run in plan.items()}


def _within(result: Dribble, deadline: float) -> float:
    assert result.cut_after is not None, f"not cut off (sent {result.sent} bytes)"
    assert deadline - EARLY <= result.cut_after <= deadline + LATE, result.cut_after
    print(f"cut off after {result.cut_after:.2f}s (deadline {deadline:g}s, {result.sent} bytes dribbled)")
    return result.cut_after


def test_the_server_answers_others_while_slow_clients_dribble(
    scenarios: dict[str, Future[Any]], reference_server: ReferenceServer
) -> None:
    time.sleep(2)  # the dribblers and the crowd are connected
    assert not any(f.done() for f in scenarios.values())
    response = httpx.post(
        f"{reference_server.base_url}/customers",
        json={"email": f"fast-{secrets.token_hex(3)}@example.com"},
        headers={"Authorization": f"Bearer {reference_server.sandbox_key}"},
        timeout=30,
    )
    assert response.status_code == 201
    # Answered while every slow client was still held: no time limit, which would measure the machine's load.
    assert not any(f.done() for f in scenarios.values())


def test_headers_sent_a_byte_at_a_time_are_cut_off_at_the_header_deadline(
    scenarios: dict[str, Future[Any]],
) -> None:
    result = scenarios["headers"].result()
    _within(result, HEADER_TIMEOUT)
    assert result.response is not None and result.response.status == 408


def test_an_idle_connection_is_closed_at_the_header_deadline(scenarios: dict[str, Future[Any]]) -> None:
    _within(scenarios["idle"].result(), HEADER_TIMEOUT)


def test_a_body_sent_a_byte_at_a_time_is_cut_off_at_the_body_deadline(
    scenarios: dict[str, Future[Any]],
) -> None:
    result = scenarios["body"].result()
    _within(result, BODY_TIMEOUT)
    response = result.response
    assert response is not None and response.status == 400
    assert response.content_type == "application/problem+json"
    assert response.headers.get("connection") == "close"


def test_a_body_still_dribbling_after_a_413_is_cut_off_at_the_body_deadline(
    scenarios: dict[str, Future[Any]],
) -> None:
    result = scenarios["body-after-413"].result()
    _within(result, BODY_TIMEOUT)
    assert result.response is not None and result.response.status == 413


def test_an_idle_connection_after_a_413_is_closed_at_the_keep_alive_timeout(
    scenarios: dict[str, Future[Any]],
) -> None:
    result = scenarios["idle-after-413"].result()
    _within(result, KEEP_ALIVE)
    assert result.response is not None and result.response.status == 413


def test_stock_uvicorn_never_cuts_off_a_dribbling_or_idle_client(scenarios: dict[str, Future[Any]]) -> None:
    """The measurement behind handlers/server.py: without it, both hold a connection past every deadline."""
    dribbling = scenarios["stock-headers"].result()
    idle = scenarios["stock-idle"].result()
    assert dribbling.cut_after is None and dribbling.sent >= HEADER_TIMEOUT + 3
    assert idle.cut_after is None
    held = HEADER_TIMEOUT + LATE + 2
    print(f"stock uvicorn: still connected after {held:g}s ({dribbling.sent} header bytes dribbled)")


def test_a_crowd_of_half_open_connections_is_closed_at_the_header_deadline(
    scenarios: dict[str, Future[Any]],
) -> None:
    cut: list[float | None] = scenarios["crowd"].result()
    assert all(c is not None for c in cut), f"{sum(c is None for c in cut)} of {CROWD} never closed"
    latest = max(c for c in cut if c is not None)
    assert latest <= HEADER_TIMEOUT + LATE
    print(f"{CROWD} half-open connections: all closed by {latest:.2f}s")
