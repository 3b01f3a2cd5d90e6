"""The "before" baseline: stock Connexion 3.3 AsyncApp on the contract, default middlewares.

Connexion's own security (a bearer-info function doing the reference's key lookup) and
request validation (its jsonschema Draft 4 validator) run; the handler adds the email
check the reference makes (email-validator, deliverability off) and does the same insert
through the same `Backend` and `SQLiteStorage`, answering the same document.

Run by bench/run.py as `uvicorn bench.connexion_stock:create_app --factory`.
"""

from __future__ import annotations

import copy
from typing import Any

from connexion import AsyncApp
from connexion.problem import problem as connexion_problem
from connexion.resolver import Resolver

from billing_kit.conformance.contract import load_contract
from billing_kit.handlers import keys
from billing_kit.handlers.backend import Backend
from billing_kit.handlers.customers import customer_document
from billing_kit.handlers.problems import JSON_TYPE
from billing_kit.handlers.settings import resolve
from billing_kit.handlers.spec import new_customer_id
from billing_kit.handlers.storage import open_storage
from billing_kit.handlers.storage.base import Created, NewCustomer, Replayed
from billing_kit.handlers.validation import email_problem

_state: dict[str, Backend] = {}


def bearer_info(token: str) -> dict[str, Any] | None:
    backend = _state["backend"]
    api_key = keys.authenticate(backend.storage, token)
    return None if api_key is None else {"sub": api_key.org_id, "api_key": api_key}


async def create_customer(body: dict[str, Any], token_info: dict[str, Any]) -> Any:
    problem = email_problem(body["email"])
    if problem:
        return connexion_problem(400, "Bad Request", f"/email: {problem}")
    api_key = token_info["api_key"]
    backend = _state["backend"]
    new = NewCustomer(
        org_id=api_key.org_id,
        environment=api_key.environment,
        email=body["email"],
        name=body.get("name"),
        external_id=body.get("external_id"),
        metadata=body.get("metadata", {}),
    )
    outcome = await backend.write(backend.storage.create_customer, new, None)
    assert isinstance(outcome, Created | Replayed)
    return customer_document(outcome.customer), 201, {"Content-Type": JSON_TYPE}


def create_app() -> AsyncApp:
    contract = load_contract()
    _state["backend"] = Backend(open_storage(resolve().db_url, new_customer_id))
    spec = copy.deepcopy(contract.spec)
    for scheme in spec["components"]["securitySchemes"].values():
        scheme["x-bearerInfoFunc"] = f"{__name__}.bearer_info"
    app = AsyncApp(__name__)
    app.add_api(spec, base_path=contract.base_path, resolver=Resolver(lambda _operation_id: create_customer))
    return app
