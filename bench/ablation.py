"""The reference with one piece taken out at a time, to measure what each piece costs.

Every variant starts from the reference's own `handlers.app.create_app()` and changes one
link of its chain of ASGI wrappers (found by walking `.app`), so the variants follow the
reference as it changes. Served by plain uvicorn (httptools, uvloop), not by `billing-kit
serve`'s deadline protocol:

    full            create_app() as is (so `reference` - `full` = the deadline protocol)
    no_access_log   without the AccessLog wrapper (one JSON log line per request)
    no_connexion    the guard hands admitted requests to a plain ASGI endpoint doing the
                    handler's work (insert, 201), instead of Connexion: what routing,
                    context and the handler's dispatch cost

Run through bench/run.py (`--servers floor,reference,abl-full,abl-no-access-log,…`) or
in process (bench/inprocess.py).
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from billing_kit.handlers import app as reference_app
from billing_kit.handlers.access import access_note
from billing_kit.handlers.customers import customer_document
from billing_kit.handlers.guard import CustomersGuard, admitted_request
from billing_kit.handlers.problems import JSON_TYPE, Problem, send_json, send_problem
from billing_kit.handlers.storage.base import Created, NewCustomer, Replayed


def _find(app: Any, cls: type) -> Any:
    """The first wrapper of type `cls` in the chain app -> app.app -> …"""
    while app is not None and not isinstance(app, cls):
        app = getattr(app, "app", None)
    if app is None:
        raise RuntimeError(f"no {cls.__name__} in the reference's app chain")
    return app


async def _create_endpoint(scope: Scope, receive: Receive, send: Send) -> None:
    """handlers.customers.create_customer's work (no Idempotency-Key), as a bare ASGI app."""
    admitted = admitted_request(scope)
    key, request = admitted.api_key, admitted.request
    new = NewCustomer(key.org_id, key.environment, request.email, request.name, request.external_id, request.metadata)
    try:
        outcome = await admitted.backend.write(admitted.backend.storage.create_customer, new, None)
    except Problem as problem:
        await send_problem(send, problem)
        return
    assert isinstance(outcome, Created | Replayed)
    if (note := access_note(scope)) is not None:
        note.customer = outcome.customer.id
    body = json.dumps(customer_document(outcome.customer), ensure_ascii=False).encode("utf-8")
    await send_json(send, 201, body, JSON_TYPE)


def full() -> ASGIApp:
    return reference_app.create_app()


def no_access_log() -> ASGIApp:
    app = reference_app.create_app()
    inner: ASGIApp = _find(app, reference_app.AccessLog).app
    return inner


def no_connexion() -> ASGIApp:
    app = reference_app.create_app()
    guard = _find(app, CustomersGuard)
    guard.app = _create_endpoint
    if hasattr(guard, "routed"):
        guard.routed = _create_endpoint
    return app
