"""handlers/dispatch.py: Connexion still routes the spec's operation, by the spec's operationId.

The app is called in process as ASGI (no HTTP needed to see which function Connexion
picked): the spec is the contract with its operationId pointed at a probe here, so a
request reaches the probe only if Connexion's router matched the path and method and its
resolver resolved the operationId from the spec. Everything else is served by real
servers in the test_server_* tests.
"""

from __future__ import annotations

import asyncio
import copy
import json
import warnings
from typing import Any

from starlette.types import Message, Receive, Scope, Send

from billing_kit.conformance.contract import CUSTOMERS_PATH, load_contract

PROBE_OPERATION = "probe_operation"
calls: list[dict[str, Any]] = []


async def probe_operation(scope: Scope, _receive: Receive, send: Send) -> None:
    calls.append(dict(scope["extensions"]["connexion_routing"]))
    await send({"type": "http.response.start", "status": 299, "headers": []})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


def _app_for_probe() -> Any:
    contract = load_contract()
    spec = copy.deepcopy(contract.spec)
    operation = spec["paths"][CUSTOMERS_PATH]["post"]
    operation["x-openapi-router-controller"] = __name__
    operation["operationId"] = PROBE_OPERATION
    with warnings.catch_warnings():
        # Connexion's own imports and spec loading warn (starlette.testclient, jsonschema.RefResolver).
        warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
        warnings.filterwarnings("ignore", message="jsonschema.*deprecated", category=DeprecationWarning)
        from billing_kit.handlers.dispatch import connexion_app

        app = connexion_app(spec, contract.base_path)
        app.routed_entry()  # builds the stack, which loads the spec again
    return app, contract.base_path


def _call(app: Any, method: str, path: str) -> tuple[int, bytes]:
    sent: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"test"), (b"content-type", b"application/json")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return int(sent[0]["status"]), body


def test_the_guards_entry_reaches_the_operation_connexion_routed_from_the_spec() -> None:
    app, base_path = _app_for_probe()
    calls.clear()
    assert _call(app.routed_entry(), "POST", base_path + CUSTOMERS_PATH)[0] == 299
    assert calls == [{"api_base_path": base_path, "operation_id": f"{__name__}.{PROBE_OPERATION}"}]


def test_the_whole_stack_routes_the_same_operation_and_answers_other_paths_itself() -> None:
    app, base_path = _app_for_probe()
    calls.clear()
    assert _call(app, "POST", base_path + CUSTOMERS_PATH)[0] == 299
    assert len(calls) == 1
    status, body = _call(app, "POST", base_path + "/not-in-the-spec")
    assert status == 404 and json.loads(body)["status"] == 404
    assert _call(app, "GET", base_path + "/openapi.json")[0] == 200
    assert len(calls) == 1
