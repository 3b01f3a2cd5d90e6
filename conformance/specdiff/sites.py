"""Where in a spec document each part of the contract lives, as pointer prefixes.

The request and response schemas, the security scheme, the Idempotency-Key
parameter and the Problem schema are usually `$ref`s into `components`; a change
is read by the part of the contract it falls in, wherever that part is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from billing_kit.conformance.contract import CUSTOMERS_PATH, Contract, SpecError

Parts = tuple[str, ...]
OPERATION: Parts = ("paths", CUSTOMERS_PATH, "post")
JSON_MEDIA = "application/json"


def _follow(contract: Contract, parts: Parts) -> tuple[Parts, Any]:
    """The node at `parts`, its `$ref`s followed: (where it really is, the node)."""
    node: Any = contract.spec
    for part in parts:
        node = node[int(part)] if isinstance(node, list) else node[part]
    seen = 0
    while isinstance(node, dict) and "$ref" in node and seen < 32:
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise SpecError(f"unsupported $ref {ref!r}")
        parts = tuple(p.replace("~1", "/").replace("~0", "~") for p in ref[2:].split("/"))
        node = contract.spec
        for part in parts:
            node = node[part]
        seen += 1
    return parts, node


def _media_schema(contract: Contract, parts: Parts) -> Parts:
    where, node = _follow(contract, parts)
    content = node.get("content", {})
    media = JSON_MEDIA if JSON_MEDIA in content else next(iter(content))
    return _follow(contract, (*where, "content", media, "schema"))[0]


def locate(contract: Contract) -> dict[str, Parts]:
    """Role -> the pointer prefix where that part of the contract lives in this spec."""
    roles: dict[str, Parts] = {}
    attempts: dict[str, Callable[[], Parts]] = {
        "request": lambda: _media_schema(contract, (*OPERATION, "requestBody")),
        "response": lambda: _media_schema(contract, (*OPERATION, "responses", "201")),
        "problem": lambda: _problem(contract),
        "auth": lambda: _security_scheme(contract),
        "idempotency": lambda: _idempotency(contract),
        "limits": lambda: (*OPERATION, "x-limits"),
        "statuses": lambda: (*OPERATION, "responses"),
    }
    for role, find in attempts.items():
        try:
            roles[role] = find()
        except (KeyError, TypeError, IndexError, StopIteration, SpecError, AttributeError):
            continue  # this spec lacks that part: its changes stay for the generic rules
    return roles


def named_fields(contract: Contract, roles: dict[str, Parts]) -> list[tuple[str, Parts, Parts]]:
    """(role, where, inside): a request or response field whose schema is a `$ref` (`Environment`).

    A change at `where` (the named schema) is read as one at `inside` (`properties/environment`)
    of that role; a schema both use is read as the request's, the role listed first.
    """
    out: list[tuple[str, Parts, Parts]] = []
    for role in ("request", "response"):
        if role not in roles:
            continue
        _, schema = _follow(contract, roles[role])
        for name, prop in (schema.get("properties") or {}).items():
            if isinstance(prop, dict) and "$ref" in prop:
                try:
                    where = _follow(contract, (*roles[role], "properties", str(name)))[0]
                except (KeyError, TypeError, IndexError, SpecError):
                    continue
                out.append((role, where, ("properties", str(name))))
    return out


def _problem(contract: Contract) -> Parts:
    for code in contract.operation["responses"]:
        if str(code).isdigit() and int(code) >= 400:
            return _media_schema(contract, (*OPERATION, "responses", str(code)))
    raise KeyError("no error response")


def _security_scheme(contract: Contract) -> Parts:
    for requirement in contract.operation.get("security", contract.spec.get("security", [])):
        for name in requirement:
            return _follow(contract, ("components", "securitySchemes", str(name)))[0]
    raise KeyError("no security scheme")


def _idempotency(contract: Contract) -> Parts:
    for index in range(len(contract.operation.get("parameters", []))):
        where, param = _follow(contract, (*OPERATION, "parameters", str(index)))
        if param.get("in") == "header" and str(param.get("name", "")).lower() == "idempotency-key":
            return where
    raise KeyError("no Idempotency-Key header")
