"""The reference server on PostgreSQL: the server's own contract tests, re-run, and the CLI.

The contract table (tests/test_server_contract.py) and the curl examples
(tests/test_server_curl.py) read the server only through the `reference_server`
fixture; here that fixture is a `billing-kit serve --db postgresql://…` on a database
of this module's own, and their tests are collected again, so every clause is checked
on both backends with the same code (their ids carry this module's name).
"""

from __future__ import annotations

import os
import secrets
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

import tests.test_server_contract as contract_tests
import tests.test_server_curl as curl_tests
from tests.support.openapi_check import assert_conforms
from tests.support.pg import admin_url, count, pg_url, temporary_database  # noqa: F401
from tests.support.procs import BILLING_KIT
from tests.support.reference import ReferenceServer, billing_kit, create_key, start_reference_server

pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("postgres_server")]

for _module in (contract_tests, curl_tests):
    globals().update({n: v for n, v in vars(_module).items() if n.startswith("test_") or n == "client"})


@pytest.fixture(scope="module")
def reference_server(
    tmp_path_factory: pytest.TempPathFactory,
    pg_url: str,  # noqa: F811
) -> Iterator[ReferenceServer]:
    with start_reference_server(tmp_path_factory.mktemp("pg-reference"), db_url=pg_url) as server:
        yield server


def test_the_customers_are_in_postgresql_not_in_a_sqlite_file(
    reference_server: ReferenceServer,
    pg_url: str,  # noqa: F811
) -> None:
    headers = {"Authorization": f"Bearer {reference_server.sandbox_key}"}
    body = {"email": "pg@example.com", "name": "Zoë 😀", "metadata": {"b": 1.0, "a": [None]}}
    response = httpx.post(f"{reference_server.base_url}/customers", json=body, headers=headers)
    created = assert_conforms(response)
    with psycopg.connect(pg_url) as conn:
        row = conn.execute("SELECT email, name, metadata::text FROM customers WHERE id = %s", (created["id"],))
        assert row.fetchone() == (body["email"], body["name"], '{"b":1.0,"a":[null]}')
    assert not reference_server.db_path.exists()


def test_db_upgrade_keys_and_revocation_through_the_cli(
    reference_server: ReferenceServer,
    pg_url: str,  # noqa: F811
) -> None:
    upgrade = billing_kit(["db", "upgrade", "--db", pg_url])
    assert upgrade.returncode == 0, upgrade.stderr
    assert "schema up to date: postgresql://" in upgrade.stdout
    secret = create_key("sandbox", reference_server.data_dir, pg_url)
    listed = billing_kit(["keys", "list", "--db", pg_url])
    assert f"sk_test_…{secret[-4:]}" in listed.stdout
    assert secret not in listed.stdout
    url = f"{reference_server.base_url}/customers"
    headers = {"Authorization": f"Bearer {secret}"}
    assert httpx.post(url, json={"email": "k@example.com"}, headers=headers).status_code == 201
    key_id = next(line.split()[0] for line in listed.stdout.splitlines() if secret[-4:] in line)
    revoked = billing_kit(["keys", "revoke", key_id, "--db", pg_url])
    assert revoked.returncode == 0, revoked.stderr
    assert httpx.post(url, json={"email": "k@example.com"}, headers=headers).status_code == 401


def test_billing_db_url_in_the_environment_selects_postgresql(
    reference_server: ReferenceServer,
    pg_url: str,  # noqa: F811
) -> None:
    before = count(pg_url, "SELECT count(*) FROM api_keys")
    env = {**os.environ, "BILLING_DB_URL": pg_url}
    done = subprocess.run(
        [BILLING_KIT, "keys", "create", "--env", "live"], capture_output=True, text=True, env=env, check=False
    )
    assert done.returncode == 0, done.stderr
    assert count(pg_url, "SELECT count(*) FROM api_keys") == before + 1


@pytest.mark.parametrize(
    "url",
    ["postgresql://postgres:pw-e6@127.0.0.1:1/x", "postgresql://postgres@127.0.0.1:5432/billing_missing_e6"],
    ids=["refused", "no-such-database"],
)
def test_an_unusable_database_is_one_error_line_exit_2(url: str, tmp_path: Path) -> None:
    for args in (["db", "upgrade"], ["keys", "list"], ["serve", "--port", "0"]):
        done = billing_kit([*args, "--db", url, "--data-dir", str(tmp_path)])
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stderr.startswith("Error: cannot connect to postgresql://"), done.stderr
        assert done.stderr.count("\n") == 1
        assert "Traceback" not in done.stderr
        assert "pw-e6" not in done.stderr


def test_a_database_outage_is_503_with_retry_after_and_the_server_recovers(tmp_path: Path) -> None:
    with temporary_database() as url:
        name = url.rsplit("/", 1)[1]
        with start_reference_server(tmp_path, db_url=url) as server:
            headers = {"Authorization": f"Bearer {server.sandbox_key}"}

            def post() -> httpx.Response:
                return httpx.post(
                    f"{server.base_url}/customers", json={"email": "o@example.com"}, headers=headers, timeout=30
                )

            assert post().status_code == 201
            _allow_connections(name, False)
            try:
                for _ in range(2):  # the first finds its connection cut, the second finds none
                    response = post()
                    assert response.status_code == 503, response.text
                    assert response.headers["retry-after"].isdigit()
                    assert_conforms(response)
                assert httpx.get(f"{server.origin}/healthz", timeout=30).status_code == 503
            finally:
                _allow_connections(name, True)
            deadline = time.monotonic() + 30
            while (status := post().status_code) != 201:
                assert status == 503
                assert time.monotonic() < deadline, "the server did not recover"
                time.sleep(0.2)


def _allow_connections(database: str, allowed: bool) -> None:
    """Cut a database off (as a failover or restart would) or let it back, leaving the shared server up."""
    with psycopg.connect(admin_url(), autocommit=True) as admin:
        identifier = sql.Identifier(database)
        admin.execute(sql.SQL("ALTER DATABASE {} ALLOW_CONNECTIONS {}").format(identifier, sql.Literal(allowed)))
        if not allowed:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            )


def test_a_201_outlives_its_server_and_replays_from_a_new_one(
    tmp_path: Path,
    pg_url: str,  # noqa: F811
) -> None:
    key = secrets.token_hex(16)
    body = {"email": "kept@example.com", "name": "Zoë", "metadata": {"z": 1.0, "a": -0.0}}
    with start_reference_server(tmp_path / "first", db_url=pg_url) as server:
        headers = {"Authorization": f"Bearer {server.sandbox_key}", "Idempotency-Key": key}
        first = httpx.post(f"{server.base_url}/customers", json=body, headers=headers)
        assert first.status_code == 201
        keys = (server.sandbox_key, server.live_key)
    assert count(pg_url, "SELECT count(*) FROM customers WHERE id = %s", (first.json()["id"],)) == 1
    with start_reference_server(tmp_path / "second", db_url=pg_url, keys=keys) as server:
        again = httpx.post(f"{server.base_url}/customers", json=body, headers=headers)
        assert again.status_code == 201
        assert again.content == first.content  # byte for byte: `json` keeps key order and -0.0
        other = httpx.post(f"{server.base_url}/customers", json={**body, "name": "x"}, headers=headers)
        assert other.status_code == 409
