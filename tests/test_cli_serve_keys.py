"""`billing-kit keys …`, `db upgrade` and `serve` options, through the real console script."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx

from billing_kit.conformance.contract import load_contract
from tests.support.procs import BILLING_KIT, ROOT, free_port, run_server
from tests.support.reference import ReferenceServer, billing_kit, create_key

CONTRACT = load_contract()


def test_help_lists_the_commands_and_loads_no_heavy_module() -> None:
    # Its speed is measured in bench/cli_timing.py (a wall-clock limit here fails on a busy machine);
    # what makes it fast is asserted here: the entry point imports none of the heavy libraries.
    done = billing_kit(["--help"])
    assert done.returncode == 0
    assert "serve" in done.stdout and "keys" in done.stdout
    heavy = ("hypothesis", "httpx", "schemathesis", "rich", "jsonschema", "connexion", "uvicorn", "starlette")
    loaded = subprocess.run(
        [sys.executable, "-c", f"import sys, billing_kit.cli; print(sorted(m for m in {heavy!r} if m in sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    assert loaded.stdout.strip() == "[]"


def test_keys_create_prints_the_key_alone_on_stdout_and_list_shows_only_display_forms(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    done = billing_kit(["keys", "create", "--env", "live", *data])
    assert done.returncode == 0, done.stderr
    secret = done.stdout.strip()
    assert done.stdout.count("\n") == 1
    assert CONTRACT.environment_of_key(secret) == "live"
    sandbox = create_key("sandbox", tmp_path)
    assert CONTRACT.environment_of_key(sandbox) == "sandbox"

    listed = billing_kit(["keys", "list", *data])
    assert listed.returncode == 0
    assert secret not in listed.stdout and sandbox not in listed.stdout
    assert f"{secret[:8]}…{secret[-4:]}" in listed.stdout
    orgs = {line.split()[3] for line in listed.stdout.splitlines()}
    assert len(orgs) == 1, "keys created without --org join the first key's org"

    with sqlite3.connect(tmp_path / "billing.sqlite3") as conn:
        stored = " ".join(str(v) for row in conn.execute("SELECT * FROM api_keys") for v in row)
    assert secret not in stored and sandbox not in stored


def test_keys_create_with_an_org(tmp_path: Path) -> None:
    create_key("sandbox", tmp_path, org="org_acme")
    listed = billing_kit(["keys", "list", "--data-dir", str(tmp_path)])
    assert "org_acme" in listed.stdout


def test_bad_input_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    data = ["--data-dir", str(tmp_path)]
    for args in (
        ["keys", "create", "--env", "prod", *data],
        ["keys", "revoke", "sk_test_…zzzz", *data],
        ["keys", "list", "--db", "mysql://nope"],
        ["serve", "--db", "oracle://x", "--port", "1"],
    ):
        done = billing_kit(args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1, done.stderr
        assert "Traceback" not in done.stderr


def test_db_upgrade_is_idempotent_and_honours_the_environment(tmp_path: Path) -> None:
    env = {**os.environ, "BILLING_DATA_DIR": str(tmp_path / "env-dir")}
    for _ in range(2):
        done = subprocess.run([BILLING_KIT, "db", "upgrade"], capture_output=True, text=True, env=env, check=False)
        assert done.returncode == 0, done.stderr
    assert (tmp_path / "env-dir" / "billing.sqlite3").is_file()

    url = f"sqlite:///{tmp_path / 'other.db'}"
    assert billing_kit(["db", "upgrade", "--db", url]).returncode == 0
    with sqlite3.connect(tmp_path / "other.db") as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"customers", "api_keys", "idempotency"} <= tables


def test_a_revoked_key_gets_401_at_once(reference_server: ReferenceServer, tmp_path: Path) -> None:
    secret = create_key("sandbox", reference_server.data_dir)
    url = f"{reference_server.base_url}/customers"
    headers = {"Authorization": f"Bearer {secret}"}
    assert httpx.post(url, json={"email": "a@example.com"}, headers=headers).status_code == 201

    done = billing_kit(["keys", "revoke", f"{secret[:8]}…{secret[-4:]}", *reference_server.cli_args()])
    assert done.returncode == 0, done.stderr

    revoked = httpx.post(url, json={"email": "a@example.com"}, headers=headers)
    unknown = httpx.post(url, json={"email": "a@example.com"}, headers={"Authorization": f"Bearer {secret}x"})
    assert revoked.status_code == unknown.status_code == 401
    assert revoked.json() == unknown.json(), "a 401 does not tell a revoked key from an unknown one"
    assert "revoked" in billing_kit(["keys", "list", *reference_server.cli_args()]).stdout


def test_serve_with_two_workers_and_a_db_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    secret = create_key("live", tmp_path / "unused", db_url=url)
    port = free_port()
    argv = [BILLING_KIT, "serve", "--port", str(port), "--workers", "2", "--db", url]
    with run_server(argv, port, ready_path="/healthz", cwd=tmp_path) as server:
        with httpx.Client(base_url=f"{server.origin}/v1") as client:
            statuses = [
                client.post(
                    "/customers", json={"email": "a@example.com"}, headers={"Authorization": f"Bearer {secret}"}
                )
                for _ in range(10)
            ]
        assert {r.status_code for r in statuses} == {201}
        assert {r.json()["environment"] for r in statuses} == {"live"}
    with sqlite3.connect(tmp_path / "shared.db") as conn:
        assert conn.execute("SELECT count(*) FROM customers").fetchone()[0] == 10


def test_first_start_makes_one_sandbox_key_and_prints_a_curl_that_works(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh"
    for start in range(2):
        port = free_port()
        argv = [BILLING_KIT, "serve", "--port", str(port), "--data-dir", str(data_dir)]
        with run_server(argv, port, ready_path="/healthz") as server:
            output = server.output()
            assert f"data dir: {data_dir}" in output
            if start == 0:
                assert "Try it:" in output
                curl = output.split("Try it:\n", 1)[1].split("\n\n", 1)[0]
                curl = curl[: curl.index("}'") + 2]  # the command ends with the JSON body's closing quote
                done = subprocess.run(["bash", "-c", curl + " -sS"], capture_output=True, text=True, timeout=30)
                assert done.returncode == 0, done.stderr
                import json

                body = json.loads(done.stdout)
                assert CONTRACT.is_valid_id(body["id"])
                assert body["environment"] == CONTRACT.sandbox_environment
            else:
                assert "Try it:" not in output  # a key exists: no second one
                environments = f"{CONTRACT.sandbox_environment}|{CONTRACT.live_environment}"
                hint = f"billing-kit keys create --env {environments} --data-dir {data_dir}"
                assert hint in output, output
                assert "shown only when it is created" in output
    listed = billing_kit(["keys", "list", "--data-dir", str(data_dir)]).stdout.strip().splitlines()
    assert len(listed) == 1 and CONTRACT.sandbox_environment in listed[0]


def test_serve_on_a_taken_port_is_one_error_line_and_exit_2(tmp_path: Path) -> None:
    import socket

    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        done = subprocess.run(
            [BILLING_KIT, "serve", "--port", str(port), "--data-dir", str(tmp_path / "d")],
            capture_output=True,
            text=True,
            timeout=30,
        )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [f"Error: cannot listen on 127.0.0.1:{port}: Address already in use"]
    assert "Traceback" not in done.stdout + done.stderr


def test_the_readme_curl_is_the_one_serve_prints() -> None:
    from billing_kit.handlers.cli import _curl

    readme = (ROOT / "README.md").read_text()
    printed = _curl("127.0.0.1", 8000, "$BILLING_API_KEY")  # `serve --port 8000`, the key as README exports it
    assert printed in readme, f"README's curl differs from serve's:\n{printed}"
