"""RFC 9457 problem documents (ERR-3), as raw ASGI responses.

Every error the reference sends goes through `problem`: `type`, `title`, `status`,
`detail`, and for body errors an `errors` list of `{pointer, detail}`. Details are
written by the server and never contain more than a short excerpt of what was sent.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import Any

from starlette.types import Send

from billing_kit.handlers.jsonbody import FieldError

PROBLEM_TYPE = "application/problem+json"
JSON_TYPE = "application/json"


class Problem(Exception):
    """An error answer; raised anywhere in request handling, sent by the guard."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: Sequence[FieldError] = (),
        headers: Sequence[tuple[str, str]] = (),
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.headers = list(headers)

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": "about:blank",
            "title": HTTPStatus(self.status).phrase,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            doc["errors"] = [{"pointer": e.pointer, "detail": e.detail} for e in self.errors]
        return doc

    def body(self) -> bytes:
        # ASCII-only: a pointer may name a key holding a lone surrogate, which UTF-8 cannot carry.
        return json.dumps(self.document(), ensure_ascii=True).encode("ascii")


async def send_json(
    send: Send, status: int, body: bytes, content_type: str, headers: Sequence[tuple[str, str]] = ()
) -> None:
    raw_headers = [
        (b"content-type", content_type.encode("latin-1")),
        (b"content-length", str(len(body)).encode("latin-1")),
        *((name.encode("latin-1"), value.encode("latin-1")) for name, value in headers),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def send_problem(send: Send, problem: Problem) -> None:
    await send_json(send, problem.status, problem.body(), PROBLEM_TYPE, problem.headers)
