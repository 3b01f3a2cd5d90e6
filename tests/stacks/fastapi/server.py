"""The Customers API written the way a team writes it on FastAPI + pydantic 2, at their defaults.

    python tests/stacks/fastapi/server.py --port 8004 --keys sk_test_a=org_1,sk_live_b=org_1 \
        --contract contract.json --db customers.sqlite3

FastAPI's defaults are kept: no body-size limit, `json.loads` as the parser (it reads
`NaN`, any charset's bytes, a body without Content-Type), a pydantic model with
`Optional[str]` fields, `extra` left at "ignore", `EmailStr` (email-validator), served by
uvicorn. What the team added, as the contract asks: Bearer API keys, problem+json errors
from exception handlers, a nesting-depth check, and Idempotency-Key replays in SQLite.
Runs in its own venv (tests/stacks/fastapi/requirements.txt): it imports nothing of the project.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import secrets
import sqlite3
import threading
from datetime import UTC, datetime
from http import HTTPStatus
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI, Header, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, EmailStr, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

parser = argparse.ArgumentParser()
parser.add_argument("--host", default="127.0.0.1")
parser.add_argument("--port", type=int, required=True)
parser.add_argument("--keys", required=True)
parser.add_argument("--contract", type=Path, required=True)
parser.add_argument("--db", type=Path, required=True)
args = parser.parse_args()

C = json.loads(args.contract.read_text())
MAX_NAME = C["max_lengths"]["name"]
MAX_EXTERNAL_ID = C["max_lengths"]["external_id"]


def environment_of(key: str) -> str | None:
    return next((env for prefix, env in C["key_prefixes"].items() if key.startswith(prefix)), None)


API_KEYS = {key: (org, environment_of(key)) for key, org in (item.split("=") for item in args.keys.split(","))}

db = sqlite3.connect(args.db, check_same_thread=False, isolation_level=None)
db.execute(
    "CREATE TABLE IF NOT EXISTS customers (id TEXT PRIMARY KEY, org_id TEXT, email TEXT, name TEXT,"
    " external_id TEXT, metadata TEXT, environment TEXT, created_at TEXT, updated_at TEXT)"
)
db.execute("CREATE TABLE IF NOT EXISTS idempotency (scope TEXT PRIMARY KEY, fingerprint TEXT, customer_id TEXT)")
lock = threading.Lock()


class CustomerCreate(BaseModel):
    email: EmailStr
    name: str | None = Field(None, max_length=MAX_NAME)
    external_id: str | None = Field(None, max_length=MAX_EXTERNAL_ID)
    metadata: dict[str, Any] = Field(default_factory=dict)


app = FastAPI()


def problem(status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None, headers=None):
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    return JSONResponse(body, status_code=status, media_type="application/problem+json", headers=headers)


@app.exception_handler(RequestValidationError)
async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [{"pointer": "/" + "/".join(str(p) for p in e["loc"][1:]), "detail": e["msg"]} for e in exc.errors()]
    return problem(422, "Unprocessable Entity", "the request body does not match the schema", errors)


@app.exception_handler(StarletteHTTPException)
async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    return problem(exc.status_code, HTTPStatus(exc.status_code).phrase, str(exc.detail), headers=exc.headers)


def depth(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth(v) for v in value), default=0)
    return 0


def row_to_customer(row: tuple[Any, ...]) -> dict[str, Any]:
    keys = ("id", "org_id", "email", "name", "external_id", "metadata", "environment", "created_at", "updated_at")
    customer = dict(zip(keys, row, strict=True))
    customer["metadata"] = json.loads(customer["metadata"])
    return customer


def authenticate(authorization: str | None) -> tuple[str, str, str]:
    scheme, _, token = (authorization or "").partition(" ")
    if scheme != "Bearer" or token not in API_KEYS:
        raise HTTPException(401, "a valid API key is required as a Bearer token", {"WWW-Authenticate": "Bearer"})
    org, environment = API_KEYS[token]
    return token, org, environment or ""


@app.post(C["customers_path"], status_code=201)
def create_customer(
    body: CustomerCreate,
    authorization: str | None = Header(None),
    idempotency_key: str | None = Header(None, max_length=C["idempotency_key_max_length"]),
) -> dict[str, Any]:
    api_key, org, environment = authenticate(authorization)
    if depth(body.metadata) + 1 > C["depth_limit"]:
        raise HTTPException(400, f"nesting deeper than {C['depth_limit']} levels")
    fingerprint = hashlib.sha256(body.model_dump_json().encode()).hexdigest()
    scope = f"{api_key}\n{idempotency_key}"
    with lock:
        if idempotency_key is not None:
            seen = db.execute("SELECT fingerprint, customer_id FROM idempotency WHERE scope = ?", (scope,)).fetchone()
            if seen is not None:
                if seen[0] != fingerprint:
                    raise HTTPException(409, "this Idempotency-Key was used with another body")
                row = db.execute("SELECT * FROM customers WHERE id = ?", (seen[1],)).fetchone()
                return row_to_customer(row)
        now = datetime.now(UTC).isoformat()
        customer = {
            "id": C["id_prefix"] + secrets.token_hex(12),
            "org_id": org,
            "email": body.email,
            "name": body.name,
            "external_id": body.external_id,
            "metadata": body.metadata,
            "environment": environment,
            "created_at": now,
            "updated_at": now,
        }
        db.execute(
            "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (*[customer[k] for k in ("id", "org_id", "email", "name", "external_id")],
             json.dumps(customer["metadata"]), environment, now, now),
        )  # fmt: skip
        if idempotency_key is not None:
            db.execute("INSERT INTO idempotency VALUES (?, ?, ?)", (scope, fingerprint, customer["id"]))
    return customer


if __name__ == "__main__":
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")
