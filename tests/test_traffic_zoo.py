"""The zoo behind `billing-kit proxy`: a fixed traffic script, each defect flagged where `check` flags it.

A real HTTP client (httpx) sends a mix of valid and invalid creates, a retry
with an Idempotency-Key, a burst of the same keyed create sent at once from
several threads, and another method; the proxy's report must blame the
server on the defect's clause with the verdict `check` gives it (defects.json,
proven by tests/test_zoo.py), and must find nothing against the server on the
conforming zoo servers.
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers import zoo_runner
from tests.support.tools import require
from tests.support.traffic import proxy_in_front

# Defects the script exercises, one per kind of judgement: the answer to a bad request, to a
# valid one, a 201's fields, the run as a whole, the errors, the retries.
EXERCISED = (
    "accepts-null-name",
    "len-off-by-one",
    "email-too-strict",
    "echo-trim",
    "id-wrong-prefix",
    "org-unstable",
    "500-on-missing-content-type",
    "error-not-problem-json",
    "idem-ignored",
    "idem-race",
    "accepts-unknown-field",
)
BURST = 4  # the same keyed create, sent at once from this many threads


def traffic(origin: str, key: str) -> list[int]:
    """The fixed script: what a quite ordinary (and sometimes sloppy) client sends."""
    url = f"{origin}/v1/customers"
    auth = {"Authorization": f"Bearer {key}"}
    retry = {**auth, "Idempotency-Key": f"script-{uuid.uuid4().hex}"}
    statuses = []
    with httpx.Client(timeout=10) as client:
        for body in (
            {"email": "jane@example.com"},
            {
                "email": "O'Brien+tag@example.com",
                "name": "  Zoë  ",
                "external_id": "ext-1",
                "metadata": {"plan": "pro"},
            },
            {"email": "max@mail.example.com", "name": "x" * 256},
            {"email": "null-name@example.com", "name": None},
            {"email": "long@example.com", "name": "x" * 257},
            {"name": "no email"},
            {"email": "no-at.example.com"},
            {"email": "meta@example.com", "metadata": []},
            {"email": "typo@example.com", "emial": "typo@example.com"},
        ):
            statuses.append(client.post(url, json=body, headers=auth).status_code)
        statuses.append(client.post(url, content=b'{"email": "no-type@example.com"}', headers=auth).status_code)
        for _ in range(2):
            statuses.append(client.post(url, json={"email": "retry@example.com"}, headers=retry).status_code)
        statuses.append(client.get(url, headers=auth).status_code)
    statuses += burst(url, {**auth, "Idempotency-Key": f"burst-{uuid.uuid4().hex}"})
    return statuses


def burst(url: str, headers: dict[str, str]) -> list[int]:
    """The same create with the same Idempotency-Key from BURST threads at once (a client retrying eagerly)."""
    ready = threading.Barrier(BURST)
    statuses: list[int] = []

    def send() -> None:
        with httpx.Client(timeout=10) as client:
            ready.wait()
            statuses.append(client.post(url, json={"email": "burst@example.com"}, headers=headers).status_code)

    threads = [threading.Thread(target=send) for _ in range(BURST)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def defect(name: str) -> dict[str, Any]:
    return next(d for d in zoo_runner.defects(zoo_runner.PYTHON) if d["name"] == name)


@pytest.mark.parametrize("name", EXERCISED)
def test_defect_flagged_on_its_clause(name: str, tmp_path: Path) -> None:
    wanted = defect(name)
    with zoo_runner.zoo_server(zoo_runner.PYTHON, name) as target:
        origin = target.base_url.removesuffix("/v1")
        with proxy_in_front(origin, tmp_path) as run:
            traffic(run.origin, target.keys.sandbox)
    server = run.party("server")
    assert server.get(wanted["clause"]) == wanted["verdict"], (server, run.output[-3000:])
    assert run.verdict(wanted["clause"]) == wanted["verdict"]
    assert "Traceback" not in run.output


@pytest.mark.parametrize("flavour", [zoo_runner.STRICT, zoo_runner.LENIENT])
def test_conforming_zoo_server_gets_no_fail(flavour: str, tmp_path: Path) -> None:
    with (
        zoo_runner.zoo_server(zoo_runner.PYTHON, None, flavour=flavour) as target,
        proxy_in_front(target.base_url.removesuffix("/v1"), tmp_path) as run,
    ):
        traffic(run.origin, target.keys.sandbox)
    assert run.party("server") == {}, run.output[-3000:]
    # The script's own mistakes are the client's, on their clauses.
    client = run.party("client")
    for clause in ("REQ-LEN-2", "REQ-LEN-1", "REQ-EMAIL-1", "REQ-EMAIL-3", "REQ-META-1"):
        assert client.get(clause) == "FAIL", client
    assert client.get("REQ-UNKNOWN-1") == "WARN" and client.get("REQ-BODY-2") == "WARN", client
    assert run.returncode == 1  # the client broke MUSTs


def test_conforming_node_zoo_server_gets_no_fail(tmp_path: Path) -> None:
    require("node", "Node.js 20 runs tests/servers/zoo.mjs")
    with (
        zoo_runner.zoo_server(zoo_runner.NODE, None, workdir=tmp_path) as target,
        proxy_in_front(target.base_url.removesuffix("/v1"), tmp_path / "proxy") as run,
    ):
        traffic(run.origin, target.keys.sandbox)
    assert run.party("server") == {}, run.output[-3000:]
