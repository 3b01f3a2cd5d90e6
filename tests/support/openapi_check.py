"""Validate real httpx responses against the contract with openapi-core.

`assert_conforms(response)` checks status (documented), content type, body and
documented headers. A response to a method the path does not document (a 405) is
checked against the POST operation, where the 405 is documented. Requests are matched
to the spec's server (`https://api.billing.io/v1`) whatever host they were sent to.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from urllib.parse import urlsplit

import httpx
from openapi_core import Config, OpenAPI
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.util import json_loads
from werkzeug.datastructures import Headers, ImmutableMultiDict

from billing_kit.conformance.contract import load_contract


@cache
def _openapi() -> OpenAPI:
    # openapi-core parses only application/json as JSON; problem+json is JSON too (RFC 9457).
    config = Config(extra_media_type_deserializers={"application/problem+json": json_loads})
    return OpenAPI.from_dict(load_contract().spec, config=config)


@cache
def _documented_methods(path: str) -> frozenset[str]:
    base = load_contract().base_path
    item = load_contract().spec["paths"].get(path.removeprefix(base), {})
    return frozenset(m for m in item if m in {"get", "put", "post", "delete", "patch", "head", "options"})


class _Request:
    def __init__(self, request: httpx.Request) -> None:
        server = urlsplit(load_contract().server_url)
        self.host_url = f"{server.scheme}://{server.netloc}"
        self.path = request.url.path
        method = request.method.lower()
        self.method = method if method in _documented_methods(self.path) else "post"
        try:
            self.body: bytes | None = request.content
        except httpx.RequestNotRead:  # a streamed (chunked) body
            self.body = None
        self.content_type = request.headers.get("content-type", "").lower()
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(list(request.url.params.multi_items())),
            header=Headers(list(request.headers.items())),
            cookie=ImmutableMultiDict(),
        )


class _Response:
    def __init__(self, response: httpx.Response) -> None:
        self.status_code = response.status_code
        self.content_type = response.headers.get("content-type", "").lower()
        self.headers = Headers(list(response.headers.items()))
        self.data: bytes | None = response.content


def assert_conforms(response: httpx.Response) -> Any:
    """Raise if the response breaks the spec; return its parsed body."""
    _openapi().validate_response(_Request(response.request), _Response(response))
    return response.json() if response.content else None
