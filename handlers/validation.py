"""The request body against the contract: the spec's schema, then what a schema cannot say.

The schema validator is built once from the spec (OpenAPI 3.0 schema objects turned into
JSON Schema draft 4: `nullable` becomes a `"null"` type, `x-`/doc keywords dropped) and
runs in Rust (jsonschema_rs), which counts `maxLength` in code points as REQ-LEN-1 asks.
Formats are not checked by it: `email` is checked here by email-validator, whose
answer is final (REQ-EMAIL-4), while the address is stored exactly as sent.
Error details name the field and the rule, never the submitted value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from email_validator import EmailNotValidError, validate_email

from billing_kit.handlers.jsonbody import FieldError, pointer_token

_DOC_KEYWORDS = {"example", "examples", "description", "title", "externalDocs", "xml", "discriminator", "deprecated"}
_SCHEMA_KINDS = {"properties", "patternProperties", "definitions"}


def oas_to_json_schema(schema: Any, container: bool = False) -> Any:
    """An OpenAPI 3.0 schema object as plain JSON Schema (draft 4)."""
    if isinstance(schema, list):
        return [oas_to_json_schema(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    if container:  # the keys are property names, not keywords
        return {key: oas_to_json_schema(value) for key, value in schema.items()}
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _DOC_KEYWORDS or key.startswith("x-") or key in {"nullable", "readOnly", "writeOnly"}:
            continue
        out[key] = oas_to_json_schema(value, container=key in _SCHEMA_KINDS)
    if schema.get("nullable") is True and "type" in out:
        types = out["type"] if isinstance(out["type"], list) else [out["type"]]
        out["type"] = [*types, "null"]
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
    return out


@dataclass(frozen=True)
class CreateRequest:
    email: str
    name: str | None
    external_id: str | None
    metadata: dict[str, Any]


def _type_name(types: Any) -> str:
    names = [str(t).lower().split(".")[-1] for t in (types if isinstance(types, list) else [types])]
    article = {"object": "an object", "array": "an array", "integer": "an integer"}
    return " or ".join(article.get(n, f"a {n}") for n in names)


def _detail(error: Any) -> tuple[str, str]:
    """(pointer, detail) for one jsonschema_rs error, without the instance's value."""
    pointer = "".join(f"/{pointer_token(str(part))}" for part in error.instance_path)
    kind = error.kind
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Required):
        return f"{pointer}/{pointer_token(str(kind.property))}", "is required"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.AdditionalProperties):
        names = list(kind.unexpected)
        return f"{pointer}/{pointer_token(str(names[0]))}", "is not a known field"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.MaxLength):
        return pointer, f"longer than {kind.limit} characters (Unicode code points)"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.MinLength):
        return pointer, f"shorter than {kind.limit} characters"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Type):
        return pointer, f"must be {_type_name(kind.types)}"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Enum):
        return pointer, "is not one of the allowed values"
    if isinstance(kind, jsonschema_rs.ValidationErrorKind.Pattern):
        return pointer, "does not match the required pattern"
    return pointer, f"breaks the schema rule {error.schema_path[-1] if error.schema_path else ''}".strip()


def email_problem(address: str) -> str | None:
    """Why `address` is refused, or None. Whitespace and controls are refused outright."""
    if any(ch.isspace() or ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in address):
        return "not a valid email address (whitespace or control character)"
    try:
        validate_email(address, check_deliverability=False)
    except EmailNotValidError:
        return "not a valid email address"
    return None


class RequestValidator:
    """Built once at start-up from the spec's request schema."""

    def __init__(self, request_schema: dict[str, Any], email_fields: list[str]) -> None:
        self._validator = jsonschema_rs.Draft4Validator(oas_to_json_schema(request_schema), validate_formats=False)
        self._email_fields = email_fields

    def errors(self, body: dict[str, Any]) -> list[FieldError]:
        found: list[FieldError] = []
        seen: set[str] = set()
        for error in self._validator.iter_errors(body):
            pointer, detail = _detail(error)
            if pointer not in seen:
                seen.add(pointer)
                found.append(FieldError(pointer, detail))
        for name in self._email_fields:
            value = body.get(name)
            if isinstance(value, str) and f"/{name}" not in seen:
                problem = email_problem(value)
                if problem:
                    found.append(FieldError(f"/{name}", problem))
        return sorted(found, key=lambda e: e.pointer)

    def create_request(self, body: dict[str, Any]) -> CreateRequest:
        """The body as a CreateRequest; call only when `errors` found nothing."""
        return CreateRequest(
            email=body["email"],
            name=body.get("name"),
            external_id=body.get("external_id"),
            metadata=body.get("metadata", {}),
        )
