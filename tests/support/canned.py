"""Canned exchanges and a real `CheckContext` for unit tests of the judging functions (no server).

`check_context()` builds a context whose `Client` points at port 9 (nothing listens
there, and the client is closed at once): judging functions never send. `answer(...)`
builds a recorded exchange whose response `json` is already parsed; `raw_answer(...)`
parses real bytes with `jsonsafe.loads`, as the client does. Every spec value
(prefixes, environments, lengths) is read from `CONTRACT`.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from billing_kit.conformance.config import RunConfig
from billing_kit.conformance.context import CheckContext
from billing_kit.conformance.contract import CUSTOMERS_PATH, load_contract
from billing_kit.conformance.http import Budget, Client, ClientOptions
from billing_kit.conformance.jsonsafe import loads
from billing_kit.conformance.model import NOT_JSON, Exchange, RecordedRequest, RecordedResponse
from billing_kit.conformance.redact import Redactor
from billing_kit.conformance.registry import CheckSpec, load_all

CONTRACT = load_contract()
BASE_URL = "http://127.0.0.1:9/v1"  # the discard port: a judging function never sends
URL = BASE_URL + CUSTOMERS_PATH
SANDBOX = CONTRACT.prefix_of_environment(CONTRACT.sandbox_environment) + "a" * 24
LIVE = CONTRACT.prefix_of_environment(CONTRACT.live_environment) + "b" * 24
NOW = "2026-01-15T12:00:00Z"


@cache
def _closed_client() -> Client:
    """One client for every canned context (building one loads the CA bundle: a third of a second)."""
    client = Client(ClientOptions(base_url=BASE_URL), Budget(5), Redactor([]))
    client.close()
    return client


def check_context(**config: Any) -> CheckContext:
    """A real context with a sandbox and a live key (live allowed), its client already closed."""
    load_all()
    options = {"base_url": BASE_URL, "api_key": SANDBOX, "live_key": LIVE, "allow_live": True, **config}
    return CheckContext(CONTRACT, RunConfig(**options), _closed_client(), nonce="n")


def customer(**overrides: Any) -> dict[str, Any]:
    """A conforming 201 body for a sandbox key (override any field)."""
    body: dict[str, Any] = {
        "id": CONTRACT.id_prefix + "0" * 24,
        "email": "a@example.com",
        "name": None,
        "external_id": None,
        "metadata": {},
        "environment": CONTRACT.sandbox_environment,
        "org_id": "org_1",
        "created_at": NOW,
        "updated_at": NOW,
    }
    return {**body, **overrides}


def answer(
    status: int,
    body: Any,
    key_ref: str | None = "api",
    idem: str | None = None,
    media: str = "application/json",
    method: str = "POST",
    headers: dict[str, str] | None = None,
) -> Exchange:
    """An exchange whose response carries `body` (already parsed) as `media`, and `headers`."""
    sent = [("Idempotency-Key", idem)] if idem else []
    raw = json.dumps(body).encode()
    request = RecordedRequest(method, URL, sent, b"{}", 2, key_ref)
    answered = [("Content-Type", media), *(headers or {}).items()]
    response = RecordedResponse(status, answered, raw, False, 0.01, json=body)
    return Exchange(request, response)


def raw_answer(
    status: int,
    raw: bytes,
    headers: list[tuple[str, str]] | None = None,
    *,
    request_headers: list[tuple[str, str]] | None = None,
    sent: Any = None,
    key_ref: str | None = "api",
) -> Exchange:
    """An exchange whose response bytes are parsed with `jsonsafe.loads`, as the client parses them."""
    value, error = loads(raw)
    body = json.dumps(sent).encode() if sent is not None else b""
    request = RecordedRequest("POST", URL, list(request_headers or []), body, len(body), key_ref)
    response = RecordedResponse(
        status,
        list(headers if headers is not None else [("Content-Type", "application/json")]),
        raw,
        False,
        0.01,
        json=NOT_JSON if error else value,
        json_error=error,
    )
    return Exchange(request, response, sent=sent)


def unanswered(error: str = "ConnectError: [Errno 111] Connection refused after 0.00 s") -> Exchange:
    """A request that got no HTTP answer (a transport error)."""
    return Exchange(RecordedRequest("POST", URL, [], b"{}", 2, "api"), None, error=error)


def _noop(_: Any) -> None:
    return None


def check_spec(name: str, *clauses: str, minimum: int | None = None, always: bool = False) -> CheckSpec:
    """A registered-looking check of `clauses` that does nothing (for `runner.fold`)."""
    return CheckSpec(name, clauses, _noop, 50, (), name, minimum=minimum, always=always)


def exchange_with_status(status: int | None) -> Exchange:
    """An answer of `status` with an empty JSON object, or (None) a refused connection."""
    if status is None:
        return unanswered()
    request = RecordedRequest("POST", URL, [], b"{}", 2, "api")
    return Exchange(request, RecordedResponse(status, [], b"{}", False, 0.01))
