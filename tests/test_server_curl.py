"""The documentation page's two curl examples, run with the real `curl` against the reference."""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

import httpx
import pytest

from billing_kit.conformance.contract import load_contract
from tests.support.openapi_check import assert_conforms
from tests.support.reference import ReferenceServer
from tests.support.tools import require

CONTRACT = load_contract()
PAGE_BODY = """
{
  "email": "user@example.com",
  "name": "Jane Doe",
  "external_id": "usr_12345",
  "metadata": {}
}
"""
ALICE_BODY = """{
    "email": "alice@example.com",
    "name": "Alice Johnson",
    "external_id": "usr_12345",
    "metadata": { "plan": "pro" }
  }"""


@pytest.fixture(autouse=True)
def _curl_installed() -> None:
    require("curl")


def _run_curl(argv: list[str], env: dict[str, str] | None = None, shell: bool = False) -> tuple[int, str, bytes]:
    """Run curl, returning (status, content type, body); `-sS -i` added to read the answer."""
    done = subprocess.run(
        argv if not shell else " ".join(argv),
        capture_output=True,
        timeout=30,
        check=True,
        env={**os.environ, **(env or {})},
        shell=shell,
    )
    head, _, body = done.stdout.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    content_type = next(v for k, v in headers.items() if k.lower() == "content-type")
    return status, content_type, body


def _check_created(url: str, status: int, content_type: str, body: bytes, sent: str, environment: str) -> None:
    response = httpx.Response(
        status,
        headers={"content-type": content_type},
        content=body,
        request=httpx.Request("POST", url, headers={"content-type": "application/json"}, content=sent.encode()),
    )
    assert status == 201, body[:300]
    created: dict[str, Any] = assert_conforms(response)
    assert set(CONTRACT.response_fields) <= set(created)
    assert CONTRACT.is_valid_id(created["id"])
    assert created["id"].startswith(CONTRACT.id_prefix)
    assert created["environment"] == environment
    assert created["created_at"] == created["updated_at"]
    expected = json.loads(sent)
    for name in ("email", "name", "external_id", "metadata"):
        assert created[name] == expected[name]


def test_the_pages_first_example(reference_server: ReferenceServer) -> None:
    url = f"{reference_server.base_url}/customers"
    argv = [
        "curl", "-sS", "-i",
        "--request", "POST",
        "--url", url,
        "--header", f"Authorization: Bearer {reference_server.sandbox_key}",
        "--header", "Content-Type: application/json",
        "--data", PAGE_BODY,
    ]  # fmt: skip
    status, content_type, body = _run_curl(argv)
    _check_created(url, status, content_type, body, PAGE_BODY, "sandbox")


def test_the_pages_second_example_with_the_key_from_the_environment(reference_server: ReferenceServer) -> None:
    url = f"{reference_server.base_url}/customers"
    argv = [
        "curl", "-sS", "-i", "-X", "POST", url,
        "-H", '"Authorization: Bearer $BILLING_API_KEY"',
        "-H", '"Content-Type: application/json"',
        "-d", f"'{ALICE_BODY}'",
    ]  # fmt: skip
    status, content_type, body = _run_curl(argv, env={"BILLING_API_KEY": reference_server.live_key}, shell=True)
    _check_created(url, status, content_type, body, ALICE_BODY, "live")
