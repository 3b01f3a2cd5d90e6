"""The operation `create_customer` (routed by Connexion from the spec's operationId).

Minimal on purpose: the guards (handlers/guard.py) have authenticated the key and
validated the body by the time this runs; here the customer is stored and shaped.
The 201 is sent only after the storage has committed.
"""

from __future__ import annotations

import json
from typing import Any

from connexion.context import scope
from starlette.responses import Response

from handlers.guard import Admitted, request_info
from handlers.problems import JSON_TYPE, PROBLEM_TYPE, Problem
from handlers.storage.base import Created, Customer, IdempotencyRequest, KeyReused, NewCustomer, Replayed

REPLAYED_HEADER = "Idempotent-Replayed"


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


def _problem_response(problem: Problem) -> Response:
    return Response(problem.body(), problem.status, dict(problem.headers), media_type=PROBLEM_TYPE)


async def create_customer() -> Response:
    info = request_info(scope)
    admitted: Admitted = info["admitted"]
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
        return _problem_response(problem)
    if isinstance(outcome, KeyReused):
        return _problem_response(Problem(409, "This Idempotency-Key was used with a different request body"))
    headers = {REPLAYED_HEADER: "true"} if isinstance(outcome, Replayed) else {}
    assert isinstance(outcome, Created | Replayed)
    info["customer"] = outcome.customer.id
    body = json.dumps(customer_document(outcome.customer), ensure_ascii=False).encode("utf-8")
    return Response(body, 201, headers, media_type=JSON_TYPE)
