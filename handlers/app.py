"""The reference server: a Connexion AsyncApp built from the contract, with guards in front.

    access log -> /healthz -> CustomersGuard -> Connexion (errors, Swagger UI, routing, context)
                                   | admitted   -> Connexion (routing, context)
                                                -> handlers.customers.create_customer

Connexion routes the spec's operation, serves the spec at `/v1/openapi.json` and the
Swagger UI at `/v1/ui`, and renders its own errors (404, …) as problem+json. Its
security and request-validation middlewares are left out: the guard does both, with a
validator built once and the body parsed once (Connexion's rebuilds its validator and
parses the body again on every request). An admitted create enters Connexion at its
routing layer, and the routed operation is called without Connexion's per-request
decorators (handlers/dispatch.py).

`create_app` is the uvicorn factory: each worker process calls it, reading the database
URL from `$BILLING_DB_URL` (set by `billing-kit serve`).
"""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import sys
import time
import warnings
from typing import Any, TextIO

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from billing_kit.handlers.access import open_note
from billing_kit.handlers.backend import Backend
from billing_kit.handlers.guard import CustomersGuard
from billing_kit.handlers.problems import JSON_TYPE, Problem, send_json, send_problem
from billing_kit.handlers.settings import resolve
from billing_kit.handlers.spec import contract, new_customer_id
from billing_kit.handlers.storage import open_storage
from billing_kit.handlers.storage.base import Storage

HEALTH_PATH = "/healthz"
access_log = logging.getLogger("billing.access")
# Set by _configure_logging: request lines are written straight to it (one line-buffered
# write), skipping the LogRecord that `logging` builds per call, caller lookup included.
_access_stream: TextIO | None = None


class Health:
    """`/healthz`, outside the API: 200 when the database answers, else 503."""

    def __init__(self, app: ASGIApp, backend: Backend) -> None:
        self.app = app
        self.backend = backend

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != HEALTH_PATH:
            await self.app(scope, receive, send)
            return
        try:
            await self.backend.read(self.backend.storage.find_key, "")
        except Problem as problem:
            await send_problem(send, problem)
            return
        await send_json(send, 200, b'{"status":"ok"}', JSON_TYPE)


class AccessLog:
    """One JSON line per request; the key only ever in display form (`sk_test_…abcd`).

    It is also the last line of defence: an exception that escapes everything else
    becomes a problem+json 500 (a bug, logged with its traceback), never a dropped reply.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 0
        note = open_note(scope)

        async def logged_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, logged_send)
        except Exception:
            access_log.exception("unhandled error")
            if status == 0:
                status = 500
                await send_problem(send, Problem(500, "Internal error; it has been logged"))
        line: dict[str, Any] = {
            "ts": round(time.time(), 3),
            "method": scope["method"],
            "path": scope["path"][:200],
            "status": status,
            "ms": round((time.perf_counter() - started) * 1000, 3),
        }
        if note.key is not None:
            line["key"] = note.key
        if note.customer is not None:
            line["customer"] = note.customer
        text = json.dumps(line, ensure_ascii=False)
        if _access_stream is None:
            access_log.info(text)
            return
        with contextlib.suppress(OSError, ValueError):  # stdout gone: as logging does, never fail a request
            _access_stream.write(text + "\n")


def _configure_logging() -> None:
    global _access_stream
    if not access_log.handlers:
        # UTF-8 whatever the locale, so `sk_test_…abcd` is printed as such.
        stream = open(sys.stdout.fileno(), "w", encoding="utf-8", errors="backslashreplace", closefd=False, buffering=1)  # noqa: SIM115
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(message)s"))
        access_log.addHandler(handler)
        access_log.setLevel(logging.INFO)
        access_log.propagate = False
        _access_stream = stream


def build_app(storage: Storage) -> ASGIApp:
    """The whole server around one storage backend."""
    with warnings.catch_warnings():
        # Connexion imports starlette.testclient, which warns about httpx; the server never uses it.
        warnings.filterwarnings("ignore", message=".*starlette.testclient.*")
        from billing_kit.handlers.dispatch import connexion_app

    spec = contract()
    backend = Backend(storage)
    app = connexion_app(copy.deepcopy(spec.spec), spec.base_path)
    return AccessLog(Health(CustomersGuard(app, backend, spec, routed=app.routed_entry()), backend))


def create_app() -> ASGIApp:
    """uvicorn factory: the database from the environment (`billing-kit serve` sets it)."""
    _configure_logging()
    return build_app(open_storage(resolve().db_url, new_customer_id))
