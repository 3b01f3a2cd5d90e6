"""A misbehaving client through the proxy to the reference: blamed on the client, answers untouched.

Each sloppy request (`name: null`, an over-long name, no Content-Type, the key
in the query string) is sent twice as the same bytes over a raw socket: once
direct, once through the proxy. The answers must be the same bytes (the Date
header aside), and the report must blame the client on the request's clause.
"""

from __future__ import annotations

import json
import re
import socket
from pathlib import Path

import jsonschema

from billing_kit.conformance.contract import load_contract
from billing_kit.conformance.reports.json_report import load_schema
from tests.support.reference import ReferenceServer
from tests.support.traffic import proxy_in_front

DATE = re.compile(rb"\r\n[Dd]ate: [^\r\n]*")


def raw_request(target: str, key: str | None, body: bytes, content_type: str | None, port: int) -> bytes:
    lines = [f"POST {target} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close"]
    if key is not None:
        lines.append(f"Authorization: Bearer {key}")
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def exchange(port: int, request: bytes) -> bytes:
    """Send `request` and read the whole answer (the request asks the server to close)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def sloppy_requests(key: str) -> dict[str, tuple[str, str | None, bytes, str | None]]:
    """clause -> (target, key, body, content type) of one request breaking it."""
    limit = load_contract().max_lengths["name"]
    return {
        "REQ-LEN-2": ("/v1/customers", key, b'{"email": "a@example.com", "name": null}', "application/json"),
        "REQ-LEN-1": (
            "/v1/customers", key, json.dumps({"email": "b@example.com", "name": "n" * (limit + 1)}).encode(),
            "application/json",
        ),
        "REQ-BODY-2": ("/v1/customers", key, b'{"email": "c@example.com"}', None),
        "AUTH-1": (f"/v1/customers?api_key={key}", None, b'{"email": "d@example.com"}', "application/json"),
    }  # fmt: skip


def test_sloppy_client_blamed_and_answers_unchanged(reference_server: ReferenceServer, tmp_path: Path) -> None:
    key = reference_server.sandbox_key
    cases = sloppy_requests(key)
    with proxy_in_front(reference_server.origin, tmp_path) as run:
        for clause, (target, auth, body, content_type) in cases.items():
            direct = exchange(reference_server.server.port, raw_request(target, auth, body, content_type, run.port))
            proxied = exchange(run.port, raw_request(target, auth, body, content_type, run.port))
            assert DATE.sub(b"", proxied) == DATE.sub(b"", direct), clause
            assert direct.startswith(b"HTTP/1.1 4"), (clause, direct[:200])
    client = run.party("client")
    assert client == {
        "REQ-LEN-2": "FAIL",
        "REQ-LEN-1": "FAIL",
        "REQ-BODY-2": "WARN",
        "AUTH-1": "FAIL",
        "AUTH-2": "FAIL",
    }
    assert run.party("server") == {}, run.output[-2000:]
    assert run.returncode == 1
    jsonschema.Draft202012Validator(load_schema()).validate(run.report)  # the suite's own report format
    messages = [e["message"] for v in run.report["verdicts"] for e in v["evidence"] if e["kind"] == "violation"]
    assert len(messages) >= len(client) and all(m.startswith("[client] ") for m in messages), messages
    # Keys only ever as `sk_test_…abcd`: not in the live lines, the report or the capture.
    for text in (run.output, run.report_path.read_text(), run.capture_path.read_text()):
        assert key not in text
    assert f"{key[:8]}…{key[-4:]}" in run.output
    # The client-side view: each finding names who must fix it.
    lines = [line for line in run.output.splitlines() if line.startswith("client ")]
    assert {line.split()[2] for line in lines} == set(client), lines
