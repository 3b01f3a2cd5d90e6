"""The hostile corpus: byte-level cases kept as data in cases.json, validated by cases.schema.json.

A case's body and header values are lists of parts, concatenated:
`{"text": "..."}` (UTF-8), `{"hex": "c0af"}` (raw bytes), `{"repeat": "[", "times": N}`.
`times` may be `{"limit": "body_bytes", "plus": 1}`: a limit read from the contract in
use, so the corpus never types a spec value again. Big bodies are produced chunk by
chunk and never held in memory whole.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema

from billing_kit.conformance.contract import load_contract

HERE = Path(__file__).parent
CASES_PATH = HERE / "cases.json"
SCHEMA_PATH = HERE / "cases.schema.json"
CHUNK = 64 * 1024
PLACEHOLDERS = ("{sandbox}", "{live}")


def contract_limit(name: str) -> int:
    contract = load_contract()
    derived = {"idempotency_key_max_length": contract.idempotency_key_max_length}
    return derived.get(name) or contract.limits[name]


@dataclass(frozen=True)
class Part:
    data: bytes
    times: int = 1

    @property
    def size(self) -> int:
        return len(self.data) * self.times

    def chunks(self) -> Iterator[bytes]:
        if self.times == 1:
            yield self.data
            return
        per_chunk = max(1, CHUNK // max(1, len(self.data)))
        block = self.data * per_chunk
        full, rest = divmod(self.times, per_chunk)
        for _ in range(full):
            yield block
        if rest:
            yield self.data * rest


def _part(raw: dict[str, Any]) -> Part:
    if "text" in raw:
        return Part(raw["text"].encode("utf-8", "surrogatepass"))
    if "hex" in raw:
        return Part(bytes.fromhex(raw["hex"]))
    times = raw["times"]
    if isinstance(times, dict):
        times = contract_limit(times["limit"]) + int(times.get("plus", 0))
    return Part(raw["repeat"].encode("utf-8"), int(times))


@dataclass(frozen=True)
class Payload:
    parts: tuple[Part, ...]

    @property
    def size(self) -> int:
        return sum(p.size for p in self.parts)

    def chunks(self) -> Iterator[bytes]:
        for part in self.parts:
            yield from part.chunks()

    def materialise(self) -> bytes:
        return b"".join(self.chunks())


@dataclass(frozen=True)
class Expectation:
    status: int
    body: str  # "problem" (application/problem+json), "plain" (the HTTP layer's text) or "json" (a 201)
    pointer: str | None = None


@dataclass(frozen=True)
class Case:
    id: str
    clause: str
    description: str
    request_line: bytes
    headers: tuple[tuple[bytes, Payload], ...]
    body: Payload
    framing: str  # "content-length", "chunked" or "as-is" (the headers say everything)
    expect: Expectation
    slow: bool = False
    rss_growth_max_mib: float | None = None

    def head(self, keys: dict[str, str]) -> bytes:
        """The request line and headers, keys substituted, framing headers added."""
        lines = [self.request_line]
        for name, value in self.headers:
            raw = value.materialise()
            for placeholder in PLACEHOLDERS:
                raw = raw.replace(placeholder.encode(), keys[placeholder].encode())
            lines.append(name + b": " + raw)
        if self.framing == "content-length":
            lines.append(b"Content-Length: " + str(self.body.size).encode())
        elif self.framing == "chunked":
            lines.append(b"Transfer-Encoding: chunked")
        return b"\r\n".join(lines) + b"\r\n\r\n"

    def body_chunks(self) -> Iterator[bytes]:
        if self.framing != "chunked":
            yield from self.body.chunks()
            return
        for chunk in self.body.chunks():
            if chunk:
                yield b"%x\r\n%s\r\n" % (len(chunk), chunk)
        yield b"0\r\n\r\n"


def _payload(raw: Any) -> Payload:
    if isinstance(raw, str):
        return Payload((_part({"text": raw}),))
    return Payload(tuple(_part(p) for p in raw))


def _case(raw: dict[str, Any], defaults: dict[str, Any]) -> Case:
    omitted = {name.lower() for name in raw.get("omit_headers", [])}
    if raw.get("replace_headers"):
        omitted |= {name.lower() for name, _ in raw.get("headers", [])}
    headers = [(n, v) for n, v in defaults["headers"] if n.lower() not in omitted]
    headers += [(n, v) for n, v in raw.get("headers", [])]
    expect = raw["expect"]
    return Case(
        id=raw["id"],
        clause=raw["clause"],
        description=raw["description"],
        request_line=raw.get("request_line", defaults["request_line"]).encode("latin-1"),
        headers=tuple((n.encode("latin-1"), _payload(v)) for n, v in headers),
        body=_payload(raw.get("body", [])),
        framing=raw.get("framing", "content-length"),
        expect=Expectation(expect["status"], expect["body"], expect.get("pointer")),
        slow=raw.get("slow", False),
        rss_growth_max_mib=raw.get("rss_growth_max_mib"),
    )


@cache
def raw_document() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(CASES_PATH.read_text(encoding="utf-8"))
    return doc


def validate() -> None:
    """Raises jsonschema.ValidationError when cases.json breaks its schema."""
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.Draft202012Validator(schema).validate(raw_document())


@cache
def load_cases() -> tuple[Case, ...]:
    doc = raw_document()
    return tuple(_case(raw, doc["defaults"]) for raw in doc["cases"])
