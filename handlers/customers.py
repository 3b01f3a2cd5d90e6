"""The operation `create_customer` (routed by Connexion from the spec's operationId).

Minimal on purpose: the guards (handlers/guard.py) have authenticated the key and
validated the body by the time this runs; here the customer is stored and shaped.
The 201 is sent only after the storage has committed. It is called as an ASGI app by
handlers/dispatch.py; `admitted_request(scope)` is what the guard let through, and the
customer's id goes to the access log's note.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Receive, Scope, Send

from billing_kit.handlers.access import access_note
from billing_kit.handlers.guard import admitted_request
from billing_kit.handlers.problems import JSON_TYPE, Problem, send_json, send_problem
from billing_kit.handlers.storage.base import Created, Customer, IdempotencyRequest, KeyReused, NewCustomer, Replayed

REPLAYED_HEADER = "Idempotent-Replayed"
_REPLAYED = [(REPLAYED_HEADER.lower(), "true")]  # lower case on the wire, as Starlette sent it


def _timestamp(customer_time: Any) -> str:
    return str(customer_time.isoformat(timespec="microseconds")).replace("+00:00", "Z")


def customer_document(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.id,
        "org_id": customer.org_id,
        "email": customer.email,
        "name": customer.name,
        "external_id": customer.external_id,
        "metadata": customer.metadata,
        "environment": customer.environment,
        "created_at": _timestamp(customer.created_at),
        "updated_at": _timestamp(customer.updated_at),
    }


async def create_customer(scope: Scope, _receive: Receive, send: Send) -> None:
    admitted = admitted_request(scope)
    key, request = admitted.api_key, admitted.request
    new = NewCustomer(
        org_id=key.org_id,
        environment=key.environment,
        email=request.email,
        name=request.name,
        external_id=request.external_id,
        metadata=request.metadata,
    )
    idempotency = None
    if admitted.idempotency_key is not None and admitted.body_sha256 is not None:
        idempotency = IdempotencyRequest(key.id, admitted.idempotency_key, admitted.body_sha256)
    try:
        outcome = await admitted.backend.write(admitted.backend.storage.create_customer, new, idempotency)
    except Problem as problem:
        await send_problem(send, problem)
        return
    if isinstance(outcome, KeyReused):
        await send_problem(send, Problem(409, "This Idempotency-Key was used with a different request body"))
        return
    assert isinstance(outcome, Created | Replayed)
    headers = _REPLAYED if isinstance(outcome, Replayed) else []
    note = access_note(scope)
    if note is not None:
        note.customer = outcome.customer.id
    body = json.dumps(customer_document(outcome.customer), ensure_ascii=False).encode("utf-8")
    await send_json(send, 201, body, JSON_TYPE, headers)
