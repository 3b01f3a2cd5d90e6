"""The guards in front of `POST /v1/customers`, as one ASGI middleware.

In order, each answering a problem+json and nothing further on failure:
405 (`Allow: POST`) for any other method; 401 (`WWW-Authenticate: Bearer`) unless the
`Authorization` header is `Bearer <active key>`; 415 unless the Content-Type is
`application/json` with no charset or UTF-8; 413 when the announced Content-Length, or
the bytes received so far of a chunked body, pass the limit (the rest is never read
into memory: uvicorn discards it so the client can read the answer); 400 for an
Idempotency-Key outside 1..255 characters, a body that arrives too slowly, a body that
is not strict JSON, or a body that breaks the schema or the email rule.

Everything here is built once at start-up; the body is read and parsed once. What
passed is handed, through Connexion's routing, to the operation as one typed value,
`Admitted`, read with `admitted_request(scope)`. The key's display form goes to the
access log on its own channel (handlers/access.py).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from billing_kit.conformance.contract import CUSTOMERS_PATH, Contract
from billing_kit.handlers import keys
from billing_kit.handlers.access import access_note
from billing_kit.handlers.backend import Backend
from billing_kit.handlers.jsonbody import BodyError, parse_object
from billing_kit.handlers.problems import Problem, send_problem
from billing_kit.handlers.storage.base import ApiKey
from billing_kit.handlers.validation import CreateRequest, RequestValidator

AUTH_DETAIL = "A valid API key is required as a Bearer token"
SCOPE_KEY = "billing.admitted"


@dataclass(frozen=True)
class Admitted:
    """A create request that passed every guard."""

    api_key: ApiKey
    request: CreateRequest
    idempotency_key: str | None
    body_sha256: str | None
    backend: Backend


def admitted_request(scope: Scope) -> Admitted:
    """What the guard admitted for this request (the operation runs only behind the guard)."""
    value: Admitted = scope[SCOPE_KEY]
    return value


def _unauthorized(presented: bool) -> Problem:
    challenge = 'Bearer error="invalid_token"' if presented else "Bearer"
    return Problem(401, AUTH_DETAIL, headers=[("WWW-Authenticate", challenge)])


def _media_type_ok(value: str) -> bool:
    media_type, *params = value.split(";")
    if media_type.strip().lower() != "application/json":
        return False
    for param in params:
        name, _, arg = param.partition("=")
        if name.strip().lower() == "charset" and arg.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def canonical_sha256(body: dict[str, Any]) -> str:
    """The body's identity for IDEM-1/2: key order and whitespace do not matter."""
    text = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class CustomersGuard:
    def __init__(self, app: ASGIApp, backend: Backend, contract: Contract, routed: ASGIApp | None = None) -> None:
        self.app = app
        # Where an admitted request goes: by default `app`, else the inner stack from Connexion's
        # routing inward (handlers/dispatch.py), past layers with nothing to do for it.
        self.routed = routed or app
        self.backend = backend
        self.path = contract.base_path + CUSTOMERS_PATH
        self.body_limit = contract.body_bytes_limit
        self.depth_limit = contract.nesting_depth_limit
        self.body_timeout = contract.body_timeout_seconds
        self.idempotency_max = contract.idempotency_key_max_length
        self.idempotency_min = int(contract.idempotency_header["schema"].get("minLength", 1))
        email_fields = [
            name for name in contract.request_fields if contract.request_property(name).get("format") == "email"
        ]
        self.validator = RequestValidator(contract.request_schema, email_fields)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        try:
            admitted, body = await self._admit(scope, receive)
        except Problem as problem:
            await send_problem(send, problem)
            return
        except _Disconnected:
            return
        scope[SCOPE_KEY] = admitted
        await self.routed(scope, _replay(body, receive), send)

    async def _admit(self, scope: Scope, receive: Receive) -> tuple[Admitted, bytes]:
        if scope["method"] != "POST":
            raise Problem(405, "Only POST is allowed on this path", headers=[("Allow", "POST")])
        headers: dict[bytes, list[bytes]] = {}
        for name, value in scope["headers"]:
            headers.setdefault(name, []).append(value)
        api_key = await self._authenticate(scope, headers.get(b"authorization", []))
        content_types = headers.get(b"content-type", [])
        if len(content_types) != 1 or not _media_type_ok(content_types[0].decode("latin-1")):
            raise Problem(415, "Send the body as application/json (UTF-8)")
        idempotency_key = self._idempotency_key(headers.get(b"idempotency-key"))
        body = await self._read_body(headers.get(b"content-length", []), receive)
        try:
            parsed = parse_object(body, self.depth_limit)
        except BodyError as exc:
            raise Problem(400, exc.detail, exc.errors) from None
        errors = self.validator.errors(parsed)
        if errors:
            detail = f"{errors[0].pointer}: {errors[0].detail}" if len(errors) == 1 else "The body breaks the schema"
            raise Problem(400, detail, errors)
        digest = canonical_sha256(parsed) if idempotency_key is not None else None
        admitted = Admitted(api_key, self.validator.create_request(parsed), idempotency_key, digest, self.backend)
        return admitted, body

    async def _authenticate(self, scope: Scope, values: list[bytes]) -> ApiKey:
        if len(values) != 1:
            raise _unauthorized(presented=bool(values))
        scheme, _, token = values[0].decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token or not token.isprintable() or " " in token:
            raise _unauthorized(presented=True)
        note = access_note(scope)
        if note is not None:
            note.key = keys.display_form(token)
        api_key = await self.backend.read(keys.authenticate, self.backend.storage, token)
        if api_key is None:
            raise _unauthorized(presented=True)
        return api_key

    def _idempotency_key(self, values: list[bytes] | None) -> str | None:
        if values is None:
            return None
        if len(values) != 1:
            raise Problem(400, "Send at most one Idempotency-Key header")
        key = values[0].decode("latin-1")
        if not self.idempotency_min <= len(key) <= self.idempotency_max:
            raise Problem(
                400, f"The Idempotency-Key header must be {self.idempotency_min} to {self.idempotency_max} characters"
            )
        return key

    async def _read_body(self, lengths: list[bytes], receive: Receive) -> bytes:
        too_large = Problem(413, f"The request body is larger than {self.body_limit} bytes")
        if lengths and lengths[0].isdigit() and int(lengths[0]) > self.body_limit:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        raise _Disconnected
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > self.body_limit:
                        raise too_large
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        return b"".join(chunks)
        except TimeoutError:
            raise Problem(
                400,
                f"The request body did not arrive within {self.body_timeout:g} seconds",
                headers=[("Connection", "close")],
            ) from None


class _Disconnected(Exception):
    """The client went away while sending its body: nothing to answer."""


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
