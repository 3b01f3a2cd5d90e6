"""What a 201 promises: the customer is in the SQLite file, and idempotency survives restarts."""

from __future__ import annotations

import json
import secrets
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx

from tests.support.openapi_check import assert_conforms
from tests.support.procs import BILLING_KIT, ServerProcess, free_port, run_server
from tests.support.reference import start_reference_server

BODY = {
    "email": "Kept@Example.com",
    "name": "Zoë \U0001f600",
    "external_id": "ext-1",
    "metadata": {"a": [1, 2.5, None]},
}


def _row(db_path: Path, customer_id: str) -> dict[str, object] | None:
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM customers WHERE id = ?", (customer_id,)).fetchone()
    return None if row is None else dict(row)


def test_a_201_customer_is_in_the_file_after_the_server_stops_and_replays_after_restart(tmp_path: Path) -> None:
    idempotency_key = secrets.token_hex(16)
    with start_reference_server(tmp_path) as server:
        headers = {"Authorization": f"Bearer {server.sandbox_key}", "Idempotency-Key": idempotency_key}
        created = assert_conforms(httpx.post(f"{server.base_url}/customers", json=BODY, headers=headers))
        keys = (server.sandbox_key, server.live_key)
        db_path = server.db_path
    # The server process is gone; the file alone holds the customer.
    row = _row(db_path, created["id"])
    assert row is not None
    assert (row["email"], row["name"], row["external_id"]) == (BODY["email"], BODY["name"], BODY["external_id"])
    assert json.loads(str(row["metadata"])) == BODY["metadata"]
    assert row["environment"] == "sandbox"

    with start_reference_server(tmp_path, keys=keys) as server:
        again = httpx.post(f"{server.base_url}/customers", json=BODY, headers=headers)
        assert again.status_code == 201
        assert assert_conforms(again) == created
        other = httpx.post(f"{server.base_url}/customers", json={**BODY, "name": "x"}, headers=headers)
        assert other.status_code == 409


def _access_log(server: ServerProcess, until_path: str) -> list[dict[str, Any]]:
    """The access-log lines so far, waiting for the line of `until_path` (written after the answer)."""
    deadline = time.monotonic() + 10
    while True:
        lines = [json.loads(line) for line in server.output().splitlines() if line.startswith('{"ts"')]
        if any(line["path"] == until_path for line in lines) or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def test_serve_creates_one_sandbox_key_on_first_start_and_logs_it_only_in_display_form(tmp_path: Path) -> None:
    port = free_port()
    argv = [BILLING_KIT, "serve", "--port", str(port), "--data-dir", str(tmp_path / "fresh")]
    with run_server(argv, port, ready_path="/healthz") as server:
        output = server.output()
        assert f"data dir: {tmp_path / 'fresh'}" in output
        secret = next(w for w in output.split() if w.startswith("sk_test_"))
        assert "sk_live_" not in output
        assert f"curl -X POST http://127.0.0.1:{port}/v1/customers" in output
        response = httpx.post(
            f"{server.origin}/v1/customers",
            json={"email": "a@example.com"},
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert response.status_code == 201
        access = _access_log(server, until_path="/v1/customers")
    created = [line for line in access if line["path"] == "/v1/customers"]
    assert [line["status"] for line in created] == [201]
    assert created[0]["key"] == f"sk_test_…{secret[-4:]}"
    assert created[0]["customer"] == response.json()["id"]  # the operation's note on the access log's channel
    assert all(secret not in json.dumps(line) for line in access)

    with run_server(argv, port, ready_path="/healthz") as server:
        assert "sk_test_" not in server.output()  # a key exists: none created, none printed
