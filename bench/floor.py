"""The floor: the reference's work for `POST /v1/customers`, with no framework but Starlette.

Same key lookup (`handlers.keys.authenticate`: SHA-256 of the token, one indexed read),
same strict JSON parse and validator (`handlers.jsonbody`, `handlers.validation`, whose
email check is email-validator with deliverability off), same insert through the same
`Backend` and `SQLiteStorage` (WAL, `synchronous=FULL`, one writer thread), same response
document. The checks run by hand, in the reference guard's order, with no middleware: what
the reference costs beyond this is the framework and its plumbing.

Run by bench/run.py as `uvicorn bench.floor:create_app --factory` with `$BILLING_DB_URL`.
"""

from __future__ import annotations

import json

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from billing_kit.conformance.contract import CUSTOMERS_PATH, load_contract
from billing_kit.handlers import keys, spec
from billing_kit.handlers.backend import Backend
from billing_kit.handlers.customers import customer_document
from billing_kit.handlers.guard import canonical_sha256
from billing_kit.handlers.jsonbody import BodyError, parse_object
from billing_kit.handlers.problems import JSON_TYPE, PROBLEM_TYPE, Problem
from billing_kit.handlers.settings import resolve
from billing_kit.handlers.storage import open_storage
from billing_kit.handlers.storage.base import Created, IdempotencyRequest, KeyReused, NewCustomer, Replayed
from billing_kit.handlers.validation import RequestValidator


def _problem(problem: Problem) -> Response:
    return Response(problem.body(), problem.status, dict(problem.headers), media_type=PROBLEM_TYPE)


def create_app() -> Starlette:
    contract = load_contract()
    storage = open_storage(resolve().db_url, spec.new_customer_id)
    backend = Backend(storage)
    email_fields = [n for n in contract.request_fields if contract.request_property(n).get("format") == "email"]
    validator = RequestValidator(contract.request_schema, email_fields)
    body_limit = contract.body_bytes_limit
    depth_limit = contract.nesting_depth_limit
    unauthorized = Problem(401, "A valid API key is required", headers=[("WWW-Authenticate", "Bearer")])

    async def create(request: Request) -> Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return _problem(unauthorized)
        api_key = keys.authenticate(storage, token)
        if api_key is None:
            return _problem(unauthorized)
        if request.headers.get("content-type", "").split(";")[0].strip().lower() != JSON_TYPE:
            return _problem(Problem(415, "Send the body as application/json"))
        body = await request.body()
        if len(body) > body_limit:
            return _problem(Problem(413, "The request body is too large"))
        try:
            parsed = parse_object(body, depth_limit)
        except BodyError as exc:
            return _problem(Problem(400, exc.detail, exc.errors))
        errors = validator.errors(parsed)
        if errors:
            return _problem(Problem(400, "The body breaks the schema", errors))
        fields = validator.create_request(parsed)
        new = NewCustomer(
            api_key.org_id, api_key.environment, fields.email, fields.name, fields.external_id, fields.metadata
        )
        idempotency_key = request.headers.get("idempotency-key")
        idempotency = None
        if idempotency_key is not None:
            idempotency = IdempotencyRequest(api_key.id, idempotency_key, canonical_sha256(parsed))
        try:
            outcome = await backend.write(storage.create_customer, new, idempotency)
        except Problem as problem:
            return _problem(problem)
        if isinstance(outcome, KeyReused):
            return _problem(Problem(409, "This Idempotency-Key was used with a different request body"))
        assert isinstance(outcome, Created | Replayed)
        document = json.dumps(customer_document(outcome.customer), ensure_ascii=False).encode("utf-8")
        return Response(document, 201, media_type=JSON_TYPE)

    async def health(_request: Request) -> Response:
        return Response(b'{"status":"ok"}', 200, media_type=JSON_TYPE)

    routes = [Route(contract.base_path + CUSTOMERS_PATH, create, methods=["POST"]), Route("/healthz", health)]
    return Starlette(routes=routes)
