"""What a user would pick instead: FastAPI + pydantic, doing the reference's work.

The request model is built from the contract's request schema (field names, required,
`maxLength`, no extra fields, strict types), the email is checked by the reference's
email check (email-validator, deliverability off), the key lookup and the insert are the
reference's (`handlers.keys.authenticate`, the same `Backend` and `SQLiteStorage`), and the
answer is the same document. Needs `bench/requirements.txt` (FastAPI).

Run by bench/run.py as `uvicorn bench.fastapi_app:create_app --factory`. No
`from __future__ import annotations` here: FastAPI must see the model built at run time.
"""

import json
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, HTTPException
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field, create_model, field_validator

from billing_kit.conformance.contract import CUSTOMERS_PATH, Contract, load_contract
from billing_kit.handlers import keys, spec
from billing_kit.handlers.backend import Backend
from billing_kit.handlers.customers import customer_document
from billing_kit.handlers.problems import JSON_TYPE
from billing_kit.handlers.settings import resolve
from billing_kit.handlers.storage import open_storage
from billing_kit.handlers.storage.base import ApiKey, Created, NewCustomer, Replayed
from billing_kit.handlers.validation import email_problem

_PYTHON_TYPES: dict[str, Any] = {"string": str, "object": dict[str, Any]}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def request_model(contract: Contract) -> type[BaseModel]:
    """A pydantic model of the contract's request body."""
    fields: dict[str, Any] = {}
    email_fields = []
    for name in contract.request_fields:
        prop = contract.request_property(name)
        python_type = _PYTHON_TYPES[prop["type"]]
        if prop.get("format") == "email":
            email_fields.append(name)
        constraint = Field(max_length=prop["maxLength"]) if "maxLength" in prop else Field()
        if name in contract.required_request_fields:
            fields[name] = (Annotated[python_type, constraint], ...)
        elif prop["type"] == "object":
            fields[name] = (Annotated[python_type, constraint], Field(default_factory=dict))
        else:
            # Absent is None; an explicit null is still refused (the type is str, strict).
            fields[name] = (Annotated[python_type, constraint], None)

    def check_email(value: str) -> str:
        problem = email_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    validators = {"check_email": field_validator(*email_fields)(check_email)} if email_fields else {}
    model: type[BaseModel] = create_model("CustomerCreate", __base__=_Strict, __validators__=validators, **fields)
    return model


def create_app() -> FastAPI:
    contract = load_contract()
    storage = open_storage(resolve().db_url, spec.new_customer_id)
    backend = Backend(storage)
    model = request_model(contract)

    def api_key(authorization: Annotated[str, Header()] = "") -> ApiKey:
        scheme, _, token = authorization.partition(" ")
        found = keys.authenticate(storage, token) if scheme.lower() == "bearer" and token else None
        if found is None:
            raise HTTPException(401, "A valid API key is required", headers={"WWW-Authenticate": "Bearer"})
        return found

    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    async def create(body: model, key: Annotated[ApiKey, Depends(api_key)]) -> Response:  # type: ignore[valid-type]
        fields: dict[str, Any] = body.model_dump()  # type: ignore[attr-defined]
        new = NewCustomer(
            org_id=key.org_id,
            environment=key.environment,
            email=fields["email"],
            name=fields.get("name"),
            external_id=fields.get("external_id"),
            metadata=fields.get("metadata") or {},
        )
        outcome = await backend.write(storage.create_customer, new, None)
        assert isinstance(outcome, Created | Replayed)
        document = json.dumps(customer_document(outcome.customer), ensure_ascii=False).encode("utf-8")
        return Response(document, 201, media_type=JSON_TYPE)

    app.add_api_route(contract.base_path + CUSTOMERS_PATH, create, methods=["POST"], status_code=201)
    return app
