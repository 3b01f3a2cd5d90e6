"""One observed exchange, as the proxy saw it or a recording holds it.

A `Seen` is what passed on the wire: the request (method, target, headers, the
first bytes of its body and its full size, whether the client finished it) and
the response (status, headers, the first bytes of its body), or why there was
none. `to_exchange` turns it into the suite's `model.Exchange`, so the suite's
own judging code reads traffic exactly as it reads its own requests.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from billing_kit.conformance import jsonsafe
from billing_kit.conformance.model import Exchange, RecordedRequest, RecordedResponse

# Why an exchange has no response.
UPSTREAM_DOWN = "the upstream refused the connection"
UPSTREAM_DROPPED = "the upstream closed the connection without an answer"
UPSTREAM_TIMEOUT = "no answer from the upstream within the timeout"
CLIENT_LEFT = "the client closed its connection before the answer"


@dataclass(slots=True)
class SeenResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytearray = field(default_factory=bytearray)
    body_size: int = 0
    elapsed: float = 0.0

    @property
    def truncated(self) -> bool:
        return self.body_size > len(self.body)


@dataclass(slots=True)
class Seen:
    method: str
    target: str  # path and query as sent
    headers: list[tuple[str, str]]
    body: bytearray = field(default_factory=bytearray)
    body_size: int = 0
    complete: bool = False  # the client sent the whole body
    started: float = 0.0  # loop time of the request head
    response: SeenResponse | None = None
    error: str | None = None

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers if k.lower() == lowered), None)

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> str:
        return self.target.split("?", 1)[1] if "?" in self.target else ""

    @property
    def announced_size(self) -> int:
        """The body size the client announced (Content-Length), or what it sent."""
        length = self.header("content-length")
        if length is not None and length.strip().isdigit():
            return max(int(length.strip()), self.body_size)
        return self.body_size


def to_exchange(seen: Seen, origin: str, key_ref: str | None) -> Exchange:
    body = (
        bytes(seen.body)
        if seen.body_size or seen.header("content-length") or seen.header("transfer-encoding")
        else None
    )
    nesting_bound = jsonsafe.containers(seen.body)
    request = RecordedRequest(
        seen.method, origin + seen.target, list(seen.headers), body, seen.body_size, key_ref, nesting_bound
    )
    if seen.response is None:
        return Exchange(request, None, error=seen.error or "no answer")
    raw = bytes(seen.response.body)
    response = RecordedResponse(
        seen.response.status, list(seen.response.headers), raw, seen.response.truncated, seen.response.elapsed
    )
    if raw and not response.truncated:
        value, why = jsonsafe.loads(raw)
        if why is None:
            response.json = value
        else:
            response.json_error = why
    elif response.truncated:
        response.json_error = f"the body is over {len(raw)} bytes"
    else:
        response.json_error = "an empty body"
    return Exchange(request, response)
